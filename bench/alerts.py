"""Spike-detection benchmark: our detector vs two naive baselines on synthetic streams.

    .venv/bin/python bench/alerts.py --seeds 1 2 3

Each seed generates a chain of ``--stores`` stores over ``--days`` evaluated days (plus
28 days of history): volumes log-uniform 0.5–50 mentions/day, meal-time and weekend
seasonality, day-to-day wobble of the negative share, benign promotions (volume ×3,
same negative share) and injected incidents at store or store × product level lasting
3 h–3 days with the negative rate ×2–×10. The detector is the backtest code
(:func:`alerts.backtest.run_backtest`, the same code the live job runs), stepped hourly
with no look-ahead. Baselines, evaluated once per local day on each store:
``share>30%`` (daily negative share above 30 %) and ``mean+3σ`` (daily negative count
above the trailing 28-day mean + 3 standard deviations). Two ``ceiling`` rows show
what is attainable at all: a CUSUM that is handed each store's true hourly normal
rate (no real detector has it) at a loose and a strict threshold. Most ×3 incidents
add only one or two negative mentions, so not even the ceiling finds them.

Reported: incident recall (all, ×3 and more), alert precision, median / p90 detection
delay (all, stores ≥ 5 mentions/day), false alerts per store per 30 quiet days.
Seed 0 is the tuning seed: do not report it.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alerts.backtest import BacktestAlert, Record, build_grid, run_backtest  # noqa: E402
from alerts.policy import AlertPolicy  # noqa: E402

UTC = timezone.utc
TZ_OFFSET = timedelta(hours=8)  # Asia/Shanghai, no DST
HISTORY_DAYS = 28
OBSERVABLE = 5  # an incident that adds fewer negative mentions than this is invisible to any detector
GRACE = timedelta(hours=24)  # an alert this long after an incident ended still counts as its detection
# local hour-of-day volume profile: quiet nights, lunch and dinner peaks
HOD = np.array([0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 0.6, 0.9, 1.0, 1.3, 2.2,
                2.5, 1.8, 1.1, 1.0, 1.2, 1.9, 2.3, 1.8, 1.3, 1.0, 0.7, 0.4])
DOW = np.array([0.9, 0.9, 0.95, 0.95, 1.1, 1.3, 1.25])


@dataclass
class Incident:
    store: str
    product: str | None  # None: the whole store
    start: datetime
    end: datetime
    multiplier: float
    per_day: float  # the store's normal volume
    extra_negatives: int = 0  # negative mentions the incident actually added
    third_at: datetime | None = None  # end of the hour its 3rd extra negative arrived: the evidence floor


@dataclass
class World:
    start: datetime  # UTC instant of local midnight, day 0
    days: int
    stores: dict[str, float]  # store -> mentions/day
    records: list[Record]
    incidents: list[Incident]
    normal_negative_rate: dict[str, np.ndarray]  # store -> expected negatives per hour without incidents


def generate(seed: int, n_stores: int, eval_days: int, n_products: int = 5) -> World:
    """A synthetic chain: history days without incidents, then evaluated days with them."""
    rng = np.random.default_rng(seed)
    days = HISTORY_DAYS + eval_days
    start = datetime(2026, 6, 1, tzinfo=UTC) - TZ_OFFSET
    hours = days * 24
    hod = np.tile(HOD, days)
    dow = np.repeat([(start + TZ_OFFSET + timedelta(days=d)).weekday() for d in range(days)], 24)
    season = hod * DOW[dow]
    season = season / season.mean()
    products = [f"p{i}" for i in range(n_products)]
    popularity = rng.dirichlet(np.full(n_products, 2.0))
    platforms = ["dianping", "meituan", "xhs"]
    stores = {f"s{i:02d}": float(math.exp(rng.uniform(math.log(0.5), math.log(50)))) for i in range(n_stores)}
    records: list[Record] = []
    incidents: list[Incident] = []
    truth: dict[str, np.ndarray] = {}
    for store, per_day in stores.items():
        share = rng.uniform(0.05, 0.2)
        day_share = np.clip(share * rng.lognormal(0, 0.25, days), 0.005, 0.6)
        wobble = np.repeat(rng.lognormal(0, 0.2, days), 24)  # day-to-day volume swings
        rate = per_day / 24 * season * wobble  # mentions per hour
        promo = np.ones(hours)
        for _ in range(rng.poisson(1.5)):  # benign promotions: volume x3, same share
            d0 = rng.integers(HISTORY_DAYS, days - 3)
            promo[d0 * 24: (d0 + rng.integers(1, 4)) * 24] = 3.0
        hourly_share = np.repeat(day_share, 24)
        extra_store = np.zeros(hours)
        extra_product = {p: np.zeros(hours) for p in products}
        t = HISTORY_DAYS * 24 + int(rng.integers(0, 10 * 24))
        while True:  # incidents, separated by at least a week of quiet
            dur = int(round(math.exp(rng.uniform(math.log(3), math.log(72)))))
            if t + dur >= hours - 24:
                break
            k = float(rng.uniform(2, 10))
            product = str(rng.choice(products, p=popularity)) if rng.random() < 0.35 else None
            weight = 1.0 if product is None else popularity[products.index(product)]
            extra = rng.poisson((k - 1) * rate[t:t + dur] * hourly_share[t:t + dur] * weight)
            (extra_store if product is None else extra_product[product])[t:t + dur] += extra
            cum = np.cumsum(extra)
            third = start + (t + int(np.argmax(cum >= 3)) + 1) * HOUR if cum[-1] >= 3 else None
            incidents.append(Incident(store, product, start + t * HOUR, start + (t + dur) * HOUR, k, per_day,
                                      int(extra.sum()), third))
            t += dur + int(rng.integers(7 * 24, 20 * 24))
        lam = rate * promo
        truth[store] = lam * hourly_share
        counts = rng.poisson(lam)
        for h in np.nonzero(counts)[0]:
            for _ in range(counts[h]):
                records.append(Record(start + (h + rng.random()) * HOUR, store,
                                      str(rng.choice(products, p=popularity)), str(rng.choice(platforms)),
                                      bool(rng.random() < hourly_share[h])))
        for product, extra in [(None, extra_store), *extra_product.items()]:
            for h in np.nonzero(extra)[0]:
                for _ in range(int(extra[h])):
                    p = product or str(rng.choice(products, p=popularity))
                    records.append(Record(start + (h + rng.random()) * HOUR, store, p, str(rng.choice(platforms)),
                                          True))
    records.sort(key=lambda r: r.time)
    return World(start, days, stores, records, incidents, truth)


HOUR = timedelta(hours=1)


# --------------------------------------------------------------------------- baselines


def daily_store_counts(world: World) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Per store and local day: (totals, negatives)."""
    names = sorted(world.stores)
    idx = {s: i for i, s in enumerate(names)}
    tot = np.zeros((len(names), world.days))
    neg = np.zeros((len(names), world.days))
    for r in world.records:
        d = int((r.time - world.start) / timedelta(days=1))
        tot[idx[r.store], d] += 1
        neg[idx[r.store], d] += r.negative
    return names, tot, neg


