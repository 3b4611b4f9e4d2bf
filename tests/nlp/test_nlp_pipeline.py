"""score_pending / rescore against a real database (every backend of the ``db`` fixture)."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlmodel import select

from nlp.pipeline import mark_dirty, rescore, score_pending
from storage.models import (Brand, Mention, MentionAnalysis, MentionTouchpoint, Product, RollupDirty, ScoreQueue,
                            Source, Store)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


class FakeModel:
    """Deterministic and fast: positive unless the text has a negative word."""

    name = "fake"
    version = "1"
    metadata = {"neutral_low": 0.4, "neutral_high": 0.6}

    def score(self, texts):
        return [0.1 if any(w in t for w in ("差", "慢", "难喝", "头发")) else 0.9 for t in texts]


def _seed(db) -> None:
    with db.session() as s:
        s.add(Brand(id="xc", name="喜茶", aliases=["heytea"], exclude=[]))
        s.add(Store(id="s1", brand_id="xc", name="喜茶万象城店", aliases=["万象城店"], region_id="south",
                    platform_ids={"dianping": "H123"}))
        s.add(Store(id="s2", brand_id="xc", name="喜茶海岸城店", aliases=["海岸城店"], region_id="south"))
        s.add(Product(id="p1", brand_id="xc", name="多肉葡萄", aliases=["葡萄"]))
        s.add(Source(id="dp-s2", type="file", platform="dianping", store_id="s2"))
        s.add(Source(id="wb", type="feed", platform="weibo"))
        s.flush()
        rows = [
            ("dp-s2", "1", "奶茶很好喝但是店员态度太差", None, datetime(2026, 11, 20, 23, 30, tzinfo=timezone.utc)),
            ("wb", "2", "#喜茶# 万象城店的多肉葡萄太好喝了😍 //@某人:转发", None, datetime(2026, 11, 21, 1, 0, tzinfo=timezone.utc)),
            ("wb", "3", "喝到一根头发，要去12315投诉", "H123", datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc)),
            ("wb", "4", "今天天气不错", None, datetime(2026, 11, 21, 3, 0, tzinfo=timezone.utc)),
        ]
        for src, ext, text, hint, ts in rows:
            s.add(Mention(source_id=src, external_id=ext, platform="", text=text, store_hint=hint,
                          published_at=ts, collected_at=ts, content_hash=ext))
        s.flush()
        first = s.exec(select(Mention).where(Mention.external_id == "2")).one()
        s.add(Mention(source_id="wb", external_id="5", text=first.text, published_at=first.published_at,
                      collected_at=first.published_at, content_hash="2", duplicate_of=first.id))


def _snapshot(db):
    with db.session() as s:
        analyses = [a.model_dump(exclude={"scored_at"}) for a in s.exec(select(MentionAnalysis).order_by(MentionAnalysis.mention_id))]
        tps = [(t.mention_id, t.touchpoint, t.polarity, t.evidence) for t in s.exec(select(MentionTouchpoint).order_by(MentionTouchpoint.id))]
        days = [d.day for d in s.exec(select(RollupDirty).order_by(RollupDirty.day))]
    return analyses, tps, days


def test_score_pending_links_scores_and_is_idempotent(db):
    _seed(db)
    assert score_pending(db, model=FakeModel(), batch_size=2, now=NOW) == 5
    first = _snapshot(db)
    assert score_pending(db, model=FakeModel(), now=NOW) == 0
    assert _snapshot(db) == first

    analyses, tps, days = first
    by_id = {a["mention_id"]: a for a in analyses}
    bound = by_id[1]
    assert (bound["store_id"], bound["brand_id"], bound["region_id"]) == ("s2", "xc", "south")
    assert bound["link_confidence"] == 1.0 and bound["platform"] == "dianping"
    assert {(t[1], t[2]) for t in tps if t[0] == 1} == {("product", "positive"), ("service", "negative")}

    social = by_id[2]
    assert (social["store_id"], social["product_id"], social["label"]) == ("s1", "p1", "positive")
    assert social["counted"] is True and by_id[5]["counted"] is False

    hinted = by_id[3]
    assert hinted["store_id"] == "s1" and hinted["urgent"] is True
    assert hinted["urgent_terms"] == ["头发", "12315", "投诉"]

    unlinked = by_id[4]
    assert unlinked["brand_id"] == "xc" and unlinked["store_id"] is None  # brand-level, not dropped

    assert days == [date(2026, 11, 20), date(2026, 11, 21)]
    assert all(a["model"] == "fake" and a["model_version"] == "1" for a in analyses)


def test_limit_and_rescore_replace_rows(db):
    _seed(db)
    assert score_pending(db, model=FakeModel(), limit=2, now=NOW) == 2
    assert score_pending(db, model=FakeModel(), now=NOW) == 3

    class Gloomy(FakeModel):
        name, version = "gloomy", "2"

        def score(self, texts):
            return [0.05 for _ in texts]

    with db.session() as s:
        s.exec(select(RollupDirty)).all()
        for d in s.exec(select(RollupDirty)).all():
            s.delete(d)
    since = datetime(2026, 11, 21, tzinfo=timezone.utc)
    assert rescore(db, Gloomy(), since=since, now=NOW) == 4
    analyses, tps, days = _snapshot(db)
    assert [a["model"] for a in analyses] == ["fake", "gloomy", "gloomy", "gloomy", "gloomy"]
    assert days == [date(2026, 11, 21)]
    assert len([t for t in tps if t[0] == 1]) == 2  # untouched


def test_mark_dirty_is_idempotent(db):
    with db.session() as s:
        mark_dirty(s, [date(2026, 1, 1), date(2026, 1, 1)])
    with db.session() as s:
        mark_dirty(s, [date(2026, 1, 1), date(2026, 1, 2)])
    with db.session() as s:
        assert [d.day for d in s.exec(select(RollupDirty).order_by(RollupDirty.day))] == [date(2026, 1, 1), date(2026, 1, 2)]


def test_default_model_end_to_end(db):
    """The shipped model through the stage, as the demo runs it."""
    _seed(db)
    assert score_pending(db, now=NOW) == 5
    analyses, tps, _ = _snapshot(db)
    by_id = {a["mention_id"]: a for a in analyses}
    assert by_id[3]["label"] == "negative" and by_id[3]["urgent"] is True
    assert by_id[2]["label"] == "positive"
    assert {a["model"] for a in analyses} == {"ngram-lr"}
    assert {(t[1], t[2]) for t in tps if t[0] == 1} == {("product", "positive"), ("service", "negative")}


def test_a_claim_from_a_stale_snapshot_never_scores_a_mention_twice(db, monkeypatch):
    """On PostgreSQL a worker can lock a mention whose analysis another worker committed
    after this statement's snapshot was taken, so the claim returns it as pending. The
    claim here ignores analyses altogether (the worst such snapshot): scoring must skip
    what is already analysed instead of failing on the primary key or scoring twice."""
    import nlp.pipeline as pipeline

    _seed(db)
    assert score_pending(db, model=FakeModel(), limit=3, now=NOW) == 3
    before = _snapshot(db)
    def stale(after_id, batch_size, dialect):
        return (select(Mention, Source).join(Source, Source.id == Mention.source_id, isouter=True)
                .where(Mention.id > after_id).order_by(Mention.id).limit(batch_size))

    monkeypatch.setattr(pipeline, "_pending_query", stale)
    assert score_pending(db, model=FakeModel(), batch_size=2, now=NOW) == 2  # only the two still pending
    after_analyses, _, _ = _snapshot(db)
    assert [a["mention_id"] for a in after_analyses] == [1, 2, 3, 4, 5]
    assert after_analyses[:3] == before[0]  # the three scored first are untouched


def _queued(db) -> list[int]:
    with db.session() as s:
        return list(s.exec(select(ScoreQueue.mention_id).order_by(ScoreQueue.mention_id)).all())


def test_scoring_takes_exactly_the_queued_mentions_and_dequeues_them(db):
    """The queue is the pending-work index: a stored mention is queued, the batch that
    analyses it dequeues it, rescoring leaves the queue alone, and a mention taken out
    of the queue (already handled) is not scored again."""
    _seed(db)
    assert _queued(db) == [1, 2, 3, 4, 5]
    assert score_pending(db, model=FakeModel(), limit=3, now=NOW) == 3
    assert _queued(db) == [4, 5]
    with db.session() as s:  # as if another writer had taken mention 4
        s.execute(ScoreQueue.__table__.delete().where(ScoreQueue.mention_id == 4))
    assert score_pending(db, model=FakeModel(), now=NOW) == 1
    analyses, _, _ = _snapshot(db)
    assert [a["mention_id"] for a in analyses] == [1, 2, 3, 5] and _queued(db) == []
    assert rescore(db, FakeModel(), now=NOW) == 4
    assert _queued(db) == [] and score_pending(db, model=FakeModel(), now=NOW) == 0


def test_a_queued_mention_that_is_already_analysed_is_dequeued_not_rescored(db):
    _seed(db)
    assert score_pending(db, model=FakeModel(), limit=2, now=NOW) == 2
    before, _, _ = _snapshot(db)
    with db.session() as s:
        s.execute(ScoreQueue.__table__.insert().values(mention_id=1))  # a stray entry
    assert score_pending(db, model=FakeModel(), now=NOW) == 3
    after, _, _ = _snapshot(db)
    assert after[:2] == before and _queued(db) == []


def test_two_runners_at_once_share_the_backlog_without_crashing(db):
    """Two ``tingfeng process`` on one database (each with its own engine, as two
    processes would): neither raises, and every mention is scored exactly once."""
    import threading
    import time

    from storage import Database

    with db.session() as s:
        s.add(Source(id="wb", type="feed", platform="weibo"))
        s.flush()
        ts = datetime(2026, 11, 21, 1, 0, tzinfo=timezone.utc)
        for i in range(600):
            s.add(Mention(source_id="wb", external_id=str(i), text=f"第{i}条 店员态度太差", published_at=ts,
                          collected_at=ts, content_hash=str(i)))

    class Slow(FakeModel):
        def score(self, texts):
            time.sleep(0.001)  # keep both runners inside a batch at the same time
            return super().score(texts)

    start = threading.Barrier(2)
    counts, errors = [], []

    def run():
        other = Database(db.url)
        try:
            start.wait()
            counts.append(score_pending(other, model=Slow(), batch_size=10, now=NOW))
        except Exception as e:  # noqa: BLE001 - the test reports any failure of a runner
            errors.append(e)
        finally:
            other.engine.dispose()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sum(counts) == 600
    with db.session() as s:
        ids = s.exec(select(MentionAnalysis.mention_id)).all()
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 600 and _queued(db) == []


def test_a_rated_review_is_counted_by_its_stars_and_keeps_the_models_score(db):
    _seed(db)
    with db.session() as s:
        at = datetime(2026, 11, 21, 4, 0, tzinfo=timezone.utc)
        for ext, text, rating in (("r1", "环境不错，下次再来", 1.0), ("r2", "排队太慢了", 5.0),
                                  ("r3", "排队太慢了", 3.0)):
            s.add(Mention(source_id="dp-s2", external_id=ext, text=text, rating=rating, published_at=at,
                          collected_at=at, content_hash=ext))
    score_pending(db, model=FakeModel(), now=NOW)
    analyses, _, _ = _snapshot(db)
    rated = {a["mention_id"]: (a["label"], a["score"]) for a in analyses if a["mention_id"] > 5}
    assert sorted(rated.values()) == [("negative", 0.1), ("negative", 0.9), ("positive", 0.1)]
