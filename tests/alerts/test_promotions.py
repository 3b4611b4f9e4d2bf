"""The promotion calendar: which rows a promotion marks, the lift it reads, what the
baseline leaves out, and the live detector using it (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from alerts.detect import detect_alerts
from alerts.errors import PolicyError
from alerts.promotions import SETTING_KEY, promotions_from
from alerts.spikes import (HOUR, Promotion, aggregate_children, aggregate_promotion, assess, assess_explained,
                          promotion_lift, promotion_mask)
from storage.models import CatalogSetting, Store
from tests.alerts.test_detect import DAY0, STORES_ONLY, Stream, afternoon, peers, spikes
from tests.alerts.test_spikes import POLICY, grid

UTC = timezone.utc
T0 = datetime(2026, 6, 1, tzinfo=UTC)
KEYS = [("store", "s1"), ("store_product", "s1|p1"), ("store", "s2"), ("brand", "b"), ("product", "p1")]


def test_a_stores_promotion_marks_its_store_and_its_products_only() -> None:
    mask = promotion_mask(KEYS, [Promotion("s1", T0 + 2 * HOUR, T0 + 4 * HOUR + timedelta(minutes=30))], T0, 8)
    assert mask[0].tolist() == [False, False, True, True, True, False, False, False]  # the partly promoted hour counts
    assert (mask[1] == mask[0]).all()
    assert not mask[2:].any()  # another store, and the aggregates that would lose their baseline


def test_a_chain_wide_promotion_marks_every_row_and_is_clipped_to_the_grid() -> None:
    mask = promotion_mask(KEYS, [Promotion(None, T0 - 5 * HOUR, T0 + 2 * HOUR)], T0, 4)
    assert mask[:, :2].all() and not mask[:, 2:].any()
    assert not promotion_mask(KEYS, [Promotion(None, T0 + 10 * HOUR, T0 + 12 * HOUR)], T0, 4).any()


def test_the_lift_is_read_from_the_non_negative_mentions() -> None:
    promo = np.array([[False, True, True, True]])
    other, usual = np.array([[5.0, 30.0, 30.0, 30.0]]), np.full((1, 4), 10.0)
    lift = promotion_lift(other, usual, promo, offset=2)
    assert lift.shape == (1, 6)
    assert lift[0, :3].tolist() == [1.0, 1.0, 1.0]  # the baseline columns and the hour before the promotion
    assert lift[0, 3:] == pytest.approx((90 + 2) / (30 + 2))
    assert promotion_lift(other / 10, usual, promo, 0).min() == 1.0  # a promotion nobody came to lifts nothing


def _shifted(per_day, share, recent, promo):
    total, negative, hod, dow, groups = grid(per_day, share, recent, promo)
    roll = (lambda a: np.roll(a, -7, -1))  # evaluated at local 17:00, inside opening hours
    return roll(total), roll(negative), roll(hod), roll(dow), groups


def test_promotion_days_in_the_history_do_not_inflate_the_norm() -> None:
    total, negative, hod, dow, groups = _shifted(40, 0.1, [(3, 3), (2, 3), (1, 3)], 1.0)
    plain = assess(total, negative, hod, dow, groups, POLICY)
    days = slice(24 * 10, 24 * 13)
    total[0, days] *= 3
    negative[0, days] *= 3
    unlisted = assess(total, negative, hod, dow, groups, POLICY)
    mask = np.zeros(total.shape, bool)
    mask[0, days] = True
    listed = assess(total, negative, hod, dow, groups, POLICY, promo=mask)
    assert unlisted.expected[0] > plain.expected[0] * 1.1
    assert listed.expected[0] == pytest.approx(plain.expected[0], rel=0.03)
    assert listed.evidence[0] > unlisted.evidence[0]
    assert listed.promotion_lift[0] == 1.0  # the window is not in a promotion


def test_during_a_listed_promotion_the_norm_follows_its_volume() -> None:
    total, negative, hod, dow, groups = _shifted(40, 0.1, [(3, 3), (2, 3), (1, 3)], 3.0)
    mask = np.zeros(total.shape, bool)
    mask[0, -55:] = True  # the last 48 h of the grid before the roll: the promotion
    listed = assess(total, negative, hod, dow, groups, POLICY, promo=mask)
    assert 2.5 < listed.promotion_lift[0] < 3.1
    base = assess(*_shifted(40, 0.1, [(3, 3), (2, 3), (1, 3)], 1.0), POLICY)
    assert listed.expected[0] == pytest.approx(base.expected[0] * listed.promotion_lift[0], rel=0.1)


def test_stored_calendar_is_read_back_and_a_broken_entry_is_named() -> None:
    value = {"entries": [{"name": "双十二", "stores": ["s1", "s2"], "start": "2026-12-11T16:00:00+00:00",
                          "end": "2026-12-13T16:00:00+00:00"},
                         {"name": "", "stores": [], "start": "2026-12-20T02:00:00+00:00",
                          "end": "2026-12-20T06:00:00+00:00"}]}
    got = promotions_from(value)
    assert [p.store for p in got] == ["s1", "s2", None]
    assert got[0].start == datetime(2026, 12, 11, 16, tzinfo=UTC) and got[2].end == datetime(2026, 12, 20, 6, tzinfo=UTC)
    assert promotions_from(None) == []
    with pytest.raises(PolicyError, match=r"entries\[1\]"):
        promotions_from({"entries": [value["entries"][0], {"stores": [], "start": "soon", "end": "x"}]})


def _promotion_with_complaints(db, listed: bool):
    promo = (DAY0 - timedelta(days=1), DAY0 + timedelta(days=2))
    s = Stream()
    peers(s)
    s.background("s1", 20, days=37, promo=promo)
    for k in range(18):
        s.add(afternoon(6 * k / 18), "s1", True, product="p1", text=f"团购套餐分量太少 {k}")
    s.write(db)
    with db.session() as sess:
        sess.add(Store(id="s1", brand_id="b1", region_id="east", name="上海万象城店"))
        if listed:
            sess.add(CatalogSetting(key=SETTING_KEY, value={"entries": [
                {"name": "周年庆", "stores": ["s1"], "start": promo[0].isoformat(), "end": promo[1].isoformat()}]}))
    detect_alerts(db, STORES_ONLY, now=afternoon(6) + timedelta(hours=1))
    return [a for a in spikes(db) if a.scope_id.split("|")[0] == "s1"]


def test_complaints_during_a_listed_promotion_alert_and_say_the_norm_counts_the_promotion(db) -> None:
    (a,) = _promotion_with_complaints(db, listed=True)
    lift = a.evidence["numbers"]["promotion_lift"]
    assert 2.0 <= lift <= 4.0
    assert f"正值促销（日历中的活动），提及量约为平时的 {lift:g} 倍" in a.reason


def test_the_same_complaints_without_a_calendar_say_nothing_of_a_promotion(db) -> None:
    (a,) = _promotion_with_complaints(db, listed=False)
    assert a.evidence["numbers"]["promotion_lift"] is None and "促销" not in a.reason


def test_a_listed_promotion_without_complaints_raises_nothing(db) -> None:
    s = Stream()
    peers(s)
    promo = (DAY0 - timedelta(days=1), DAY0 + timedelta(days=2))
    s.background("s1", 20, days=37, promo=promo)
    s.write(db)
    with db.session() as sess:
        sess.add(CatalogSetting(key=SETTING_KEY, value={"entries": [
            {"name": "", "stores": [], "start": promo[0].isoformat(), "end": promo[1].isoformat()}]}))
    for h in range(0, 48, 3):
        detect_alerts(db, STORES_ONLY, now=DAY0 + timedelta(hours=h))
    assert [a.title for a in spikes(db) if a.scope_id.startswith("s1")] == []


def test_an_aggregate_is_marked_in_recent_hours_where_promoted_stores_carry_its_volume() -> None:
    keys = [("store_product", "s1|p1"), ("store_product", "s2|p1"), ("product", "p1")]
    total = np.array([[8.0] * 6, [2.0] * 6, [10.0] * 6])  # s1 carries 80 % of p1
    promo = np.zeros((3, 6), bool)
    promo[0, 1:5] = True  # s1's promotion, from the baseline into the recent hours
    children = {2: [0, 1]}
    marked = aggregate_promotion(promo, total, children, baseline_hours=3, min_share=0.5)
    assert marked[2].tolist() == [False, False, False, True, True, False]  # its baseline stays whole
    assert (marked[:2] == promo[:2]).all()
    assert not aggregate_promotion(promo, total, children, 3, min_share=0.9)[2].any()
    promo[:, :] = False
    promo[1, 3:] = True  # only the small store: 20 %
    assert not aggregate_promotion(promo, total, children, 3, min_share=0.5)[2].any()


def test_a_big_stores_promotion_lifts_its_products_norm() -> None:
    """Same share, three times the volume at the store carrying 80 % of a product: the product's
    expected negatives follow its measured lift (about 2.6), as the store's follow its own."""
    keys = [("store", "s1"), ("store_product", "s1|p1"), ("store", "s2"), ("store_product", "s2|p1"),
            ("product", "p1")]
    total, negative, hod, dow, _ = _shifted(40, 0.15, None, 3.0)
    small, _, _, _, _ = _shifted(10, 0.15, None, 1.0)
    s1, s1n, s2, s2n = total[0], negative[0], small[0], small[0] * 0.15
    total = np.stack([s1, s1, s2, s2, s1 + s2])
    negative = np.stack([s1n, s1n, s2n, s2n, s1n + s2n])
    groups = np.array([0, 1, 0, 1, 2])
    mask = np.zeros(total.shape, bool)
    mask[:2, -55:] = True  # the last 48 h of the grid before the roll: s1's promotion
    children = aggregate_children(keys, {})
    run = (lambda policy: assess_explained(keys, total, negative, hod, dow, groups, policy, children=children,
                                           active_families=set(), promo=mask))
    lifted, unlifted = run(POLICY), run(POLICY.model_copy(update={"promotion_aggregate_share": 1.0}))
    assert lifted.promotion_lift[4] > 2.0 and unlifted.promotion_lift[4] == 1.0
    assert lifted.expected[4] == pytest.approx(unlifted.expected[4] * lifted.promotion_lift[4], rel=0.05)
    assert lifted.promotion_lift[0] == unlifted.promotion_lift[0] > 2.5  # the store's own lift is unchanged