def baseline_alerts(world: World, rule: str) -> list[BacktestAlert]:
    """Alerts of a daily store-level baseline rule; consecutive firing days are one alert."""
    names, tot, neg = daily_store_counts(world)
    out: list[BacktestAlert] = []
    for i, store in enumerate(names):
        open_alert = None
        for d in range(HISTORY_DAYS, world.days):
            if rule == "share>30%":
                fire = tot[i, d] > 0 and neg[i, d] / tot[i, d] > 0.30
            else:
                hist = neg[i, d - HISTORY_DAYS:d]
                fire = neg[i, d] > hist.mean() + 3 * hist.std() and neg[i, d] >= 1
            day_end = world.start + timedelta(days=d + 1)
            if fire and open_alert is None:
                open_alert = BacktestAlert("store", store, day_end, day_end - timedelta(days=1), day_end, "warning",
                                           rule)
                out.append(open_alert)
            elif fire:
                open_alert.window_end = day_end
            else:
                open_alert = None
    return out


def oracle_alerts(world: World, ratio: float, threshold: float, hold_hours: int = 48) -> list[BacktestAlert]:
    """A ceiling, not a detector: Poisson CUSUM per store that knows each hour's true normal rate.

    No real detector can know the generator's hourly negative rate (seasonality,
    day-to-day wobble, promotions); this one does, so its recall and delay at a given
    false-alert rate bound what any detector can reach on these streams. One alert,
    then ``hold_hours`` of silence for the same store (one incident, one alert).
    """
    names = sorted(world.stores)
    idx = {s: i for i, s in enumerate(names)}
    neg = np.zeros((len(names), world.days * 24))
    for r in world.records:
        if r.negative:
            neg[idx[r.store], int((r.time - world.start) / HOUR)] += 1
    out: list[BacktestAlert] = []
    for store in names:
        step = neg[idx[store]] * math.log(ratio) - (ratio - 1) * world.normal_negative_rate[store]
        stat, quiet_until = 0.0, -1
        for t in range(HISTORY_DAYS * 24, world.days * 24):
            stat = max(0.0, stat + step[t])
            if stat >= threshold:
                if t >= quiet_until:
                    at = world.start + (t + 1) * HOUR
                    out.append(BacktestAlert("store", store, at, at - HOUR, at, "warning", "oracle"))
                    quiet_until = t + hold_hours
                stat = 0.0
    return out


