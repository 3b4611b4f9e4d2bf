"""False-alarm budgets: fitting thresholds on null streams and keeping to them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import poisson

from alerts import calibration as cal
from alerts.backtest import build_grid, run_backtest
from alerts.errors import PolicyError
from alerts.policy import AlertPolicy
from alerts.spikes import assess, local_calendar

_spec = importlib.util.spec_from_file_location(
    "bench_alerts", Path(__file__).resolve().parents[2] / "bench" / "alerts.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("bench_alerts", bench)
_spec.loader.exec_module(bench)

SCOPES = ("brand", "store", "product", "store_product")


def test_episode_onsets_merge_exceedances_closer_than_the_gap():
    above = np.zeros(200, bool)
    above[[5, 6, 30, 100, 137]] = True
    assert cal.episode_onsets(above, 36).tolist() == [5, 100, 137]
    assert cal.episode_onsets(np.zeros(10, bool), 36).size == 0


def test_threshold_for_budget_takes_the_first_threshold_within_budget():
    grid = np.arange(1.0, 10.0)
    rates = np.array([5.0, 2.0, 1.0, 0.5, 0.25, 0.12, 0.06, 0.03, 0.015])
    assert cal.threshold_for_budget(grid, rates, months=1000, budget=0.3) == 5.0


def test_threshold_for_budget_extrapolates_a_tail_it_cannot_resolve():
    grid = np.arange(1.0, 10.0)
    rates = 2.0 ** -np.arange(9.0)  # halves per unit of evidence
    months = 40.0  # budget 0.01 would need 0.4 episodes: not observable, extrapolate
    tau = cal.threshold_for_budget(grid, rates, months, budget=0.01)
    assert tau == pytest.approx(1 + np.log2(100), abs=0.3)
    assert tau > grid[np.flatnonzero(rates * months >= 2)[-1]]


@pytest.mark.parametrize("months,text", [
    (0.01, "平时一天内就可能偶然出现"), (0.3, "约每 9 天一次的偶然"), (5, "约每 5 个月一次的偶然"),
    (36, "约每 3 年一次的偶然"), (5000, "百年难遇的偶然"), (None, ""),
])
def test_rarity_in_plain_chinese(months, text):
    assert cal.rarity_zh(months) == text


def test_stronger_evidence_is_rarer_on_quiet_streams():
    table = cal.load_table()
    weak, strong = (table.months_between("store", 10.0, e) for e in (4.0, 8.0))
    assert 0 < weak < strong
    assert table.months_between("touchpoint", 10.0, 8.0) is None  # not calibrated


def test_a_broken_table_is_a_clear_error(tmp_path):
    path = tmp_path / "cal.json"
    path.write_text('{"bands": [2], "gap_hours": 36, "budgets": {}, "thresholds": {"store": {"warning": [1], '
                    '"critical": [2, 3]}}}', encoding="utf-8")
    with pytest.raises(PolicyError, match=r"cal\.json.*store\.warning needs 2 thresholds"):
        cal.load_table(path)
    path.write_text("{", encoding="utf-8")
    with pytest.raises(PolicyError, match="cal.json"):
        cal.load_table(path)


TABLES = pytest.mark.parametrize("path", [cal.DEFAULT_TABLE, cal.CALENDAR_TABLE], ids=["shipped", "calendar"])


@TABLES
def test_shipped_table_covers_the_watched_scopes_with_critical_above_warning(path):
    table = cal.load_table(path)
    for scope_type in SCOPES:
        tiers = table.thresholds[scope_type]
        assert all(c >= w > 0 for w, c in zip(tiers["warning"], tiers["critical"]))
        assert table.budgets[scope_type]["critical"] < table.budgets[scope_type]["warning"]


def test_thresholds_set_severity_from_evidence():
    policy = AlertPolicy(cusum=False)
    length = policy.lookback_hours
    total = np.full((2, length), 2.0)
    negative = np.zeros((2, length))
    negative[:, : length - policy.recent_hours : 10] = 1.0  # usual: one negative every 10 h
    negative[:, -6:] = 2.0  # 12 negatives in the last 6 hours: very unusual
    hod, dow = local_calendar(bench.datetime(2026, 6, 1, tzinfo=bench.UTC), length, policy.timezone)
    groups = np.zeros(2, np.int64)
    free = assess(total, negative, hod, dow, groups, policy)
    e = float(free.evidence[0])
    graded = assess(total, negative, hod, dow, groups, policy,
                    thresholds=(np.array([e - 1, e + 1]), np.array([e + 5, e + 5])))
    assert graded.severity.tolist() == [1, 0]
    graded = assess(total, negative, hod, dow, groups, policy,
                    thresholds=(np.array([e - 2, np.nan]), np.array([e - 1, np.nan])))
    assert graded.severity[0] == 2 and graded.severity[1] == free.severity[1]  # NaN: nominal levels


def _calibration_script():
    spec = importlib.util.spec_from_file_location(
        "bench_calibrate_alerts", Path(__file__).resolve().parents[2] / "bench" / "calibrate_alerts.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def test_a_budget_override_changes_that_budget_only():
    script = _calibration_script()
    declared = script.BUDGETS["store"]["warning"]
    tried = script.budgets_with(["store.warning=0.16"])
    assert tried["store"] == {"warning": 0.16, "critical": script.BUDGETS["store"]["critical"]}
    assert {k: v for k, v in tried.items() if k != "store"} == {k: v for k, v in script.BUDGETS.items() if k != "store"}
    assert script.BUDGETS["store"]["warning"] == declared != 0.16  # the declared budgets are left alone
    with pytest.raises(SystemExit, match="SCOPE.TIER=RATE"):
        script.budgets_with(["shop.warning=0.1"])


@TABLES
def test_shipped_table_is_fitted_to_the_declared_budgets_and_the_store_goal(path):
    """The table's budgets are the calibration script's, and store warnings stay within issue 12's goal.

    Issue 12 allows at most 0.15 false store alerts per store-month; a store warning budget
    of 0.14 gave 0.20 on seeds 4–6 of the bench, so the budget is 0.11 (docs/benchmarks.md).
    """
    script = _calibration_script()
    table = cal.load_table(path)
    assert table.budgets == script.BUDGETS
    assert ("--calendar" in table.source) == (path == cal.CALENDAR_TABLE)
    assert table.budgets["store"]["warning"] == 0.11
    # a critical threshold is never below the warning one, so the warning budget bounds every store alert
    assert all(c >= w for w, c in zip(table.thresholds["store"]["warning"], table.thresholds["store"]["critical"]))
    assert table.budgets["store"]["warning"] <= 0.15


def _false_alerts(policy: AlertPolicy, world, table=None, promotions=()) -> dict[str, int]:
    grid = build_grid(world.records, policy.scope_types, policy.lookback_hours)
    alerts = run_backtest(grid, policy, warmup_days=bench.HISTORY_DAYS, table=table, promotions=promotions)
    out = {"store_family": 0, "store": 0, "product": 0, "brand": 0}
    for a in alerts:
        out["store_family" if a.scope_type in ("store", "store_product") else a.scope_type] += 1
        out["store"] += a.scope_type == "store"
    return out


@pytest.mark.parametrize("calendar", [False, True], ids=["shipped", "calendar"])
def test_a_null_stream_raises_at_most_the_budgeted_alerts(calendar):
    """A realistic stream without incidents (its own seed, not a calibration one) stays within budget.

    The bound is the 99.9 % Poisson quantile of the budgeted count, so the test fails when
    the detector's false-alarm rate is several times its budget — as the uncalibrated
    detector's is on the same stream.
    """
    stores, days = 16, bench.HISTORY_DAYS + 30
    world = bench.generate(7, stores, days, incidents=False)
    table = cal.load_table(cal.CALENDAR_TABLE if calendar else None)
    months = (days - bench.HISTORY_DAYS) / 30
    budget = {
        "store_family": stores * months * (table.budgets["store"]["warning"] + table.budgets["store_product"]["warning"]),
        "store": stores * months * table.budgets["store"]["warning"],
        "product": len(world.products) * months * table.budgets["product"]["warning"],
        "brand": months * table.budgets["brand"]["warning"],
    }
    bound = {k: int(poisson.ppf(0.999, v)) for k, v in budget.items()}
    policy = AlertPolicy(scope_types=SCOPES)
    got = _false_alerts(policy, world, table, world.promotions if calendar else ())
    assert all(got[k] <= bound[k] for k in bound), (got, bound)
    previous = _false_alerts(policy.model_copy(update={"calibrated": False}), world)
    assert previous["store_family"] + previous["product"] > bound["store_family"] + bound["product"], previous
