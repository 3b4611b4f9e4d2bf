"""Spike-detection benchmark on realistic synthetic streams: detectors, baselines, a ceiling.

    .venv/bin/python bench/alerts.py --seeds 1 2 3

Each seed generates a chain of ``--stores`` stores (default 48) over ``--days`` days
(default 75, of which the first 28 are history without incidents). What real mention
streams have and the generator reproduces:

* volume log-uniform 0.5–50 mentions/day per store, with a store-specific weekday ×
  meal-hour profile (some stores live on lunch, some on dinner) and day-to-day swings;
* a true negative share of 8–30 % per store, wobbling from day to day;
* clumps: one visit produces several mentions (cross-posts, friends at the same
  table) with the same sentiment — counts are over-dispersed, not Poisson;
* classifier noise: every mention gets a score from a noisy classifier with about
  12 % of mentions on the wrong side of 0.5; the detector sees only the label
  (negative below 0.4) the NLP stage would give it;
* star ratings (``--ratings`` only): mentions on the review platforms (dianping, meituan:
  half of them) carry stars, 1–2 / 3 / 4–5 with probabilities 0.70 / 0.20 / 0.10 for a
  bad visit and 0.03 / 0.12 / 0.85 otherwise, and are labelled by them where clear, as
  the NLP stage does (:mod:`nlp.ratings`); the streams are otherwise the same;
* promotions: volume ×3 for 1–3 days at the same negative share;
* store incidents: the negative rate ×2–×10 for 4–72 h; their negatives land on the
  store's products like any other mention; some incidents are one store's product;
* product incidents across stores (a bad batch): one product's negatives ×2–×6 in
  40–100 % of stores for 12–72 h; product scopes sum every store.

Detectors: ``tingfeng`` (the calibrated detector, :func:`alerts.backtest.run_backtest`,
the same code the live job runs, stepped hourly with no look-ahead), ``tingfeng, no
explain-away`` (the same without :mod:`alerts.attribution`: what explaining away saves
per incident), ``tingfeng, store warning budget 0.2`` (the same with the table fitted to
the looser store budget it had before 2026-12-07), ``before: ×3/×8 scan`` (the calibrated detector whose CUSUM scan tried
only rises of ×3 and ×8, with the table calibrated for it), ``previous`` (the detector
before calibration and explaining away, ``AlertPolicy(calibrated=False)`` with that
scan), and two daily
store baselines: ``share>30%`` and ``mean+3σ`` (daily negatives above the trailing
28-day mean + 3σ). The ``ceiling`` rows are CUSUMs handed each store's true hourly
normal negative rate (no real detector has it), at the lowest threshold (steps of 0.25)
whose false store alerts per store-month do not exceed ``tingfeng``'s: one tuned to a ×5
rise, and one that tries ×2/×3/×5/×8 like the detector's scan.

Delay (issue 12's "median delay on stores with ≥ 5 mentions/day"): over the detected
recall targets at stores of ≥ 5 mentions/day, the median hours from the incident's
*onset* to its store family's first alert of any severity. The onset is its drawn
start, or the store's next opening hour (08:00 local) when it is drawn to start while
the store is closed: its extra negatives follow the store's traffic, so nothing of it
can show before (:func:`onset`). The delay from the drawn start is printed beside it.
``--breakdown`` prints the recall targets one by one.

One incident, one alert: "alerts per alerted product incident" counts, over the product
incidents that raised any alert, the product's alert, brand alerts and the store-level
alerts in its stores that no store incident explains; "brand/product alerts per detected
store incident" the aggregate alerts raised beside a detected store incident's own.

Seed 0 is the tuning seed: do not report it.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alerts.backtest import BacktestAlert, Record, build_grid, run_backtest  # noqa: E402
from alerts.calibration import CALENDAR_TABLE, CalibrationTable, load_table  # noqa: E402
from alerts.policy import AlertPolicy  # noqa: E402
from alerts.spikes import Promotion  # noqa: E402
from nlp.models.base import NEUTRAL_LOW  # noqa: E402

UTC = timezone.utc
TZ_OFFSET = timedelta(hours=8)  # Asia/Shanghai, no DST
HOUR = timedelta(hours=1)
HISTORY_DAYS = 28
TARGET_EXTRA = 10  # recall is measured on incidents ×3+ that add at least this many negative mentions
PRODUCT_EVIDENCE = 5  # extra negatives a store incident must put on a product to explain its product alert
GRACE = timedelta(hours=24)  # an alert this long after an incident ended still counts as its detection
# meal-hour shapes (local time): a store's hour-of-day profile mixes them with its own weights
_H = np.arange(24)
LUNCH = np.exp(-0.5 * ((_H - 12.0) / 1.3) ** 2)
DINNER = np.exp(-0.5 * ((_H - 18.5) / 1.6) ** 2)
DAYTIME = ((_H >= 8) & (_H <= 22)).astype(float)
DOW = np.array([0.9, 0.9, 0.95, 0.95, 1.1, 1.3, 1.25])
# classifier noise: logit = ±SHIFT + NOISE·z puts Φ(−SHIFT/NOISE) ≈ 12 % on the wrong side of 0.5
SCORE_SHIFT, SCORE_NOISE = 1.76, 1.5
CLUMP_NEG, CLUMP_OTHER = 0.1, 0.05  # extra mentions per visit (cross-posts, friends at the table)
PRODUCT_WOBBLE = 0.4  # day-to-day relative spread of a product's negative share, chain-wide
PLATFORMS = ("dianping", "meituan", "xhs", "douyin")
# star ratings (``--ratings``): the review platforms carry them; P(1–2 / 3 / 4–5 stars | the visit)
RATED = ("dianping", "meituan")
STARS_NEGATIVE = (0.70, 0.20, 0.10)  # a bad visit: mostly 1–2 stars, some 3, a few 4 with a complaint
STARS_OTHER = (0.03, 0.12, 0.85)


@dataclass
class Incident:
    store: str  # "*": a product incident across stores (see ``stores``)
    product: str | None  # None: the whole store
    start: datetime
    end: datetime
    multiplier: float
    per_day: float  # the store's normal volume (0 for a product incident across stores)
    extra_negatives: int = 0  # negative-labelled mentions the incident actually added
    third_at: datetime | None = None  # end of the hour its 3rd extra negative arrived: the evidence floor
    stores: tuple[str, ...] = ()  # the stores a product incident across stores touches
    by_product: dict[str, int] = field(default_factory=dict)  # extra negatives that landed on each product
    expected_negatives: float = 0.0  # negative-labelled mentions its scope would have had anyway (store incidents)

    @property
    def chain(self) -> bool:
        return self.store == "*"


@dataclass
class World:
    start: datetime  # UTC instant of local midnight, day 0
    days: int
    stores: dict[str, float]  # store -> mentions/day
    products: list[str]
    records: list[Record]
    incidents: list[Incident]
    normal_negative_rate: dict[str, np.ndarray]  # store -> expected negative-labelled mentions per hour, no incident
    promotions: list[Promotion] = field(default_factory=list)  # the chain's promotion calendar (what marketing planned)


@dataclass
class _Visits:
    """Visits of one kind for one store: hour, true sentiment, product."""

    hour: list[np.ndarray] = field(default_factory=list)
    negative: list[np.ndarray] = field(default_factory=list)
    product: list[np.ndarray] = field(default_factory=list)


def _label_negative(rng: np.random.Generator, negative: np.ndarray) -> np.ndarray:
    """What a noisy classifier + the NLP labelling rule (negative below 0.4) say."""
    logit = np.where(negative, -SCORE_SHIFT, SCORE_SHIFT) + SCORE_NOISE * rng.standard_normal(negative.size)
    return 1.0 / (1.0 + np.exp(-logit)) < NEUTRAL_LOW


def _p_label_negative(truly_negative: bool) -> float:
    from scipy.stats import norm

    cut = math.log(NEUTRAL_LOW / (1 - NEUTRAL_LOW))
    return float(norm.cdf((cut - (-SCORE_SHIFT if truly_negative else SCORE_SHIFT)) / SCORE_NOISE))


def _p_rated_negative(truly_negative: bool) -> float:
    """P(negative | a rated mention): 1–2 stars, or 3 stars and the classifier says negative."""
    low, mid, _ = STARS_NEGATIVE if truly_negative else STARS_OTHER
    return low + mid * _p_label_negative(truly_negative)


def _stars_label(rng: np.random.Generator, negative: np.ndarray, classifier: np.ndarray) -> np.ndarray:
    """The label of rated mentions: their stars where clear (1–2, 4–5), the classifier's at 3."""
    u = rng.random(negative.size)
    low = np.where(negative, STARS_NEGATIVE[0], STARS_OTHER[0])
    mid = np.where(negative, STARS_NEGATIVE[1], STARS_OTHER[1])
    return (u < low) | ((u < low + mid) & classifier)