ORACLES = {"ceiling: oracle CUSUM h=4.5": 4.5, "ceiling: oracle CUSUM h=7": 7.0}

# --------------------------------------------------------------------------- scoring


def covers(alert: BacktestAlert, inc: Incident, family_only: bool) -> bool:
    """Whether an alert's scope is the incident's (store family), or contains it (brand, product).

    A product alert contains a store × product incident of that product, and a store-level
    incident too: the generator spreads that incident's extra negatives over the store's
    products, so the chain-wide product total really carries them.
    """
    store = alert.scope_id.split("|", 1)[0]
    if alert.scope_type in ("store", "store_product"):
        return store == inc.store
    if family_only:
        return False
    if alert.scope_type == "brand":
        return True
    if alert.scope_type == "product":
        # a store-level incident's extra negatives fall on every product the store sells
        return inc.product is None or inc.product == alert.scope_id
    return False


def in_time(alert: BacktestAlert, inc: Incident) -> bool:
    return inc.start <= alert.detected_at <= inc.end + GRACE


def score(world: World, alerts: list[BacktestAlert]) -> dict[str, float]:
    """Recall, precision, delays and the quiet-time false-alert rate."""
    detected, delays, delays_busy, floors_busy = [], [], [], []
    for inc in world.incidents:
        hits = [a for a in alerts if covers(a, inc, True) and in_time(a, inc)]
        detected.append(bool(hits))
        if hits:
            delay = (min(a.detected_at for a in hits) - inc.start) / HOUR
            delays.append(delay)
            if inc.per_day >= 5:
                delays_busy.append(delay)
                if inc.third_at is not None:
                    floors_busy.append((inc.third_at - inc.start) / HOUR)
    matched = [any(covers(a, inc, False) and in_time(a, inc) for inc in world.incidents) for a in alerts]
    store_false = sum(1 for a, m in zip(alerts, matched) if not m and a.scope_type in ("store", "store_product"))
    incident_days = sum((i.end - i.start + GRACE) / timedelta(days=1) for i in world.incidents)
    quiet_days = len(world.stores) * (world.days - HISTORY_DAYS) - incident_days
    strong = [d for d, i in zip(detected, world.incidents) if i.multiplier >= 3]
    observable = [d for d, i in zip(detected, world.incidents) if i.multiplier >= 3 and i.extra_negatives >= OBSERVABLE]
    return {
        "incidents": len(world.incidents),
        "recall": float(np.mean(detected)) if detected else float("nan"),
        "recall_x3": float(np.mean(strong)) if strong else float("nan"),
        "recall_x3_obs": float(np.mean(observable)) if observable else float("nan"),
        "observable": len(observable),
        "alerts": len(alerts),
        "precision": float(np.mean(matched)) if matched else float("nan"),
        "delay_median_h": float(np.median(delays)) if delays else float("nan"),
        "delay_p90_h": float(np.percentile(delays, 90)) if delays else float("nan"),
        "delay_median_busy_h": float(np.median(delays_busy)) if delays_busy else float("nan"),
        "floor_median_busy_h": float(np.median(floors_busy)) if floors_busy else float("nan"),
        "false_per_store_30d": store_false / max(quiet_days, 1e-9) * 30 * 1,
    }


COLUMNS = [("recall", "recall"), ("recall_x3", "recall ×3+"), ("recall_x3_obs", f"recall ×3+ ≥{OBSERVABLE} extra neg"), ("precision", "precision"),
           ("delay_median_h", "median delay h"), ("delay_p90_h", "p90 delay h"),
           ("delay_median_busy_h", "median delay h (≥5/day)"),
           ("floor_median_busy_h", "same incidents: median h to 3rd extra negative"), ("false_per_store_30d", "false /store/30 quiet d"),
           ("alerts", "alerts"), ("incidents", "incidents"), ("observable", f"×3+ ≥{OBSERVABLE} extra neg")]


def run(seeds: list[int], n_stores: int, eval_days: int, policy: AlertPolicy) -> dict[str, list[dict]]:
    """Every detector on every seed."""
    results: dict[str, list[dict]] = {"tingfeng": [], "share>30%": [], "mean+3σ": []}
    for seed in seeds:
        t0 = time.perf_counter()
        world = generate(seed, n_stores, eval_days)
        grid = build_grid(world.records, policy.scope_types, policy.lookback_hours)
        ours = run_backtest(grid, policy, warmup_days=HISTORY_DAYS)
        results["tingfeng"].append(score(world, ours))
        for rule in ("share>30%", "mean+3σ"):
            results[rule].append(score(world, baseline_alerts(world, rule)))
        for name, threshold in ORACLES.items():
            results.setdefault(name, []).append(score(world, oracle_alerts(world, 5.0, threshold)))
        print(f"seed {seed}: {len(world.records)} mentions, {len(world.incidents)} incidents, "
              f"{time.perf_counter() - t0:.0f}s", file=sys.stderr)
    return results


