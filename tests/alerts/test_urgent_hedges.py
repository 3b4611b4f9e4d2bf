"""Scoring stage to urgent alert on a real database: a worry is no incident, a report is."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlmodel import select

from alerts.detect import detect_alerts
from nlp.pipeline import score_pending
from storage.models import Alert, Brand, Mention, MentionAnalysis, Source, Store
from tests.nlp.test_nlp_pipeline import FakeModel  # the urgent terms, not the model, decide these alerts

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)


def test_a_hedged_mention_raises_no_urgent_alert_and_a_real_report_does(db):
    texts = {
        "worry": ("s1", "有点担心杨枝甘露喝了会不会拉肚子"),
        "wish": ("s1", "第一次喝杨枝甘露，希望不要拉肚子"),
        "condition": ("s1", "如果杨枝甘露里有头发就直接投诉"),
        "report": ("s2", "担心的事还是发生了，喝完杨枝甘露拉肚子一晚上"),
    }
    with db.session() as s:
        s.add(Brand(id="b", name="声声乌龙", aliases=[], exclude=[]))
        for store in ("s1", "s2"):
            s.add(Store(id=store, brand_id="b", name=f"声声乌龙{store}店", aliases=[], region_id="east"))
            s.add(Source(id=f"dp-{store}", type="file", platform="dianping", store_id=store))
        s.flush()
        for i, (ext, (store, text)) in enumerate(texts.items()):
            at = NOW - timedelta(hours=4 - i)
            s.add(Mention(source_id=f"dp-{store}", external_id=ext, platform="dianping", text=text,
                          published_at=at, collected_at=at, content_hash=ext))

    assert score_pending(db, model=FakeModel(), now=NOW) == 4
    summary = detect_alerts(db, now=NOW)

    with db.session() as s:
        flagged = {m.external_id: a.urgent for a, m in s.exec(
            select(MentionAnalysis, Mention).where(MentionAnalysis.mention_id == Mention.id))}
        urgent = s.exec(select(Alert).where(Alert.kind == "urgent")).all()
    assert flagged == {"worry": False, "wish": False, "condition": False, "report": True}
    assert summary.urgent_opened == 1
    assert [(a.scope_type, a.scope_id, a.evidence["terms"], a.evidence["count"]) for a in urgent] == [
        ("store", "s2", ["拉肚子"], 1)]
