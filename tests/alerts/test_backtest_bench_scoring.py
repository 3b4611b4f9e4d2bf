"""How bench/alerts.py matches alerts to injected incidents (table-driven)."""

from __future__ import annotations

import importlib.util
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from alerts.backtest import BacktestAlert

_spec = importlib.util.spec_from_file_location(
    "bench_alerts", Path(__file__).resolve().parents[2] / "bench" / "alerts.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("bench_alerts", bench)  # dataclasses look their module up
_spec.loader.exec_module(bench)

T0 = datetime(2026, 7, 1, 4, tzinfo=timezone.utc)
H = timedelta(hours=1)


def alert(scope_type: str, scope_id: str, at: datetime = T0 + 5 * H) -> BacktestAlert:
    return BacktestAlert(scope_type, scope_id, at, at - 3 * H, at, "warning", "")


STORE_INC = bench.Incident("s01", None, T0, T0 + 10 * H, 5.0, 20.0, 12, by_product={"p3": 6, "p4": 2})
CHAIN_INC = bench.Incident("*", "p1", T0, T0 + 10 * H, 3.0, 0.0, 40, stores=("s01", "s05"))
PRODUCT_INC = bench.Incident("s01", "p2", T0, T0 + 10 * H, 5.0, 20.0, 8)


@pytest.mark.parametrize("name,a,inc,family_only,expected", [
    ("store alert, its store's incident", alert("store", "s01"), STORE_INC, True, True),
    ("store x product alert counts for its store", alert("store_product", "s01|p4"), STORE_INC, True, True),
    ("another store", alert("store", "s02"), STORE_INC, False, False),
    ("brand never counts for recall", alert("brand", "brand"), STORE_INC, True, False),
    ("brand contains every incident", alert("brand", "brand"), STORE_INC, False, True),
    ("product alert, that product's incident", alert("product", "p2"), PRODUCT_INC, False, True),
    ("product alert, another product's incident", alert("product", "p3"), PRODUCT_INC, False, False),
    # a store-level incident explains a product alert only when enough of its negatives landed there
    ("product alert, store incident put 6 negatives on it", alert("product", "p3"), STORE_INC, False, True),
    ("product alert, store incident put 2 negatives on it", alert("product", "p4"), STORE_INC, False, False),
    ("product alert, product incident across stores", alert("product", "p1"), CHAIN_INC, False, True),
    ("store touched by a product incident across stores", alert("store", "s05"), CHAIN_INC, False, True),
    ("... but that is not a store incident for recall", alert("store", "s05"), CHAIN_INC, True, False),
    ("store not touched by it", alert("store", "s02"), CHAIN_INC, False, False),
])
def test_covers(name, a, inc, family_only, expected):
    assert bench.covers(a, inc, family_only) is expected


@pytest.mark.parametrize("hours,expected", [(-1, False), (0, True), (10, True), (34, True), (35, False)])
def test_in_time_grace(hours, expected):
    assert bench.in_time(alert("store", "s01", T0 + hours * H), STORE_INC) is expected


def test_alerts_per_incident_count_what_one_incident_raised():
    """A product incident's alerts: its product, the brand, store-level ones in its stores no store incident explains."""
    world = bench.World(T0 - timedelta(days=bench.HISTORY_DAYS), bench.HISTORY_DAYS + 30,
                        {"s01": 20.0, "s05": 5.0, "s09": 5.0}, ["p1", "p2", "p3", "p4"], [],
                        [STORE_INC, CHAIN_INC], {})
    alerts = [alert("product", "p1"), alert("brand", "brand"), alert("store", "s05"), alert("store_product", "s05|p1"),
              alert("store", "s01"),  # s01's own incident: not the product incident's doing
              alert("store", "s09"),  # not one of its stores
              alert("product", "p1", T0 + 40 * H)]  # after the grace
    scored = bench.score(world, alerts)
    assert scored["per_chain"] == 4 and scored["stores_per_chain"] == 2
    # beside the detected store incident of s01: the brand alert (p3 got 6 of its negatives, p1 none)
    assert scored["aggregate_per_store"] == 1


@pytest.mark.parametrize("local_start,local_onset", [
    ("02:00", "08:00"),  # drawn while the store is closed: it can first show when it opens
    ("23:00", "08:00"),
    ("07:00", "08:00"),
    ("08:00", "08:00"),
    ("14:00", "14:00"),
    ("22:00", "22:00"),  # the last opening hour
])
def test_onset_is_the_start_or_the_next_opening_hour(local_start, local_onset):
    day = datetime(2026, 7, 1, tzinfo=timezone.utc) - bench.TZ_OFFSET  # local midnight
    start = day + int(local_start[:2]) * H
    inc = bench.Incident("s01", None, start, start + 20 * H, 5.0, 20.0, 12)
    onset = bench.onset(inc) + bench.TZ_OFFSET
    assert onset.strftime("%H:%M") == local_onset
    assert timedelta(0) <= bench.onset(inc) - start < 24 * H


def test_busy_store_delay_runs_from_the_onset_and_from_the_drawn_start():
    """An incident drawn at 02:00 local and alerted at 11:00: 3 h after the store opened, 9 h after the draw."""
    day = datetime(2026, 7, 1, tzinfo=timezone.utc) - bench.TZ_OFFSET
    inc = bench.Incident("s01", None, day + 2 * H, day + 30 * H, 5.0, 20.0, 12)
    world = bench.World(day - timedelta(days=bench.HISTORY_DAYS), bench.HISTORY_DAYS + 30, {"s01": 20.0}, ["p1"],
                        [], [inc], {})
    scored = bench.score(world, [alert("store", "s01", day + 11 * H)])
    assert scored["recall"] == 1.0
    assert scored["delay_busy_h"] == 3.0 and scored["delay_busy_start_h"] == 9.0


def _oracle_world(burst_hours: int) -> "bench.World":
    import numpy as np

    from alerts.backtest import Record

    days = bench.HISTORY_DAYS + 5
    start = datetime(2026, 6, 1, tzinfo=timezone.utc)
    t0 = start + (bench.HISTORY_DAYS * 24 + 30) * H
    records = [Record(t0 + h * H + timedelta(minutes=10 * j), "s01", "p1", "xhs", True)
               for h in range(burst_hours) for j in range(3)]
    return bench.World(start, days, {"s01": 20.0}, ["p1"], records, [], {"s01": np.full(days * 24, 0.1)})


def test_oracle_alerts_once_on_a_burst_and_never_at_its_true_rate():
    quiet = _oracle_world(0)
    assert bench.oracle_alerts(quiet, 5.0, 7.0) == []
    assert bench.oracle_alerts(quiet, bench.ORACLE_RATIOS, 7.0) == []
    burst = _oracle_world(6)  # 3 negatives an hour where 0.1 is normal
    single = bench.oracle_alerts(burst, 5.0, 7.0)
    several = bench.oracle_alerts(burst, bench.ORACLE_RATIOS, 7.0)
    assert len(single) == len(several) == 1  # one incident, one alert (the hold)
    assert several[0].detected_at <= single[0].detected_at  # trying more rises never alerts later at one threshold


def test_the_bench_runs_with_a_given_table(capsys, tmp_path):
    """``--table`` hands tingfeng another calibration (how a budget is tried); a tiny chain keeps it quick."""
    from alerts.calibration import DEFAULT_TABLE

    path = tmp_path / "cal.json"
    path.write_text(DEFAULT_TABLE.read_text(encoding="utf-8"), encoding="utf-8")
    bench.main(["--seeds", "1", "--stores", "4", "--days", str(bench.HISTORY_DAYS + 8), "--table", str(path)])
    out = capsys.readouterr().out
    assert "| tingfeng |" in out and "| tingfeng, store warning budget 0.2 |" in out


def test_policy_overrides_parse_values_and_name_the_bad_field():
    from alerts.policy import AlertPolicy

    got = bench.policy_overrides(["cusum_max_hours=72", "cusum_ratios=[2, 4]", "timezone=Asia/Urumqi"])
    assert got == {"cusum_max_hours": 72, "cusum_ratios": [2, 4], "timezone": "Asia/Urumqi"}
    assert AlertPolicy(**got).cusum_ratios == (2.0, 4.0)
    with pytest.raises(SystemExit, match="cusum_hours"):
        bench.policy_overrides(["cusum_hours=72"])
    with pytest.raises(SystemExit, match="NAME=VALUE"):
        bench.policy_overrides(["cusum_max_hours"])


def test_star_ratings_change_only_the_labels_of_rated_mentions_and_match_the_stated_rate():
    plain, rated = bench.generate(4, 6, 20, incidents=False), bench.generate(4, 6, 20, incidents=False, ratings=True)
    assert [(r.time, r.store, r.platform) for r in plain.records] == [(r.time, r.store, r.platform) for r in rated.records]
    changed = [a.platform for a, b in zip(plain.records, rated.records) if a.negative != b.negative]
    assert changed and set(changed) <= set(bench.RATED)
    # the truth the oracle is handed follows the rated labels: negatives summed over the stream
    expected = sum(rated.normal_negative_rate[s].sum() for s in rated.stores)
    assert sum(r.negative for r in rated.records) == pytest.approx(expected, rel=0.1)
    assert expected < sum(plain.normal_negative_rate[s].sum() for s in plain.stores)  # fewer false negatives