def table(results: dict[str, list[dict]]) -> str:
    """Markdown table of the means over seeds."""
    lines = ["| detector | " + " | ".join(label for _, label in COLUMNS) + " |",
             "| --- |" + " --- |" * len(COLUMNS)]
    for name, rows in results.items():
        cells = []
        for key, _ in COLUMNS:
            vals = [r[key] for r in rows if not math.isnan(r[key])]
            v = float(np.mean(vals)) if vals else float("nan")
            cells.append(f"{v:.0f}" if key in ("alerts", "incidents", "observable") else f"{v:.2f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def bench_rollups(n: int, url: str | None) -> str:
    """Time ``update_rollups`` over ``n`` analysed mentions (40 stores, 60 days) on a fresh database."""
    import tempfile
    import uuid

    import sqlalchemy as sa

    from alerts.rollups import mark_all_dirty, update_rollups
    from storage import Database, make_url_for_path
    from storage.models import Mention, MentionAnalysis, MentionTouchpoint

    if url:  # a scratch database on the given PostgreSQL server
        name = f"tingfeng_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(Database(url).url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        db = Database(sa.engine.make_url(Database(url).url).set(database=name).render_as_string(hide_password=False))
    else:
        db = Database(make_url_for_path(Path(tempfile.mkdtemp()) / "bench.db"))
    try:
        db.upgrade()
        rng = np.random.default_rng(0)
        start = datetime(2026, 6, 1, tzinfo=UTC)
        offsets = np.sort(rng.uniform(0, 60 * 86400, n))
        labels = rng.choice(["positive", "neutral", "negative"], n, p=[0.7, 0.15, 0.15])
        for lo in range(0, n, 50_000):
            hi = min(n, lo + 50_000)
            ms, mas, tps = [], [], []
            for i in range(lo, hi):
                at = start + timedelta(seconds=float(offsets[i]))
                ms.append(dict(id=i + 1, source_id="src", external_id=str(i), platform="dianping", kind="review",
                               text="x", published_at=at, collected_at=at, content_hash=str(i), extra={}))
                mas.append(dict(mention_id=i + 1, published_at=at, platform=("dianping", "xhs")[i % 2],
                                brand_id="b1", region_id=f"r{i % 4}", store_id=f"s{i % 40}", product_id=f"p{i % 5}",
                                link_confidence=1.0, links=[], model="t", model_version="1", score=0.5,
                                label=str(labels[i]), urgent=False, urgent_terms=[], keywords=[], counted=True,
                                scored_at=at))
                if i % 3 == 0:
                    tps.append(dict(mention_id=i + 1, touchpoint="service", polarity=str(labels[i]), score=0.5,
                                    evidence="x", start=0, end=1))
            with db.engine.begin() as conn:
                conn.execute(Mention.__table__.insert(), ms)
                conn.execute(MentionAnalysis.__table__.insert(), mas)
                conn.execute(MentionTouchpoint.__table__.insert(), tps)
        mark_all_dirty(db)
        t0 = time.perf_counter()
        rows = update_rollups(db)
        full = time.perf_counter() - t0
        with db.engine.begin() as conn:  # one late mention: one day dirty again
            conn.execute(sa.text("INSERT INTO rollup_dirty (day) VALUES (:d)"), {"d": (start + timedelta(days=30)).date()})
        t0 = time.perf_counter()
        update_rollups(db)
        one_day = time.perf_counter() - t0
        return (f"update_rollups on {db.dialect}: {n} mentions over 60 days -> {rows} rollup rows in {full:.1f}s; "
                f"one dirty day afterwards in {one_day:.2f}s")
    finally:
        db.dispose()
        if url:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run, print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--stores", type=int, default=40)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--rollups", type=int, default=0, metavar="N",
                        help="instead: time update_rollups over N mentions (SQLite, and --pg URL if given)")
    parser.add_argument("--pg", default=None, help="PostgreSQL server URL for --rollups")
    args = parser.parse_args(argv)
    if args.rollups:
        print(bench_rollups(args.rollups, None))
        if args.pg:
            print(bench_rollups(args.rollups, args.pg))
        return
    policy = AlertPolicy(scope_types=("brand", "store", "product", "store_product"))
    t0 = time.perf_counter()
    results = run(args.seeds, args.stores, args.days, policy)
    print(table(results))
    print(f"\n{args.stores} stores × {args.days} days, seeds {args.seeds}, {time.perf_counter() - t0:.0f}s")


if __name__ == "__main__":
    main()
