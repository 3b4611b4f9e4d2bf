"""The backtest CLI: CSV in, alerts CSV out, bad rows reported, no look-ahead."""

from __future__ import annotations

import csv
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from alerts.evidence import SEVERITY_ZH
from tingfeng.commands.alerts import app

SH = timezone(timedelta(hours=8))
START = datetime(2026, 9, 1, tzinfo=SH)
INCIDENT = START + timedelta(days=35, hours=12)


def write_csv(path: Path, *, until: datetime | None = None, bad_row: bool = True, stars: str | None = None) -> None:
    """``stars``: add a ``rating`` column; the bad evening's reviews get these stars and texts the model
    reads as fine (score 0.9), a bad rating row is added, every other row is unrated."""
    rng = np.random.default_rng(3)
    rows = []
    for d in range(38):
        for store, per_day in (("s1", 8), ("s2", 5), ("s3", 12)):
            for _ in range(rng.poisson(per_day)):
                at = START + timedelta(days=d, hours=float(rng.uniform(9, 22)))
                score = 0.1 if rng.random() < 0.1 else 0.9
                rows.append((at, store, "p1" if rng.random() < 0.5 else "", "dianping", score))
    for k in range(12):  # a bad evening at s1
        rows.append((INCIDENT + timedelta(minutes=20 * k), "s1", "p1", "meituan", 0.05 if stars is None else 0.9))
    rows.sort()
    with open(path, "w", newline="", encoding="utf-8") as handle:
        w = csv.writer(handle)
        w.writerow(["time", "store", "product", "platform", "score", "id", "text"] + ([] if stars is None else ["rating"]))
        for i, (at, store, product, platform, score) in enumerate(rows):
            if until is not None and at >= until:
                break
            rating = [] if stars is None else [stars if platform == "meituan" else ""]
            w.writerow([at.isoformat(), store, product, platform, score, i, "评论"] + rating)
            if bad_row and i == 5:
                w.writerow(["yesterday", "s1", "", "dianping", 0.5, "x", "坏行"] + rating)
            if stars is not None and i == 6:
                w.writerow([at.isoformat(), "s1", "", "dianping", 0.5, "y", "坏星", "六星"])


def run(tmp_path: Path, src: Path, name: str) -> tuple[object, list[dict]]:
    out = tmp_path / name
    result = CliRunner().invoke(app, ["backtest", str(src), "-o", str(out)])
    with open(out, encoding="utf-8") as handle:
        return result, list(csv.DictReader(handle))


def test_round_trip_with_bad_row(tmp_path):
    src = tmp_path / "mentions.csv"
    write_csv(src)
    result, rows = run(tmp_path, src, "alerts.csv")
    assert result.exit_code == 0, result.output
    assert ":8: skipped: time 'yesterday' is not ISO 8601" in result.output  # header is line 1
    assert rows and list(rows[0]) == ["scope_type", "scope_id", "detected_at", "window_start", "window_end",
                                      "severity", "reason"]
    near = INCIDENT - timedelta(days=2)
    s1 = [r for r in rows if r["scope_id"].split("|")[0] == "s1" and datetime.fromisoformat(r["detected_at"]) > near]
    assert len(s1) == 1
    detected = datetime.fromisoformat(s1[0]["detected_at"])
    assert INCIDENT < detected <= INCIDENT + timedelta(hours=6)
    assert s1[0]["severity"] in ("warning", "critical") and "差评激增" in s1[0]["reason"]
    quiet_stores = [r for r in rows if r["scope_id"] in ("s2", "s3")
                    and datetime.fromisoformat(r["detected_at"]) > near]
    assert not quiet_stores


def _s1_alerts_near_incident(rows: list[dict]) -> list[dict]:
    near = INCIDENT - timedelta(days=2)
    return [r for r in rows if r["scope_id"].split("|")[0] == "s1" and datetime.fromisoformat(r["detected_at"]) > near]


def test_one_star_reviews_count_as_negative_whatever_the_score(tmp_path):
    """The bad evening's reviews read as fine to the model but carry 1 star: the stars decide, as in
    the NLP stage; with 3 stars the model's reading stands and nothing is raised."""
    alerted = {}
    for stars in ("1", "3"):
        src = tmp_path / f"rated{stars}.csv"
        write_csv(src, bad_row=False, stars=stars)
        result, rows = run(tmp_path, src, f"alerts{stars}.csv")
        assert result.exit_code == 0, result.output
        assert ":9: skipped: rating '六星' is not a number" in result.output
        alerted[stars] = _s1_alerts_near_incident(rows)
    assert len(alerted["1"]) == 1 and "差评激增" in alerted["1"][0]["reason"]
    assert alerted["3"] == []


