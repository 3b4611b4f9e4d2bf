"""update_rollups: counts per hour/day and scope, late and re-scored mentions, idempotence."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from sqlmodel import select

from alerts.rollups import day_range, update_rollups
from storage.models import Mention, MentionAnalysis, MentionTouchpoint, Rollup, RollupDirty

UTC = timezone.utc


def add_mention(db, mid, at, *, store="s1", product=None, label="negative", score=0.1, platform="dianping",
                counted=True, urgent=False, touchpoints=(), brand="b1", region="east"):
    """Insert one mention with its analysis (and touchpoints) and mark its UTC day dirty."""
    with db.session() as s:
        s.add(Mention(id=mid, source_id="src", external_id=str(mid), platform=platform, text=f"m{mid}",
                      published_at=at, collected_at=at, content_hash=str(mid)))
        s.flush()
        s.add(MentionAnalysis(mention_id=mid, published_at=at, platform=platform, brand_id=brand, region_id=region,
                              store_id=store, product_id=product, model="t", model_version="1", score=score,
                              label=label, counted=counted, urgent=urgent, scored_at=at))
        for tp, pol in touchpoints:
            s.add(MentionTouchpoint(mention_id=mid, touchpoint=tp, polarity=pol, score=0.2, evidence="x"))
        if s.get(RollupDirty, at.date()) is None:
            s.add(RollupDirty(day=at.date()))


def rollups(db, grain=None):
    with db.session() as s:
        rows = s.exec(select(Rollup)).all()
    return {(r.grain, r.bucket, r.scope_type, r.scope_id): (r.total, r.positive, r.neutral, r.negative, r.urgent)
            for r in rows if grain is None or r.grain == grain}


def test_day_range_covers_utc_and_local_day():
    import zoneinfo

    lo, hi = day_range(date(2026, 11, 20), zoneinfo.ZoneInfo("Asia/Shanghai"))
    # local 11-20 starts 11-19 16:00Z; UTC 11-20 ends 11-21 00:00Z, inside local 11-21 (ends 11-21 16:00Z)
    assert lo == datetime(2026, 11, 19, 16, tzinfo=UTC)
    assert hi == datetime(2026, 11, 21, 16, tzinfo=UTC)


def test_counts_per_scope_hour_and_local_day(db):
    t = datetime(2026, 11, 20, 3, 15, tzinfo=UTC)  # 11:15 in Shanghai
    add_mention(db, 1, t, product="p1", label="negative", touchpoints=[("service", "negative")])
    add_mention(db, 2, t + timedelta(minutes=20), product="p1", label="positive", score=0.9,
                touchpoints=[("product", "positive"), ("service", "negative")])
    add_mention(db, 3, t + timedelta(hours=1), store="s2", label="neutral", score=0.5, urgent=True)
    add_mention(db, 4, t, label="negative", counted=False)  # a repost: not counted
    # 23:30 UTC on 11-20 is 07:30 on 11-21 in Shanghai: another local day
    add_mention(db, 5, datetime(2026, 11, 20, 23, 30, tzinfo=UTC), label="negative")
    assert update_rollups(db) > 0
    got = rollups(db)
    h3 = datetime(2026, 11, 20, 3, tzinfo=UTC)
    assert got[("hour", h3, "store", "s1")] == (2, 1, 0, 1, 0)
    assert got[("hour", h3, "store_product", "s1|p1")] == (2, 1, 0, 1, 0)
    assert got[("hour", h3, "product", "p1")] == (2, 1, 0, 1, 0)
    assert got[("hour", h3, "brand", "b1")] == (2, 1, 0, 1, 0)
    assert got[("hour", h3, "region", "east")] == (2, 1, 0, 1, 0)
    assert got[("hour", h3, "platform", "dianping")] == (2, 1, 0, 1, 0)
    assert got[("hour", h3, "touchpoint", "service")] == (2, 0, 0, 2, 0)
    assert got[("hour", h3, "store_touchpoint", "s1|product")] == (1, 1, 0, 0, 0)
    assert got[("hour", h3, "product_touchpoint", "p1|service")] == (2, 0, 0, 2, 0)
    assert got[("hour", h3, "product_touchpoint", "p1|product")] == (1, 1, 0, 0, 0)
    assert got[("hour", h3 + timedelta(hours=1), "store", "s2")] == (1, 0, 1, 0, 1)
    day20 = datetime(2026, 11, 19, 16, tzinfo=UTC)  # Shanghai 11-20 00:00
    day21 = datetime(2026, 11, 20, 16, tzinfo=UTC)
    assert got[("day", day20, "brand", "b1")] == (3, 1, 1, 1, 1)
    assert got[("day", day21, "brand", "b1")] == (1, 0, 0, 1, 0)
    assert ("hour", h3, "store_product", "s2|None") not in got
    assert ("day", day20, "product_touchpoint", "p1|service") in got  # the day grain too
    assert not any(k[2] == "product_touchpoint" and not k[3].startswith("p1|") for k in got)  # no product: none
    with db.session() as s:
        assert s.exec(select(RollupDirty)).all() == []


def test_idempotent_and_late_and_rescored(db):
    t = datetime(2026, 11, 20, 3, 15, tzinfo=UTC)
    add_mention(db, 1, t, label="negative")
    update_rollups(db)
    first = rollups(db)
    assert update_rollups(db) == 0  # nothing dirty: nothing touched
    with db.session() as s:
        s.add(RollupDirty(day=t.date()))
    update_rollups(db)
    assert rollups(db) == first
    # a late mention for an old day and a re-scored mention
    add_mention(db, 2, t - timedelta(days=3), label="positive", score=0.9)
    with db.session() as s:
        a = s.get(MentionAnalysis, 1)
        a.label, a.score = "positive", 0.8
        s.add(a)
        s.merge(RollupDirty(day=t.date()))
    update_rollups(db)
    got = rollups(db)
    h3 = datetime(2026, 11, 20, 3, tzinfo=UTC)
    assert got[("hour", h3, "store", "s1")] == (1, 1, 0, 0, 0)
    assert got[("hour", h3 - timedelta(days=3), "store", "s1")] == (1, 1, 0, 0, 0)
    assert len([k for k in got if k[0] == "day" and k[2] == "store"]) == 2


def test_scope_moved_to_other_store_leaves_no_stale_rows(db):
    t = datetime(2026, 11, 20, 3, 15, tzinfo=UTC)
    add_mention(db, 1, t, store="s1")
    update_rollups(db)
    with db.session() as s:
        a = s.get(MentionAnalysis, 1)
        a.store_id = "s2"
        s.add(a)
        s.merge(RollupDirty(day=t.date()))
    update_rollups(db)
    stores = {k[3] for k in rollups(db, "hour") if k[2] == "store"}
    assert stores == {"s2"}


def test_many_mentions_aggregate_fast(db):
    """10k mentions over 30 days roll up well within a few seconds on either backend."""
    import time

    start = datetime(2026, 10, 1, tzinfo=UTC)
    rows_m, rows_a = [], []
    for i in range(1, 10_001):
        at = start + timedelta(minutes=4 * i + (i % 7))
        rows_m.append(dict(id=i, source_id="src", external_id=str(i), platform="weibo", kind="post", text="x",
                           published_at=at, collected_at=at, content_hash=str(i), extra={}))
        rows_a.append(dict(mention_id=i, published_at=at, platform="weibo", brand_id="b1", region_id="east",
                           store_id=f"s{i % 40}", product_id=f"p{i % 6}", link_confidence=1.0, links=[],
                           model="t", model_version="1", score=0.3, label=("negative" if i % 5 == 0 else "positive"),
                           urgent=False, urgent_terms=[], keywords=[], counted=True, scored_at=at))
    with db.engine.begin() as conn:
        conn.execute(Mention.__table__.insert(), rows_m)
        conn.execute(MentionAnalysis.__table__.insert(), rows_a)
        days = sorted({r["published_at"].date() for r in rows_a})
        conn.execute(RollupDirty.__table__.insert(), [{"day": d} for d in days])
    t0 = time.perf_counter()
    update_rollups(db)
    elapsed = time.perf_counter() - t0
    with db.engine.connect() as conn:
        total = conn.execute(sa.text("select sum(total) from rollups where grain='hour' and scope_type='store'")).scalar()
        neg = conn.execute(sa.text("select sum(negative) from rollups where grain='day' and scope_type='brand'")).scalar()
    assert total == 10_000 and neg == 2_000
    assert elapsed < 10