def _season(rng: np.random.Generator, days: int, start: datetime) -> np.ndarray:
    """A store's own weekday × meal-hour volume profile, mean 1."""
    lunch = rng.uniform(0.2, 0.8)
    hod = 0.15 * DAYTIME + 0.02 + lunch * LUNCH + (1 - lunch) * DINNER
    weekend = rng.uniform(0.9, 1.5)
    dow_store = DOW * np.where(np.arange(7) >= 5, weekend, 1.0)
    dow = np.repeat([(start + TZ_OFFSET + timedelta(days=d)).weekday() for d in range(days)], 24)
    season = np.tile(hod, days) * dow_store[dow]
    return season / season.mean()


def _incident_span(rng: np.random.Generator, lo: float, hi: float) -> int:
    return int(round(math.exp(rng.uniform(math.log(lo), math.log(hi)))))


def generate(seed: int, n_stores: int, days: int, n_products: int = 6, incidents: bool = True,
             ratings: bool = False) -> World:
    """A synthetic chain: ``HISTORY_DAYS`` without incidents, then days with them.

    ``incidents=False`` gives a null stream (everything but incidents), as the
    calibration of false-alarm budgets needs. ``ratings``: mentions on the review
    platforms (:data:`RATED`) carry stars, and their label is the stars' where they are
    clear (what the NLP stage does); the same streams otherwise (stars have their own
    random draws).
    """
    with_incidents = incidents
    rng = np.random.default_rng(seed)
    star_rng = np.random.default_rng([seed, 5])
    start = datetime(2026, 6, 1, tzinfo=UTC) - TZ_OFFSET
    hours = days * 24
    products = [f"p{i}" for i in range(n_products)]
    popularity = rng.dirichlet(np.full(n_products, 2.0))
    stores = {f"s{i:02d}": float(math.exp(rng.uniform(math.log(0.5), math.log(50)))) for i in range(n_stores)}
    # a dish's quality varies from day to day chain-wide (deliveries, staff): its negative share wobbles
    dish_day = rng.lognormal(0, PRODUCT_WOBBLE, (n_products, days))
    # and sells at its own hours (breakfast congee, late-night skewers): product mix by local hour
    phase, amp = rng.uniform(0, 24, n_products), rng.uniform(0.3, 0.95, n_products)
    mix = popularity[:, None] * (1 + amp[:, None] * np.cos(2 * np.pi * (_H[None, :] - phase[:, None]) / 24))
    mix = mix / mix.sum(0)  # n_products x 24: P(product | local hour)
    cum_mix = np.cumsum(mix, 0)
    size_neg, size_other = 1 + CLUMP_NEG, 1 + CLUMP_OTHER
    p_neg, p_fp = _p_label_negative(True), _p_label_negative(False)
    if ratings:  # platforms are drawn uniformly: half the mentions are rated
        rated = len(RATED) / len(PLATFORMS)
        p_neg = (1 - rated) * p_neg + rated * _p_rated_negative(True)
        p_fp = (1 - rated) * p_fp + rated * _p_rated_negative(False)
    incidents: list[Incident] = []
    promotions: list[Promotion] = []
    truth: dict[str, np.ndarray] = {}
    visit_rate: dict[str, np.ndarray] = {}
    share_of: dict[str, np.ndarray] = {}
    visits = {s: _Visits() for s in stores}
    incident_visits: list[tuple[Incident, str, np.ndarray, np.ndarray]] = []  # incident, store, hours, product

    def extra_visits(lam: np.ndarray, t0: int, product: str | None, p: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        n = rng.poisson(lam)
        hrs = t0 + np.repeat(np.arange(lam.size), n)
        prods = (np.full(hrs.size, product) if product is not None
                 else rng.choice(products, size=hrs.size, p=popularity))
        return hrs, prods

    for store, per_day in stores.items():
        share = rng.uniform(0.08, 0.30)
        day_share = np.clip(share * rng.lognormal(0, 0.15, days), 0.01, 0.7)
        hourly_share = np.repeat(day_share, 24)
        wobble = np.repeat(rng.lognormal(0, 0.2, days), 24)  # day-to-day volume swings
        promo = np.ones(hours)
        for _ in range(rng.poisson(2.5)):  # promotions: volume x3, same share (some in the history too)
            d0 = int(rng.integers(0, days - 3))
            d1 = d0 + int(rng.integers(1, 4))
            promo[d0 * 24: d1 * 24] = 3.0
            promotions.append(Promotion(store, start + d0 * 24 * HOUR, start + d1 * 24 * HOUR))
        mention_rate = per_day / 24 * _season(rng, days, start) * wobble * promo
        mean_size = hourly_share * size_neg + (1 - hourly_share) * size_other
        vr = mention_rate / mean_size  # visits per hour
        visit_rate[store], share_of[store] = vr, hourly_share
        truth[store] = vr * (hourly_share * size_neg * p_neg + (1 - hourly_share) * size_other * p_fp)
        n = rng.poisson(vr)
        hrs = np.repeat(np.arange(hours), n)
        visits[store].hour.append(hrs)
        prod_idx = np.minimum((rng.random(hrs.size)[None, :] > cum_mix[:, (hrs + 8) % 24]).sum(0), n_products - 1)
        share_h = np.clip(hourly_share[hrs] * dish_day[prod_idx, hrs // 24], 0.0, 0.9)
        visits[store].negative.append(rng.random(hrs.size) < share_h)
        visits[store].product.append(np.array(products)[prod_idx])
        t = HISTORY_DAYS * 24 + int(rng.integers(0, 30 * 24))
        while with_incidents:  # store incidents, about one a month per store
            dur = _incident_span(rng, 4, 72)
            if t + dur >= hours - 24:
                break
            k = float(rng.uniform(2, 10))
            product = str(rng.choice(products, p=popularity)) if rng.random() < 0.3 else None
            weight = 1.0 if product is None else popularity[products.index(product)]
            lam = (k - 1) * vr[t:t + dur] * hourly_share[t:t + dur] * weight
            hrs, prods = extra_visits(lam, t, product)
            inc = Incident(store, product, start + t * HOUR, start + (t + dur) * HOUR, k, per_day,
                           expected_negatives=float(truth[store][t:t + dur].sum() * weight))
            incidents.append(inc)
            incident_visits.append((inc, store, hrs, prods))
            t += dur + int(rng.integers(14 * 24, 60 * 24))
    for _ in range(rng.poisson(2.0) if with_incidents else 0):  # product incidents across stores (a bad batch, a recipe change)
        dur = _incident_span(rng, 12, 72)
        t = int(rng.integers(HISTORY_DAYS * 24, hours - dur - 24))
        j = int(rng.choice(n_products, p=popularity))
        k = float(rng.uniform(2, 6))
        hit = [s for s in stores if rng.random() < rng.uniform(0.4, 1.0)]
        inc = Incident("*", products[j], start + t * HOUR, start + (t + dur) * HOUR, k, 0.0, stores=tuple(hit))
        incidents.append(inc)
        for store in hit:
            lam = (k - 1) * visit_rate[store][t:t + dur] * share_of[store][t:t + dur] * popularity[j]
            hrs, prods = extra_visits(lam, t, products[j])
            incident_visits.append((inc, store, hrs, prods))

    records: list[Record] = []

    def emit(store: str, hrs: np.ndarray, negative: np.ndarray, prods: np.ndarray) -> np.ndarray:
        """Mentions of these visits (clumped); returns hours and products of the negative-labelled ones."""
        size = 1 + rng.poisson(np.where(negative, CLUMP_NEG, CLUMP_OTHER))
        at = np.repeat(hrs + rng.random(hrs.size), size)
        first = np.repeat(np.cumsum(size) - size, size)
        at = at + np.where(np.arange(at.size) == first, 0.0, rng.exponential(1.0, at.size))  # cross-posts lag
        truly = np.repeat(negative, size)
        neg = _label_negative(rng, truly)
        prod = np.repeat(prods, size)
        plat = rng.choice(PLATFORMS, size=at.size)
        if ratings:
            neg = np.where(np.isin(plat, RATED), _stars_label(star_rng, truly, neg), neg)
        keep = at < hours
        for a, s_neg, p, pl in zip(at[keep], neg[keep], prod[keep], plat[keep]):
            records.append(Record(start + float(a) * HOUR, store, str(p), str(pl), bool(s_neg)))
        order = np.argsort(at[keep & neg])
        return at[keep & neg][order], prod[keep & neg][order]

    for store, v in visits.items():
        emit(store, np.concatenate(v.hour), np.concatenate(v.negative), np.concatenate(v.product))
    for inc, store, hrs, prods in incident_visits:
        neg_at, neg_prod = emit(store, hrs, np.ones(hrs.size, bool), prods)
        inc.extra_negatives += int(neg_at.size)
        for p in neg_prod:
            inc.by_product[str(p)] = inc.by_product.get(str(p), 0) + 1
        if not inc.chain and neg_at.size >= 3:
            inc.third_at = start + (int(neg_at[2]) + 1) * HOUR
    records.sort(key=lambda r: r.time)
    return World(start, days, stores, products, records, incidents, truth, promotions)


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


def oracle_alerts(world: World, ratio: float | tuple[float, ...], threshold: float, hold_hours: int = 48,
                  neg: np.ndarray | None = None) -> list[BacktestAlert]:
    """A ceiling, not a detector: Poisson CUSUM per store that knows each hour's true normal rate.

    No real detector can know the generator's hourly negative rate (seasonality,
    day-to-day wobble, promotions); this one does, so its recall and delay at a given
    false-alert rate bound what a detector can reach on these streams. With several
    ``ratio`` values it runs one CUSUM per rise and alerts when any reaches ``threshold``
    (the threshold is then set by the false rate, so trying more rises is paid for).
    One alert, then ``hold_hours`` of silence for the same store (one incident, one alert).
    ``neg``: the store × hour negative counts of :func:`hourly_store_negatives`, if at hand.
    """
    names = sorted(world.stores)
    if neg is None:
        neg = hourly_store_negatives(world)
    ratios = np.atleast_1d(np.asarray(ratio, np.float64))
    mu = np.stack([world.normal_negative_rate[s] for s in names])  # stores × hours
    stat = np.zeros((len(names), ratios.size))
    quiet_until = np.full(len(names), -1)
    out: list[BacktestAlert] = []
    for t in range(HISTORY_DAYS * 24, world.days * 24):
        stat = np.maximum(0.0, stat + neg[:, t, None] * np.log(ratios) - (ratios - 1) * mu[:, t, None])
        crossed = (stat >= threshold).any(1)
        for i in np.flatnonzero(crossed & (t >= quiet_until)):
            at = world.start + (t + 1) * HOUR
            out.append(BacktestAlert("store", names[i], at, at - HOUR, at, "critical", "oracle"))
            quiet_until[i] = t + hold_hours
        stat[crossed] = 0.0
    return out


def hourly_store_negatives(world: World) -> np.ndarray:
    """Negative-labelled mentions per store (sorted names) × hour of the stream."""
    idx = {s: i for i, s in enumerate(sorted(world.stores))}
    neg = np.zeros((len(idx), world.days * 24))
    for r in world.records:
        if r.negative:
            neg[idx[r.store], int((r.time - world.start) / HOUR)] += 1
    return neg


# thresholds the ceiling tries, lowest first: fine enough that its false store rate lands close
# under the detector's (a coarse grid left it at 0.12 against 0.17, a stricter operating point)
ORACLE_THRESHOLDS = tuple(float(h) for h in np.round(np.arange(3.0, 20.01, 0.25), 2))
ORACLE_RATIOS = (2.0, 3.0, 5.0, 8.0)  # the fairer ceiling tries the same rises as the detector's scan

# --------------------------------------------------------------------------- scoring

STORE_FAMILY = ("store", "store_product")


def covers(alert: BacktestAlert, inc: Incident, family_only: bool) -> bool:
    """Whether an alert's scope is the incident's (store family), or contains it (brand, product).

    A product alert contains a store × product incident of that product, a product
    incident across stores, and a store-level incident that put at least
    ``PRODUCT_EVIDENCE`` extra negatives on that product (the generator spreads a store
    incident's negatives over the store's products). A store alert covers a product incident across stores
    that touches that store (its negatives really rose).
    """
    store = alert.scope_id.split("|", 1)[0]
    if alert.scope_type in STORE_FAMILY:
        return store == inc.store or (inc.chain and not family_only and store in inc.stores)
    if family_only:
        return False
    if alert.scope_type == "brand":
        return True
    if alert.scope_type == "product":
        # a store-level incident's extra negatives fall on the store's products; it explains
        # a product alert only when enough of them landed on that product to show chain-wide
        if inc.product is None:
            return inc.by_product.get(alert.scope_id, 0) >= PRODUCT_EVIDENCE
        return inc.product == alert.scope_id
    return False


def in_time(alert: BacktestAlert, inc: Incident) -> bool:
    return inc.start <= alert.detected_at <= inc.end + GRACE


def onset(inc: Incident) -> datetime:
    """When the incident can first show: its start, or the next opening hour if it starts while the store is closed.

    Its extra negatives are proportional to the store's traffic, and outside the
    generator's opening hours (``DAYTIME``, 08:00–22:59 local) a store has about 3 % of
    its peak traffic, so an incident drawn to start at 02:00 adds nothing observable
    before 08:00. Delay is counted from here (the audit of 2026-12-07).
    """
    at = inc.start
    while not DAYTIME[(at + TZ_OFFSET).hour]:
        at += HOUR
    return at


def _rate(values: list[bool]) -> float:
    return float(np.mean(values)) if values else float("nan")


def score(world: World, alerts: list[BacktestAlert]) -> dict[str, float]:
    """False alerts per scope-month, precision, recall and delay (see the module docstring)."""
    store_incs = [i for i in world.incidents if not i.chain]
    chain_incs = [i for i in world.incidents if i.chain]
    targets = [i for i in store_incs if i.multiplier >= 3 and i.extra_negatives >= TARGET_EXTRA]
    detected, delays_busy, delays_start = [], [], []
    for inc in targets:
        hits = [a for a in alerts if covers(a, inc, True) and in_time(a, inc)]
        detected.append(bool(hits))
        if hits and inc.per_day >= 5:
            first = min(a.detected_at for a in hits)
            delays_busy.append(max(0.0, (first - onset(inc)) / HOUR))
            delays_start.append((first - inc.start) / HOUR)
    chain_found = [any(a.scope_type == "product" and a.scope_id == inc.product and in_time(a, inc) for a in alerts)
                   for inc in chain_incs if inc.extra_negatives >= TARGET_EXTRA]
    watched = [a for a in alerts if a.scope_type in (*STORE_FAMILY, "product")]
    matched = [any(covers(a, inc, False) and in_time(a, inc) for inc in world.incidents) for a in watched]
    crit = [m for a, m in zip(watched, matched) if a.severity == "critical"]
    store_false = sum(1 for a, m in zip(watched, matched) if not m and a.scope_type in STORE_FAMILY)
    product_false = sum(1 for a, m in zip(watched, matched) if not m and a.scope_type == "product")
    eval_days = world.days - HISTORY_DAYS
    busy_store_days = sum((i.end - i.start + GRACE) / timedelta(days=1) * (len(i.stores) if i.chain else 1)
                          for i in world.incidents)
    quiet_store_days = len(world.stores) * eval_days - busy_store_days
    # a product is busy during its own incidents (store-level incidents are not counted as its busy time)
    busy_product_days = sum((i.end - i.start + GRACE) / timedelta(days=1) for i in world.incidents
                            if i.product is not None)
    quiet_product_days = len(world.products) * eval_days - busy_product_days
    brand = [a for a in alerts if a.scope_type == "brand"]
    # one incident, one alert: what a product incident across stores raised (its product alert,
    # brand alerts, and store-level alerts in its stores that no store incident explains), and the
    # brand/product alerts raised alongside the store alert of a one-store incident
    def own_store_incident(a: BacktestAlert) -> bool:
        return any(covers(a, i, True) and in_time(a, i) for i in store_incs)

    def raised_by_chain(a: BacktestAlert, inc: Incident) -> bool:
        if not in_time(a, inc):
            return False
        if a.scope_type in STORE_FAMILY:
            return a.scope_id.split("|", 1)[0] in inc.stores and not own_store_incident(a)
        return a.scope_type == "brand" or (a.scope_type == "product" and a.scope_id == inc.product)

    per_chain = [[a for a in alerts if raised_by_chain(a, inc)] for inc in chain_incs]
    per_chain = [hits for hits in per_chain if hits]
    alongside = [sum(1 for a in alerts if a.scope_type in ("brand", "product") and in_time(a, inc)
                     and covers(a, inc, False))
                 for inc in targets if any(covers(a, inc, True) and in_time(a, inc) for a in alerts)]
    return {
        "false_store": store_false / max(quiet_store_days, 1e-9) * 30,
        "false_product": product_false / max(quiet_product_days, 1e-9) * 30,
        "precision_critical": _rate(crit),
        "precision": _rate(matched),
        "recall": _rate(detected),
        "recall_chain": _rate(chain_found),
        "delay_busy_h": float(np.median(delays_busy)) if delays_busy else float("nan"),
        "delay_busy_start_h": float(np.median(delays_start)) if delays_start else float("nan"),
        "critical": sum(a.severity == "critical" for a in watched),
        "warning": sum(a.severity == "warning" for a in watched),
        "false_critical": sum(1 for a, m in zip(watched, matched) if not m and a.severity == "critical"),
        "brand": len(brand),
        "per_chain": _rate([len(hits) for hits in per_chain]),
        "stores_per_chain": _rate([sum(a.scope_type in STORE_FAMILY for a in hits) for hits in per_chain]),
        "aggregate_per_store": _rate(alongside),
        "targets": len(targets),
        "incidents": len(store_incs),
        "chain_incidents": len(chain_incs),
    }


COLUMNS = [("false_store", "false store alerts / store-month"), ("false_product", "false product alerts / product-month"),
           ("precision_critical", "precision critical"), ("precision", "precision store+product"),
           ("recall", f"recall ×3+ ≥{TARGET_EXTRA} neg"), ("recall_chain", "recall product incidents"),
           ("delay_busy_h", "median delay h from onset (≥5/day)"),
           ("delay_busy_start_h", "median delay h from drawn start (≥5/day)"),
           ("critical", "critical"), ("false_critical", "false critical"),
           ("warning", "warning"), ("brand", "brand alerts"),
           ("per_chain", "alerts per alerted product incident"),
           ("stores_per_chain", "of which store / store×product"),
           ("aggregate_per_store", "brand/product alerts per detected store incident"), ("targets", f"incidents ×3+ ≥{TARGET_EXTRA} neg"),
           ("incidents", "store incidents"), ("chain_incidents", "product incidents")]
COUNTS = {"critical", "false_critical", "warning", "brand", "targets", "incidents", "chain_incidents"}


def ceiling(world: World, false_store: float, ratio: float | tuple[float, ...] = 5.0
            ) -> tuple[dict[str, float], float, list[BacktestAlert]]:
    """The oracle at the lowest threshold whose false store rate does not exceed ``false_store``.

    Returns its score, the threshold and its alerts.
    """
    neg = hourly_store_negatives(world)
    best = None
    for h in ORACLE_THRESHOLDS:
        alerts = oracle_alerts(world, ratio, h, neg=neg)
        result = score(world, alerts)
        best = (result, h, alerts)
        if result["false_store"] <= false_store:
            break
    return best


# the scan before it tried ×2 and ×5 too (issue 12, 2026-12-07), with the table calibrated for it
BEFORE_RATIOS = (3.0, 8.0)
BEFORE_TABLE = Path(__file__).with_name("data") / "alert_calibration_x3x8.json"
# the shipped detector with the table fitted to a store warning budget of 0.2 (before 2026-12-07's 0.14)
STORE020_TABLE = Path(__file__).with_name("data") / "alert_calibration_store020.json"


def detectors(policy: AlertPolicy, table: CalibrationTable | None = None
              ) -> dict[str, tuple[AlertPolicy, bool, CalibrationTable | None]]:
    """The detector under test, it without explaining away, and earlier ones, in the same run.

    Values: (policy, explain away across the hierarchy, calibration table; None: the
    shipped one). ``store warning budget 0.2`` is the shipped detector with the table
    fitted before the store warning budget went to 0.14; ``before`` is the calibrated detector whose scan tried only ×3 and ×8
    rises, with its own table; ``previous`` the detector before calibration and before
    explaining away (with that ×3/×8 scan).
    """
    before = policy.model_copy(update={"cusum_ratios": BEFORE_RATIOS})
    return {"tingfeng": (policy, True, table), "tingfeng, no explain-away": (policy, False, table),
            "tingfeng, store warning budget 0.2": (policy, True, load_table(STORE020_TABLE)),
            "before: ×3/×8 scan": (before, True, load_table(BEFORE_TABLE)),
            "previous": (before.model_copy(update={"calibrated": False}), False, None)}


def run(seeds: list[int], n_stores: int, days: int, policy: AlertPolicy,
        table: CalibrationTable | None = None, calendar: CalibrationTable | None = None,
        ratings: bool = False) -> dict[str, list[dict]]:
    """Every detector on every seed (``table``: tingfeng's calibration; None: the shipped one).

    ``calendar``: also run ``tingfeng, promotion calendar`` (tingfeng given the generated
    promotions as the chain's calendar) with that table. ``ratings``: streams whose
    review-platform mentions carry stars (:func:`generate`).
    """
    results: dict[str, list[dict]] = {}
    for seed in seeds:
        t0 = time.perf_counter()
        world = generate(seed, n_stores, days, ratings=ratings)
        grid = build_grid(world.records, policy.scope_types, policy.lookback_hours)
        for name, (pol, explain, tab) in detectors(policy, table).items():
            alerts = run_backtest(grid, pol, warmup_days=HISTORY_DAYS, table=tab, explain=explain)
            results.setdefault(name, []).append(score(world, alerts))
        if calendar is not None:
            alerts = run_backtest(grid, policy, warmup_days=HISTORY_DAYS, table=calendar, promotions=world.promotions)
            results.setdefault("tingfeng, promotion calendar", []).append(score(world, alerts))
        for rule in ("share>30%", "mean+3σ"):
            results.setdefault(rule, []).append(score(world, baseline_alerts(world, rule)))
        ceil, h, _ = ceiling(world, results["tingfeng"][-1]["false_store"])
        results.setdefault("ceiling: oracle CUSUM ×5 at the same false store rate", []).append({**ceil, "h": h})
        ceil, h2, _ = ceiling(world, results["tingfeng"][-1]["false_store"], ORACLE_RATIOS)
        results.setdefault("ceiling: oracle CUSUM ×2/×3/×5/×8 at the same false store rate", []).append(
            {**ceil, "h": h2})
        print(f"seed {seed}: {len(world.records)} mentions, {len(world.incidents)} incidents, oracle h={h}/{h2}, "
              f"{time.perf_counter() - t0:.0f}s", file=sys.stderr)
    return results


def table(results: dict[str, list[dict]]) -> str:
    """Markdown table of the means over seeds (counts: per seed)."""
    lines = ["| detector | " + " | ".join(label for _, label in COLUMNS) + " |",
             "| --- |" + " --- |" * len(COLUMNS)]
    for name, rows in results.items():
        cells = []
        for key, _ in COLUMNS:
            vals = [r[key] for r in rows if not math.isnan(r[key])]
            v = float(np.mean(vals)) if vals else float("nan")
            cells.append(f"{v:.1f}" if key in COUNTS else f"{v:.2f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def first_alert_delay(inc: Incident, alerts: list[BacktestAlert]) -> float | None:
    """Hours from the incident's start to its store family's first alert (None: missed), as ``score`` counts."""
    hits = [a.detected_at for a in alerts if covers(a, inc, True) and in_time(a, inc)]
    return (min(hits) - inc.start) / HOUR if hits else None


def _since_onset(hours: float | None, inc: Incident) -> float | None:
    return None if hours is None else max(0.0, hours - (onset(inc) - inc.start) / HOUR)


def target_rows(world: World, alerts: dict[str, list[BacktestAlert]]) -> list[dict]:
    """Per recall-target incident: what it was and when each detector's alert came (the audit's breakdown).

    ``labelled ×`` is the rise the detector can see: the incident's negative-labelled
    mentions over what its scope would have had anyway (``expected_negatives``). The
    generator multiplies the *true* negatives by ×k; the classifier labels about 82 %
    of them negative and also labels about 7 % of the other mentions negative, so at a
    low negative share a ×3 incident raises the labelled count by much less than ×3.
    """
    rows = []
    for inc in world.incidents:
        if inc.chain or inc.multiplier < 3 or inc.extra_negatives < TARGET_EXTRA:
            continue
        local = inc.start + TZ_OFFSET
        row = {"store": inc.store, "scope": inc.product or "store", "start": local.strftime("%a %H:00"),
               "hours": (inc.end - inc.start) / HOUR, "k": inc.multiplier,
               "per_day": inc.per_day, "expected": inc.expected_negatives, "extra": inc.extra_negatives,
               "labelled": 1 + inc.extra_negatives / max(inc.expected_negatives, 1e-9),
               "closed": (onset(inc) - inc.start) / HOUR,
               "third": _since_onset((inc.third_at - inc.start) / HOUR, inc) if inc.third_at else None}
        for name, found in alerts.items():
            row[name] = _since_onset(first_alert_delay(inc, found), inc)
        rows.append(row)
    return rows


def breakdown_text(rows: list[dict], names: list[str]) -> str:
    """The target incidents one per line, then recall and busy-store median delay per kind of incident."""
    def cell(v: float | None) -> str:
        return "miss" if v is None else f"{v:.0f}"

    head = ("| store | scope | start (local) | closed h | h | ×k | /day | expected neg | extra neg | labelled × | "
            "h to 3rd | ")
    lines = [head + " | ".join(names) + " |", "|" + " --- |" * (11 + len(names))]
    for r in sorted(rows, key=lambda r: (r["per_day"] < 5, r["labelled"])):
        lines.append(f"| {r['store']} | {r['scope']} | {r['start']} | {r['closed']:.0f} | {r['hours']:.0f} | {r['k']:.1f} | "
                     f"{r['per_day']:.1f} | {r['expected']:.1f} | {r['extra']} | {r['labelled']:.1f} | "
                     f"{cell(r['third'])} | " + " | ".join(cell(r[n]) for n in names) + " |")
    groups = [
        ("all", lambda r: True),
        ("×3–×5", lambda r: r["k"] < 5), ("×5–×10", lambda r: r["k"] >= 5),
        ("labelled ×<2", lambda r: r["labelled"] < 2), ("labelled ×2–×3", lambda r: 2 <= r["labelled"] < 3),
        ("labelled ×≥3", lambda r: r["labelled"] >= 3),
        ("≤24 h", lambda r: r["hours"] <= 24), (">24 h", lambda r: r["hours"] > 24),
        ("10–19 extra neg", lambda r: r["extra"] < 20), ("≥20 extra neg", lambda r: r["extra"] >= 20),
        ("drawn to start while open", lambda r: r["closed"] == 0),
        ("drawn to start while closed", lambda r: r["closed"] > 0),
        ("store ≥5/day", lambda r: r["per_day"] >= 5), ("store <5/day", lambda r: r["per_day"] < 5),
    ]
    lines += ["", "| incidents | n | " + " | ".join(f"{n}: recall / busy median h from onset" for n in names) + " |",
              "|" + " --- |" * (2 + len(names))]
    for label, keep in groups:
        sel = [r for r in rows if keep(r)]
        cells = []
        for n in names:
            found = [r for r in sel if r[n] is not None]
            busy = [r[n] for r in found if r["per_day"] >= 5]
            cells.append(f"{len(found) / len(sel):.2f} / {np.median(busy):.1f}" if sel and busy
                         else f"{len(found) / len(sel):.2f} / —" if sel else "—")
        lines.append(f"| {label} | {len(sel)} | " + " | ".join(cells) + " |")
    busy = [r for r in rows if r["per_day"] >= 5 and r["third"] is not None]
    lines.append(f"\nbusy-store targets: median h from onset to the 3rd extra negative "
                 f"{np.median([r['third'] for r in busy]):.1f}; {sum(r['closed'] > 0 for r in rows)} of {len(rows)} "
                 f"drawn to start while the store is closed (median {np.median([r['closed'] for r in rows if r['closed'] > 0] or [0]):.0f} h before it opens)")
    return "\n".join(lines)


def breakdown(seeds: list[int], n_stores: int, days: int, policy: AlertPolicy,
              table: CalibrationTable | None = None) -> str:
    """``--breakdown``: the target incidents of every seed under tingfeng, previous and both oracles."""
    rows: list[dict] = []
    names = ["tingfeng", "previous", "oracle ×5", "oracle ×2–×8"]
    for seed in seeds:
        world = generate(seed, n_stores, days)
        grid = build_grid(world.records, policy.scope_types, policy.lookback_hours)
        found = {}
        for name in ("tingfeng", "previous"):
            pol, explain, tab = detectors(policy, table)[name]
            found[name] = run_backtest(grid, pol, warmup_days=HISTORY_DAYS, table=tab, explain=explain)
        false_store = score(world, found["tingfeng"])["false_store"]
        found["oracle ×5"] = ceiling(world, false_store)[2]
        found["oracle ×2–×8"] = ceiling(world, false_store, ORACLE_RATIOS)[2]
        rows += [{**r, "store": f"{seed}:{r['store']}"} for r in target_rows(world, found)]
        print(f"seed {seed} done", file=sys.stderr)
    return breakdown_text(rows, names)


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


def policy_overrides(items: list[str]) -> dict:
    """``NAME=VALUE`` pairs for :class:`AlertPolicy` (VALUE parsed as JSON when it is JSON)."""
    import json

    out = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or name not in AlertPolicy.model_fields:
            raise SystemExit(f"--policy {item!r}: expected NAME=VALUE with NAME a field of AlertPolicy")
        try:
            out[name] = json.loads(raw)
        except ValueError:
            out[name] = raw
    return out


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run, print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--stores", type=int, default=48)
    parser.add_argument("--days", type=int, default=75, help=f"days generated, the first {HISTORY_DAYS} are history")
    parser.add_argument("--rollups", type=int, default=0, metavar="N",
                        help="instead: time update_rollups over N mentions (SQLite, and --pg URL if given)")
    parser.add_argument("--pg", default=None, help="PostgreSQL server URL for --rollups")
    parser.add_argument("--breakdown", action="store_true",
                        help="instead: the recall-target incidents one by one, and recall / delay per kind")
    parser.add_argument("--table", type=Path, default=None,
                        help="calibration table for tingfeng (default: the shipped alerts/data/alert_calibration.json)")
    parser.add_argument("--calendar", type=Path, nargs="?", const=CALENDAR_TABLE, default=None, metavar="TABLE",
                        help="also run tingfeng given the promotion calendar, with its calibration (default: the "
                             "shipped alerts/data/alert_calibration_calendar.json; bench/calibrate_alerts.py "
                             "--calendar --out TABLE)")
    parser.add_argument("--policy", action="append", default=[], metavar="NAME=VALUE",
                        help="override an AlertPolicy field for tingfeng, e.g. cusum_max_hours=72 "
                             "(calibrate its table with the same overrides)")
    parser.add_argument("--ratings", action="store_true",
                        help="streams whose review-platform mentions carry star ratings, labelled by them where clear")
    args = parser.parse_args(argv)
    if args.rollups:
        print(bench_rollups(args.rollups, None))
        if args.pg:
            print(bench_rollups(args.rollups, args.pg))
        return
    policy = AlertPolicy(scope_types=("brand", "store", "product", "store_product"), **policy_overrides(args.policy))
    tingfeng_table = load_table(args.table) if args.table else None
    if args.breakdown:
        print(breakdown(args.seeds, args.stores, args.days, policy, tingfeng_table))
        return
    t0 = time.perf_counter()
    results = run(args.seeds, args.stores, args.days, policy, tingfeng_table,
                  load_table(args.calendar) if args.calendar else None, args.ratings)
    print(table(results))
    print(f"\n{args.stores} stores × {args.days} days ({HISTORY_DAYS} history), seeds {args.seeds}"
          f"{', star ratings' if args.ratings else ''}, {time.perf_counter() - t0:.0f}s")


if __name__ == "__main__":
    main()