def test_no_look_ahead(tmp_path):
    """Cutting the input at the detection time changes nothing about that detection."""
    full = tmp_path / "full.csv"
    write_csv(full, bad_row=False)
    _, rows = run(tmp_path, full, "a.csv")
    first = next(r for r in rows if r["scope_id"].split("|")[0] == "s1"
                 and datetime.fromisoformat(r["detected_at"]) > INCIDENT)
    cut = tmp_path / "cut.csv"
    write_csv(cut, until=datetime.fromisoformat(first["detected_at"]), bad_row=False)
    _, rows_cut = run(tmp_path, cut, "b.csv")
    again = next(r for r in rows_cut if r["scope_id"].split("|")[0] == "s1"
                 and datetime.fromisoformat(r["detected_at"]) > INCIDENT)
    # severity is the highest an alert reached, so only what was known at detection must match
    assert (again["scope_type"], again["scope_id"], again["detected_at"], again["window_start"]) == (
        first["scope_type"], first["scope_id"], first["detected_at"], first["window_start"])


def test_missing_columns_and_bad_config(tmp_path):
    src = tmp_path / "m.csv"
    src.write_text("time,store\n2026-01-01T00:00:00+08:00,s1\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["backtest", str(src), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code == 1 and "missing column(s) product, platform, score" in result.output
    cfg = tmp_path / "t.toml"
    cfg.write_text('[alerts]\nquiet_hours = ["25:00", "08:00"]\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["backtest", str(src), "-o", str(tmp_path / "o.csv"), "--config", str(cfg)])
    assert result.exit_code == 2 and "quiet_hours" in result.output and "HH:MM" in result.output


CHAIN = [f"c{k}" for k in range(6)]


def chain_grid(own_incident_at: str | None = None):
    """Six stores; the smoothie (p9) goes bad in all of them the same evening.

    ``own_incident_at``: that store also has an incident of its own (the noodles, p1).
    """
    from alerts.backtest import Record, build_grid
    from alerts.policy import AlertPolicy

    rng = np.random.default_rng(5)
    records = []
    for d in range(36):
        for store in CHAIN:
            for _ in range(rng.poisson(12)):
                at = START + timedelta(days=d, hours=float(rng.uniform(9, 22)))
                records.append(Record(at.astimezone(timezone.utc), store, rng.choice(["p1", "p9"], p=[0.8, 0.2]),
                                      "dianping", bool(rng.random() < 0.1)))
    for store in CHAIN:
        for k in range(6):
            at = INCIDENT + timedelta(minutes=30 * k)
            records.append(Record(at.astimezone(timezone.utc), store, "p9", "meituan", True))
    if own_incident_at is not None:
        for k in range(10):
            at = INCIDENT + timedelta(minutes=20 * k)
            records.append(Record(at.astimezone(timezone.utc), own_incident_at, "p1", "dianping", True))
    records.sort(key=lambda r: r.time)
    policy = AlertPolicy(scope_types=("brand", "store", "product", "store_product"))
    return build_grid(records, policy.scope_types, policy.lookback_hours), policy


def late_alerts(grid, policy, **kw):
    from alerts.backtest import run_backtest

    return [a for a in run_backtest(grid, policy, **kw) if a.detected_at >= INCIDENT - timedelta(hours=1)]


def test_chain_product_incident_is_one_alert_naming_the_stores():
    """A product gone bad in every store is one product alert naming them: no brand, store or store × product alert."""
    grid, policy = chain_grid()
    late = late_alerts(grid, policy)
    assert [(a.scope_type, a.scope_id) for a in late] == [("product", "p9")]
    named = late[0].reason.split("涉及门店：", 1)[1]
    assert all(s in named for s in CHAIN) and "共 6 家" in named and "各店不再单独提醒" in named
    unexplained = late_alerts(grid, policy, explain=False)  # what the manager would get without explaining away
    assert {a.scope_type for a in unexplained} >= {"brand", "product", "store"} and len(unexplained) >= 4
    # a reason's label is the alert's severity, also when it rose after opening (the brand here)
    assert all(a.reason.startswith(f"【{SEVERITY_ZH[a.severity]}】") for a in unexplained)


def test_store_with_its_own_incident_beside_a_chain_product_incident_still_alerts():
    """A store with excess beyond the product opens its own alert; the product alert says so."""
    grid, policy = chain_grid(own_incident_at="c3")
    late = late_alerts(grid, policy)
    assert [(a.scope_type, a.scope_id) for a in late if a.scope_type != "product"] == [("store", "c3")]
    (product,) = [a for a in late if a.scope_type == "product"]
    named = product.reason.split("涉及门店：", 1)[1]
    assert all(s in named for s in CHAIN) and "其余各店不再单独提醒" in named
    assert re.search(r"c3（多 \d+ 条，另有门店提醒）", named) and not re.search(r"c0（[^）]*另有", named)
