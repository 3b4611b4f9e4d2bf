"""Retention on every backend: pruning raw text leaves every historic figure as it was."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from sqlmodel import select

from alerts.rollups import update_rollups
from dashboard import queries as q
from dashboard.access import local_admin
from dashboard.scope import Filters, Scope
from storage.models import Alert, AuditEvent, Mention, MentionTouchpoint, RollupDirty
from storage.retention import PRUNED_NOTE, prune_raw_text
from tests.dashboard.seed import LAST_DAY, PLATFORMS

WHOLE = Scope(Filters(start=LAST_DAY - timedelta(days=70), end=LAST_DAY), local_admin())
OLD = Scope(Filters(start=LAST_DAY - timedelta(days=70), end=LAST_DAY - timedelta(days=40)), local_admin())


def _rows(df: pd.DataFrame) -> list[dict]:
    """A frame's rows in a fixed order (by their labels): SQL without ORDER BY may return
    them in another order once updated rows moved on disk, with the same numbers."""
    return sorted(df.to_dict("records"), key=lambda r: [str(v) for v in r.values() if not isinstance(v, (int, float))])


def _figures(db) -> dict:  # noqa: ANN001
    """Every number the dashboard shows for the whole period and an old one, on rollups and on raw rows."""
    out = {}
    for name, scope in (("whole", WHOLE), ("old", OLD), ("raw", OLD.narrowed(platforms=tuple(PLATFORMS)))):
        out[name] = {
            "kpis": q.kpis(db, scope), "totals": q.totals(db, scope),
            "daily": _rows(q.daily(db, scope)),
            "leaderboard": _rows(q.leaderboard(db, scope)),
            "touchpoints": _rows(q.touchpoint_matrix(db, scope)),
            "trend": _rows(q.touchpoint_trend(db, scope)),
            "handling": _rows(q.handling_kpis(db, scope)),
            "alerts": q.alert_counts(db, scope),
        }
    return out


def _diff(a: dict, b: dict) -> list[str]:
    """The figures that differ (for the assertion message)."""
    return [f"{part}.{name}" for part in a for name in a[part] if not _same(a[part][name], b[part][name])]


def _same(a, b) -> bool:  # noqa: ANN001
    """Equal, floats within rounding (NaN equals NaN)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and pd.isna(a) and pd.isna(b):
        return True
    if isinstance(a, float) or isinstance(b, float):
        return a == pytest.approx(b)
    return a == b


def _quote_old_mention(db, now):  # noqa: ANN001, ANN202
    """An urgent alert quoting an old mention in evidence and reason, as the detector writes it."""
    with db.session() as s:
        old = s.exec(select(Mention).order_by(Mention.published_at)).first()
        alert = Alert(kind="urgent", scope_type="store", scope_id="sh-nanjingxi", incident_key="urgent:old",
                      status="resolved", title="【紧急】", reason=f"1 条提及含紧急词。最新一条：“{old.text}”",
                      opened_at=old.published_at, updated_at=old.published_at,
                      window_start=old.published_at, window_end=old.published_at,
                      evidence={"quotes": [{"id": old.id, "text": old.text, "platform": old.platform}],
                                "mention_ids": [old.id], "count": 1})
        s.add(alert)
        s.flush()
        return old.id, alert.id


def test_prune_keeps_historic_numbers_and_removes_raw_text(seeded) -> None:
    db, info = seeded
    now = info["now"]
    old_id, alert_id = _quote_old_mention(db, now)
    with db.session() as s:  # an old mention not scored yet: it must wait for its analysis
        s.add(Mention(id=int(info["mentions"]) + 1000, source_id="late", external_id="1", text="迟到的评论", author="某人", content_hash="late",
                      published_at=now - timedelta(days=50), collected_at=now))
    with db.session() as s:
        unscored_id = s.exec(select(Mention.id).where(Mention.source_id == "late")).one()
    before = _figures(db)

    dry = prune_raw_text(db, 30, dry_run=True, now=now)
    assert dry.dry_run and dry.mentions > 100 and dry.touchpoints >= dry.mentions and dry.alerts == 1
    with db.session() as s:
        assert s.exec(select(Mention).where(Mention.pruned_at.is_not(None))).first() is None  # dry run: nothing

    done = prune_raw_text(db, 30, now=now, batch_size=97)  # several batches
    assert (done.mentions, done.touchpoints, done.alerts, done.unscored) == (dry.mentions, dry.touchpoints, 1, 1)
    with db.session() as s:
        cutoff = now - timedelta(days=30)
        old = s.exec(select(Mention).where(Mention.published_at < cutoff, Mention.pruned_at.is_not(None))).all()
        assert len(old) == done.mentions
        assert all(m.text == "" and m.author is None and m.title is None and m.extra == {} for m in old)
        assert s.get(Mention, unscored_id).text  # unscored: kept until scored
        recent = s.exec(select(Mention).where(Mention.published_at >= cutoff)).all()
        assert recent and all(m.text and m.author and m.pruned_at is None for m in recent)
        ids = [m.id for m in old]
        assert set(s.exec(select(MentionTouchpoint.evidence).where(MentionTouchpoint.mention_id.in_(ids)))) == {""}
        alert = s.get(Alert, alert_id)
        assert alert.evidence["quotes"][0]["text"] == "" and alert.evidence["quotes"][0]["id"] == old_id
        assert alert.reason.endswith(PRUNED_NOTE)
        assert [e.action for e in s.exec(select(AuditEvent))] == ["prune"]

    assert not _diff(_figures(db), before)
    with db.session() as s:  # an exact rebuild of every day from the analyses gives the same numbers
        first = LAST_DAY - timedelta(days=63)
        s.add_all([RollupDirty(day=first + timedelta(days=i)) for i in range(66)])
    update_rollups(db)
    assert not _diff(_figures(db), before)

    again = prune_raw_text(db, 30, now=now)  # idempotent
    assert (again.mentions, again.touchpoints, again.alerts) == (0, 0, 0)
    with db.session() as s:
        assert len(s.exec(select(AuditEvent)).all()) == 1  # a prune that did nothing is not logged

    page = q.mentions_page(db, OLD)[0]
    assert len(page) and set(page["text"]) == {""}


def test_prune_refuses_a_retention_below_one_day(seeded) -> None:
    db, _ = seeded
    with pytest.raises(ValueError, match="at least 1"):
        prune_raw_text(db, 0)
