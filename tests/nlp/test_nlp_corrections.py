"""Corrections from the dashboard: stored with who/when/old/new, counted in every aggregate
at once, kept through a rescore (every backend of the ``db`` fixture)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import select

from alerts.rollups import update_rollups
from nlp.pipeline import rescore, score_pending
from storage.corrections import CorrectionError, Target, record_correction
from storage.models import Correction, Mention, MentionAnalysis, MentionTouchpoint, Rollup, Source

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
DAY = datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc)


class FakeModel:
    """Positive unless the text has a negative word."""

    name = "fake"
    version = "1"
    metadata = {"neutral_low": 0.4, "neutral_high": 0.6}

    def score(self, texts):
        return [0.1 if any(w in t for w in ("差", "慢")) else 0.9 for t in texts]


def _seed(db) -> None:
    with db.session() as s:
        s.add(Source(id="wb", type="feed", platform="weibo"))
        for ext, text in (("1", "奶茶很好喝但是店员态度太差"), ("2", "今天的奶茶不错"), ("3", "环境很好")):
            s.add(Mention(source_id="wb", external_id=ext, text=text, published_at=DAY, collected_at=DAY,
                          content_hash=ext))


def _counts(db, scope_type: str, scope_id: str) -> tuple[int, int, int]:
    with db.session() as s:
        rows = s.exec(select(Rollup).where(Rollup.grain == "day", Rollup.scope_type == scope_type,
                                           Rollup.scope_id == scope_id)).all()
    return (sum(r.positive for r in rows), sum(r.neutral for r in rows), sum(r.negative for r in rows))


def _all_rollups(db) -> list[tuple]:
    with db.session() as s:
        rows = s.exec(select(Rollup).order_by(Rollup.grain, Rollup.bucket, Rollup.scope_type, Rollup.scope_id)).all()
    return [(r.grain, r.bucket, r.scope_type, r.scope_id, r.total, r.positive, r.neutral, r.negative,
             round(r.score_sum, 6)) for r in rows]


def _id(db, ext: str) -> int:
    with db.session() as s:
        return s.exec(select(Mention.id).where(Mention.external_id == ext)).one()


def test_a_sentiment_correction_changes_the_aggregates_and_survives_a_rescore(db):
    _seed(db)
    score_pending(db, model=FakeModel(), now=NOW)
    update_rollups(db)
    assert _counts(db, "platform", "weibo") == (2, 0, 1)

    mid = _id(db, "2")
    row = record_correction(db, Target(mid), "negative", by="市场部小王", now=NOW)
    assert (row.old_label, row.new_label, row.corrected_by, row.model, row.model_version) == (
        "positive", "negative", "市场部小王", "fake", "1")
    assert _counts(db, "platform", "weibo") == (1, 0, 2)  # at once, before any rollup run
    shifted = _all_rollups(db)
    assert update_rollups(db) > 0  # the correction also marked its day dirty …
    assert _all_rollups(db) == shifted  # … and the exact recomputation agrees with the shift in every row

    assert rescore(db, FakeModel(), now=NOW) == 3  # the model still says positive …
    update_rollups(db)
    with db.session() as s:
        analysis = s.get(MentionAnalysis, mid)
        assert analysis.label == "negative" and analysis.score == pytest.approx(0.9)  # … the correction wins
        stored = s.exec(select(Correction)).all()
    assert _counts(db, "platform", "weibo") == (1, 0, 2)
    assert [(c.mention_id, c.kind, c.corrected_at) for c in stored] == [(mid, "sentiment", NOW)]


def test_touchpoint_corrections_move_relabel_add_and_remove_touchpoints(db):
    _seed(db)
    score_pending(db, model=FakeModel(), now=NOW)
    update_rollups(db)
    mid = _id(db, "1")
    with db.session() as s:
        before = {(t.touchpoint, t.polarity) for t in s.exec(select(MentionTouchpoint).where(
            MentionTouchpoint.mention_id == mid))}
    assert ("service", "negative") in before
    assert _counts(db, "touchpoint", "service")[2] == 1

    record_correction(db, Target(mid, "touchpoint", "service"), "none", by="u")  # not about service
    record_correction(db, Target(mid, "touchpoint", "price"), "negative", by="u")  # missed: about price
    assert _counts(db, "touchpoint", "service") == (0, 0, 0)  # at once
    assert _counts(db, "touchpoint", "price") == (0, 0, 0)  # no row to shift yet: the next rollup run adds it
    update_rollups(db)
    assert _counts(db, "touchpoint", "service") == (0, 0, 0)
    assert _counts(db, "touchpoint", "price") == (0, 0, 1)

    record_correction(db, Target(mid, "touchpoint", "price"), "neutral", by="u")  # the latest wins
    shifted = _all_rollups(db)
    update_rollups(db)
    assert _all_rollups(db) == shifted
    rescore(db, FakeModel(), now=NOW)
    update_rollups(db)
    assert _counts(db, "touchpoint", "service") == (0, 0, 0)
    assert _counts(db, "touchpoint", "price") == (0, 1, 0)
    with db.session() as s:
        old = [c.old_label for c in s.exec(select(Correction).order_by(Correction.id))]
    assert old == ["negative", "none", "negative"]


def test_corrections_that_cannot_be_recorded_say_why_and_store_nothing(db):
    _seed(db)
    mid = _id(db, "2")
    with pytest.raises(CorrectionError, match="not been scored"):
        record_correction(db, Target(mid), "negative", by="u")
    score_pending(db, model=FakeModel(), now=NOW)
    with pytest.raises(CorrectionError, match="already labelled positive"):
        record_correction(db, Target(mid), "positive", by="u")
    with pytest.raises(CorrectionError, match="is not one of"):
        record_correction(db, Target(mid), "bad", by="u")
    with pytest.raises(CorrectionError, match="must name the touchpoint"):
        record_correction(db, Target(mid, "touchpoint"), "negative", by="u")
    with pytest.raises(CorrectionError, match="who made it"):
        record_correction(db, Target(mid), "negative", by=" ")
    with db.session() as s:
        assert s.exec(select(sa.func.count()).select_from(Correction)).one() == 0
