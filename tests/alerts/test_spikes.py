"""Pure spike statistics and the incident state machine (no database)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from pydantic import ValidationError

from alerts.policy import AlertPolicy
from alerts.spikes import HOUR, Incident, assess, cusum_scan, decide, family, local_calendar, multiplicity

UTC = timezone.utc
POLICY = AlertPolicy()
L = POLICY.lookback_hours
START = datetime(2026, 10, 1, 16, tzinfo=UTC)  # local midnight
NOW = START + L * HOUR


def grid(per_day: float, share: float, recent: list[tuple[int, int]] | None = None, promo: float = 1.0,
         peers: int = 5):
    """Deterministic expected-value series: the scope under test is row 0, peers follow.

    ``recent`` = [(hours_ago, negatives)], each also adding one mention of volume.
    Mentions fall in local 08:00–22:00.
    """
    hod, dow = local_calendar(START, L, POLICY.timezone)
    open_hours = (hod >= 8) & (hod < 22)
    rate = np.where(open_hours, per_day / 14.0, 0.0)
    total = np.tile(rate, (1 + peers, 1))
    negative = total * share
    total[0, -48:] *= promo
    negative[0, -48:] *= promo
    for ago, neg in recent or []:
        total[0, -ago] += neg
        negative[0, -ago] += neg
    return total, negative, hod, dow, np.zeros(1 + peers, dtype=int)


CASES = [
    # name, per_day, share, recent negatives, promo, expected severity
    ("2/day, one bad review", 2, 0.1, [(3, 1)], 1.0, 0),
    ("2/day, eight bad in an afternoon", 2, 0.1, [(5, 2), (4, 2), (3, 2), (2, 2)], 1.0, 2),
    ("40/day, normal", 40, 0.1, [], 1.0, 0),
    ("40/day, +12 negatives in 3 hours", 40, 0.1, [(3, 4), (2, 4), (1, 4)], 1.0, 2),
    ("40/day, promotion x3 at the same share", 40, 0.1, [], 3.0, 0),
    ("high share store, +3 negatives", 20, 0.25, [(2, 1), (1, 2)], 1.0, 0),
]


@pytest.mark.parametrize("name,per_day,share,recent,promo,expected", CASES, ids=[c[0] for c in CASES])
def test_assess_cases(name, per_day, share, recent, promo, expected):
    total, negative, hod, dow, groups = grid(per_day, share, recent, promo)
    # evaluated at local 17:00 so the recent hours are inside opening hours
    shift = 7
    total, negative = np.roll(total, -shift, 1), np.roll(negative, -shift, 1)
    hod, dow = np.roll(hod, -shift), np.roll(dow, -shift)
    result = assess(total, negative, hod, dow, groups, POLICY)
    assert int(result.severity[0]) == expected, (result.p_value[0], result.negative[0], result.total[0])
    assert (result.severity[1:] == 0).all()


def _at_17h(total, negative, hod, dow):
    shift = 7
    return np.roll(total, -shift, 1), np.roll(negative, -shift, 1), np.roll(hod, -shift), np.roll(dow, -shift)


def test_cusum_scan_catches_a_sustained_rise_the_fixed_windows_miss():
    # 20/day at 10 % negative: one extra negative every 3 hours for 30 hours (about ×3)
    total, negative, hod, dow, groups = grid(20, 0.1, [(ago, 1) for ago in range(2, 30, 3)])
    total, negative, hod, dow = _at_17h(total, negative, hod, dow)
    windows_only = assess(total, negative, hod, dow, groups, AlertPolicy(cusum=False))
    with_scan = assess(total, negative, hod, dow, groups, POLICY)
    assert int(windows_only.severity[0]) == 0
    assert int(with_scan.severity[0]) == 1
    assert 24 <= int(with_scan.window[0]) <= POLICY.cusum_max_hours  # reports the stretch it found
    assert (with_scan.severity[1:] == 0).all()


def test_cusum_scan_scales_its_expectation_with_volume():
    # a promotion triples every count at the usual share: not a spike
    total, negative, hod, dow, groups = grid(40, 0.1, promo=3.0)
    seasonal = np.full(negative.shape, negative[0, :-48].mean())  # the usual, promotion-free expectation
    other = np.full(total.shape, (total[0, :-48] - negative[0, :-48]).mean())
    assert int(cusum_scan(negative, total, seasonal, other, POLICY).severity[0]) == 0
    # the same negatives with the other mentions *not* up (as if they had been expected ×3) are a spike
    assert int(cusum_scan(negative, total, seasonal, other * 3, POLICY).severity[0]) >= 1


def test_cusum_scan_needs_the_minimum_evidence():
    policy = AlertPolicy(min_negative=5)
    total = np.full((1, 100), 0.5)
    seasonal, other = np.full((1, 100), 1e-3), np.full((1, 100), 0.5)
    negative = np.zeros((1, 100))
    negative[0, -2:] = [2, 2]  # far above a tiny expectation, but only 4 negatives
    assert int(cusum_scan(negative, total, seasonal, other, policy).severity[0]) == 0
    negative[0, -3] = 1
    assert int(cusum_scan(negative, total, seasonal, other, policy).severity[0]) == 1


def test_positives_drying_up_is_not_a_spike():
    total, negative, hod, dow, groups = grid(40, 0.1)
    total[0, -12:] = negative[0, -12:] * 1.2  # same negatives, almost no positives
    assert int(assess(total, negative, hod, dow, groups, POLICY).severity[0]) == 0


def test_since_blocks_windows_reaching_into_the_last_incident():
    total, negative, hod, dow, groups = grid(40, 0.1, [(30, 10), (29, 10)])
    assert int(assess(total, negative, hod, dow, groups, POLICY).severity[0]) > 0
    since = np.zeros(total.shape[0], dtype=int)
    since[0] = L - 28  # the last incident ended 28 hours ago
    assert int(assess(total, negative, hod, dow, groups, POLICY, since=since).severity[0]) == 0


def _result(sev, hot, window=6):
    total, negative, hod, dow, groups = grid(10, 0.1, peers=0)
    r = assess(total, negative, hod, dow, groups, POLICY)
    return type(r)(**{**r.__dict__, "severity": np.array([sev]), "hot": np.array([hot]),
                      "window": np.array([window])})


KEY = ("store", "s1")


def test_decide_lifecycle():
    incidents: dict = {}
    (a,) = decide([KEY], _result(1, True), incidents, NOW, POLICY)
    assert a.kind == "open" and a.severity == 1 and a.window_start == NOW - 6 * HOUR
    inc = Incident(1, NOW, a.window_start, NOW)
    incidents[KEY] = inc
    # still hot an hour later, now critical: update, severity rises
    (u,) = decide([KEY], _result(2, True), incidents, NOW + HOUR, POLICY)
    assert (u.kind, u.severity, u.window_end) == ("update", 2, NOW + HOUR)
    inc.severity, inc.window_end = 2, NOW + HOUR
    # not hot and quieter: severity never drops, nothing to do until resolve_after_hours
    assert decide([KEY], _result(0, False), incidents, NOW + 5 * HOUR, POLICY) == []
    (r,) = decide([KEY], _result(0, False), incidents, NOW + HOUR * (1 + POLICY.resolve_after_hours), POLICY)
    assert r.kind == "resolve"
    inc.resolved_at = NOW + 13 * HOUR
    # cooldown: the same severity soon after is suppressed, a worse one is not
    assert decide([KEY], _result(1, True), incidents, NOW + 20 * HOUR, POLICY) == []
    inc.severity = 1
    assert decide([KEY], _result(2, True), incidents, NOW + 20 * HOUR, POLICY)[0].kind == "open"
    assert decide([KEY], _result(1, True), incidents, NOW + 40 * HOUR, POLICY)[0].kind == "open"


def test_one_alert_per_store_family():
    keys = [("store_product", "s1|p1"), ("store", "s1"), ("store_product", "s2|p1")]
    total, negative, hod, dow, groups = grid(10, 0.1, peers=2)
    r = assess(total, negative, hod, dow, groups, POLICY)
    r = type(r)(**{**r.__dict__, "severity": np.array([1, 1, 1]), "hot": np.array([True] * 3)})
    opened = [a.key for a in decide(keys, r, {}, NOW, POLICY)]
    assert opened == [("store", "s1"), ("store_product", "s2|p1")]
    assert family(("store_product", "s1|p1")) == ("store", "s1")
    assert list(multiplicity(keys)) == [1.0, 1.0, 1.0]
    assert list(multiplicity(keys + [("store_product", "s1|p2")])) == [2.0, 1.0, 1.0, 2.0]


@pytest.mark.parametrize("table,needle", [
    ({"timezone": "Mars/Base"}, "IANA"),
    ({"quiet_hours": ["22:00", "8am"]}, "HH:MM"),
    ({"digest_weekday": "someday"}, "digest_weekday"),
    ({"alpha_critical": 0.1, "alpha_warning": 0.01}, "alpha_critical"),
    ({"scope_types": ["shop"]}, "unknown scope types"),
    ({"cooldown": 3}, "cooldown"),
])
def test_policy_errors_are_clear(table, needle):
    with pytest.raises(ValidationError) as exc:
        AlertPolicy.model_validate(table)
    assert needle in str(exc.value)


def test_policy_defaults_for_routing():
    p = AlertPolicy.model_validate({"quiet_hours": ["22:00", "08:00"], "digest_weekday": "Monday"})
    assert p.quiet_hours == ("22:00", "08:00") and p.digest_weekday == "mon"
    assert (p.escalate_after_minutes, p.digest_time, p.timezone) == (120, "09:00", "Asia/Shanghai")


def test_brand_total_explained_by_an_alerting_store_stays_quiet():
    from alerts.spikes import aggregate_children, assess_explained

    total, negative, hod, dow, _ = grid(40, 0.1, [(3, 6), (2, 6), (1, 6)], peers=2)
    keys = [("store", "s1"), ("store", "s2"), ("store", "s3"), ("brand", "b1")]
    total = np.vstack([total, total.sum(0)])
    negative = np.vstack([negative, negative.sum(0)])
    groups = np.array([0, 0, 0, 1])
    plain = assess(total, negative, hod, dow, groups, POLICY)
    assert plain.severity[0] > 0 and plain.severity[3] > 0  # the brand total carries s1's spike
    children = aggregate_children(keys, {s: {"brand": "b1"} for s in ("s1", "s2", "s3")})
    assert children == {3: [0, 1, 2]}
    explained = assess_explained(keys, total, negative, hod, dow, groups, POLICY, children, set())
    assert explained.severity[0] > 0 and explained.severity[3] == 0
    # a brand-wide problem (every store worse at once) still reaches the brand
    wide = negative.copy()
    wide[:3, -3:] += 6
    wide[3] = wide[:3].sum(0)
    total_wide = total.copy()
    total_wide[:3, -3:] += 6
    total_wide[3] = total_wide[:3].sum(0)
    hot = assess_explained(keys, total_wide, wide, hod, dow, groups, POLICY, children, set())
    assert (hot.severity > 0).all()
