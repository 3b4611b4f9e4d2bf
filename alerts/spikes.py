"""Spike statistics and the incident state machine: pure functions, no I/O.

For every watched scope the detector compares the negative mentions of a few recent
windows (3 h … 48 h, ending at the last hourly bucket) with that scope's own
baseline (the preceding ``baseline_days``, minus hours that belonged to earlier
incidents) and with its peers (the other scopes of the same type):

* **share test** — beta-binomial upper tail of the window's negatives given the
  window's total, with the baseline negative share as a Beta prior shrunk towards
  the peers' share (``prior_strength``) and capped (``max_concentration``) so day-to-day
  over-dispersion does not make the baseline look certain. A promotion that triples
  volume at the same negative share is therefore not a spike.
* **count test** — Poisson upper tail of the window's negatives against the scope's
  expected negatives for those hours, scaled by the weekday × hour-of-day profile of
  its peers. A share that rises only because positive mentions dried up is not a spike.
* **minimum evidence** — at least ``min_negative`` negatives in the window.
* **CUSUM scan** (:func:`cusum_scan`) — a log-likelihood ratio for a rise of the
  negative rate, summed over the stretch ending now that scores highest, so evidence
  that arrives slowly over a day or two adds up instead of being split across windows.

The smallest p-value over windows (Bonferroni-corrected) sets the severity. The
:func:`decide` state machine turns per-hour assessments into open / update / resolve
actions, one alert per incident, with a cooldown; both the live detector
(:mod:`alerts.detect`) and the backtest (:mod:`alerts.backtest`) drive it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Sequence
from zoneinfo import ZoneInfo

import numpy as np
from scipy.stats import betabinom, nbinom, poisson

from alerts.calibration import CalibrationTable, family_volume, row_thresholds
from alerts.policy import AlertPolicy

HOUR = timedelta(hours=1)
SEVERITIES = ("none", "warning", "critical")
ScopeKey = tuple[str, str]


def severity_name(level: int) -> str:
    """``warning`` / ``critical`` for 1 / 2 (``none`` for 0)."""
    return SEVERITIES[level]


def severity_level(name: str | None) -> int:
    """Inverse of :func:`severity_name`; ``info`` and unknown names count as 0."""
    return SEVERITIES.index(name) if name in SEVERITIES else 0


def floor_hour(instant: datetime) -> datetime:
    """The UTC start of the hour containing ``instant``."""
    instant = instant.astimezone(timezone.utc)
    return instant.replace(minute=0, second=0, microsecond=0)


def last_bucket(now: datetime) -> datetime:
    """The last hourly bucket that can hold data seen at ``now`` (the one containing ``now - 1µs``)."""
    return floor_hour(now - timedelta(microseconds=1))


def local_calendar(start: datetime, hours: int, tz: str) -> tuple[np.ndarray, np.ndarray]:
    """Local hour-of-day and weekday (0 = Monday) of ``hours`` hourly buckets from ``start``."""
    zone = ZoneInfo(tz)
    hod = np.empty(hours, dtype=np.int8)
    dow = np.empty(hours, dtype=np.int8)
    for i in range(hours):
        local = (start + i * HOUR).astimezone(zone)
        hod[i], dow[i] = local.hour, local.weekday()
    return hod, dow


@dataclass(frozen=True)
class Assessment:
    """Per-scope result of :func:`assess` (arrays of length S)."""

    severity: np.ndarray  # 0 none, 1 warning, 2 critical
    p_value: np.ndarray  # corrected p of the reported window
    window: np.ndarray  # hours of the reported window
    negative: np.ndarray  # negatives in that window
    total: np.ndarray  # mentions in that window
    expected: np.ndarray  # negatives usually seen in such a window (seasonal)
    baseline_share: np.ndarray  # negative share the scope usually has
    peer_share: np.ndarray  # negative share of its peers over the baseline
    peer_window_share: np.ndarray  # negative share of its peers in the window
    baseline_negative: np.ndarray  # the counts behind baseline_share (excluded hours left out),
    baseline_total: np.ndarray  # so a message can state the usual share with its interval
    peer_negative: np.ndarray  # the peers' baseline counts behind peer_share
    peer_total: np.ndarray
    hot: np.ndarray  # bool: a short window is still above normal (keeps an incident open)
    evidence: np.ndarray  # −log10 of the smallest corrected p over windows and the scan
    evidence_critical: np.ndarray  # the same over windows with at least min_negative_critical negatives
    per_day: np.ndarray  # mentions per day over the baseline (assess_explained: of the family, picks the band)
    promotion_lift: np.ndarray | None = None  # volume multiplier expected in the window (planned promotion; 1: none)


def _seasonal_weights(total: np.ndarray, b: int, hod: np.ndarray, dow: np.ndarray) -> np.ndarray:
    """Weekday × hour-of-day volume weights per column (mean 1 over the first ``b`` columns).

    Estimated from the summed series of a peer group, each factor shrunk towards 1.
    """
    agg = total[:, :b].sum(0)
    mean = agg.mean() if b else 0.0
    if mean <= 0:
        return np.ones(hod.shape[0])

    def factor(cal: np.ndarray, size: int) -> np.ndarray:
        sums = np.bincount(cal[:b], weights=agg, minlength=size)
        counts = np.bincount(cal[:b], minlength=size)
        return (sums + 2.0 * mean) / ((counts + 2.0) * mean)

    w = factor(hod, 24)[hod] * factor(dow, 7)[dow]
    return w / w[:b].mean()


def assess(
    total: np.ndarray,
    negative: np.ndarray,
    hod: np.ndarray,
    dow: np.ndarray,
    groups: np.ndarray,
    policy: AlertPolicy,
    since: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
    multiplicity: np.ndarray | None = None,
    thresholds: tuple[np.ndarray, np.ndarray] | None = None,
    promo: np.ndarray | None = None,
) -> Assessment:
    """Assess every scope at the last column of ``total``/``negative`` (shape S × L).

    ``L`` must be ``policy.lookback_hours``: the first ``baseline_days × 24`` columns are
    the baseline, the last columns hold the recent windows. ``hod``/``dow`` give each
    column's local hour and weekday; ``groups`` each scope's peer group (int). ``since``
    (column index per scope) forbids windows starting earlier — the end of the scope's
    previous incident — and ``exclude`` (S × L bool) drops hours of past incidents from
    the baseline. ``multiplicity`` (per scope, default 1) multiplies p-values: the number
    of sibling scopes tested for the same family (see :func:`multiplicity`).
    ``thresholds`` (warning, critical evidence per scope; NaN = not calibrated) replace
    the nominal ``alpha_*`` levels by calibrated false-alarm budgets
    (:mod:`alerts.calibration`). ``promo`` (S × L bool, see :func:`promotion_mask`) marks
    the hours of planned promotions: they are left out of the baseline, and in the recent
    hours the scope's expected volume there is lifted by the promotion's own lift (its
    non-negative mentions against their usual level), so the count tests stay on during a
    promotion and a promotion in the history does not inflate the norm.
    """
    total = np.asarray(total, dtype=np.float64)
    negative = np.asarray(negative, dtype=np.float64)
    s_count, length = total.shape
    windows = np.asarray(policy.windows_hours)
    b = length - policy.recent_hours
    keep = np.ones((s_count, b)) if exclude is None else (~exclude[:, :b]).astype(np.float64)
    if promo is not None:
        keep = keep * ~promo[:, :b]
    nb = (total[:, :b] * keep).sum(1)
    xb = (negative[:, :b] * keep).sum(1)

    weights = np.ones((s_count, length))
    peer_share = np.zeros(s_count)
    peer_x, peer_n = np.zeros(s_count), np.zeros(s_count)
    peer_rate = np.zeros(s_count)
    peer_other = np.zeros(s_count)
    peer_win = np.zeros((s_count, windows.size))
    for g in np.unique(groups):
        rows = groups == g
        weights[rows] = _seasonal_weights(total[rows], b, hod, dow)
        peer_x[rows], peer_n[rows] = xb[rows].sum(), nb[rows].sum()
        peer_share[rows] = (peer_x[rows] + 1.0) / (peer_n[rows] + 10.0)
        for k, w in enumerate(windows):
            xw, nw = negative[rows, -w:].sum(), total[rows, -w:].sum()
            peer_win[rows, k] = xw / nw if nw else 0.0
    fb = (weights[:, :b] * keep).sum(1)
    for g in np.unique(groups):
        rows = groups == g
        peer_rate[rows] = xb[rows].sum() / max(fb[rows].sum(), 1.0)
        peer_other[rows] = (nb[rows] - xb[rows]).sum() / max(fb[rows].sum(), 1.0)

    a0 = xb + policy.prior_strength * peer_share
    b0 = (nb - xb) + policy.prior_strength * (1.0 - peer_share)
    # day-to-day wobble of the share: a relative spread share_cv caps how sure the baseline can be
    p0 = a0 / (a0 + b0)
    cap = np.minimum(policy.max_concentration, (1.0 - p0) / (policy.share_cv ** 2 * np.maximum(p0, 1e-3)))
    scale = np.minimum(1.0, cap / (a0 + b0))
    alpha, beta = a0 * scale, b0 * scale
    # expected negatives per unit of seasonal weight, shrunk towards the peers' mean (24 h worth)
    neg_rate = (xb + 24.0 * peer_rate) / (fb + 24.0)
    other_rate = (nb - xb + 24.0 * peer_other) / (fb + 24.0)
    lift = np.ones(s_count)
    if promo is not None and promo[:, b:].any():
        multiplier = promotion_lift(total[:, b:] - negative[:, b:], other_rate[:, None] * weights[:, b:],
                                    promo[:, b:], b)
        weights = weights * multiplier
        lift = multiplier.max(1)
    r_disp = policy.volume_dispersion
    paths = 2.0 if policy.count_path else 1.0

    k_count = windows.size
    bonferroni = k_count * (np.ones(s_count) if multiplicity is None else np.asarray(multiplicity, np.float64))
    p_all = np.ones((s_count, k_count))
    p_hot = np.ones((s_count, k_count))
    x_all = np.zeros((s_count, k_count))
    n_all = np.zeros((s_count, k_count))
    mu_all = np.zeros((s_count, k_count))
    for k, w in enumerate(windows):
        x = np.rint(negative[:, -w:].sum(1))  # counts; rint guards float sums
        n = np.maximum(np.rint(total[:, -w:].sum(1)), x)
        mu = neg_rate * weights[:, -w:].sum(1)
        x_all[:, k], n_all[:, k], mu_all[:, k] = x, n, mu
        allowed = np.ones(s_count, bool) if since is None else (length - w) >= since
        cand = (x >= policy.min_negative) & allowed
        cand &= poisson.sf(x - 1, np.maximum(mu, 1e-9)) <= policy.alpha_count
        if cand.any():
            p_all[cand, k] = betabinom.sf(x[cand] - 1, n[cand], alpha[cand], beta[cand]) * bonferroni[cand] * paths
            if policy.count_path:
                # volume as usual (not a promotion): the negative count itself is the evidence,
                # tested against its seasonal expectation with gamma-Poisson over-dispersion
                mu_c, other = mu[cand], other_rate[cand] * weights[cand][:, -w:].sum(1)
                m = n[cand] - x[cand]
                usual = nbinom.sf(m - 1, r_disp, r_disp / (r_disp + np.maximum(other, 1e-9))) > 0.05
                p_count = nbinom.sf(x[cand] - 1, r_disp, r_disp / (r_disp + np.maximum(mu_c, 1e-9)))
                p_all[cand, k] = np.where(usual, np.minimum(p_all[cand, k], p_count * bonferroni[cand] * paths),
                                          p_all[cand, k])
        if w <= policy.hold_window_hours:
            hot_cand = x >= 2
            if hot_cand.any():
                p_hot[hot_cand, k] = betabinom.sf(x[hot_cand] - 1, n[hot_cand], alpha[hot_cand], beta[hot_cand])

    sev = np.where(p_all <= policy.alpha_warning, 1, 0)
    sev = np.where((p_all <= policy.alpha_critical) & (x_all >= policy.min_negative_critical), 2, sev)
    win_all = np.tile(windows, (s_count, 1))
    if policy.cusum:  # one more column: the scan, with its own stretch length per scope
        scan = cusum_scan(negative, total, neg_rate[:, None] * weights, other_rate[:, None] * weights, policy, since,
                          bonferroni / k_count)
        win_all = np.column_stack([win_all, scan.window])
        sev = np.column_stack([sev, scan.severity])
        p_all = np.column_stack([p_all, scan.p_value])
        x_all = np.column_stack([x_all, scan.negative])
        n_all = np.column_stack([n_all, scan.total])
        mu_all = np.column_stack([mu_all, scan.expected])
        peer_win = np.column_stack([peer_win, peer_win[:, -1]])
    evidence_cols = -np.log10(np.clip(p_all, 1e-300, 1.0))
    evidence_cols = np.where(np.isfinite(evidence_cols), evidence_cols, 0.0)
    strong = x_all >= policy.min_negative_critical
    if thresholds is not None:
        warn, crit = (np.asarray(t, np.float64) for t in thresholds)
        calibrated = ~np.isnan(warn)
        warn_at = np.where(calibrated, warn, np.inf)[:, None]
        crit_at = np.where(calibrated, crit, np.inf)[:, None]
        graded = np.where(evidence_cols >= warn_at, 1, 0)
        graded = np.where((evidence_cols >= crit_at) & strong, 2, graded)
        sev = np.where(calibrated[:, None], graded, sev)
    # report the window with the highest severity, then the smallest p
    order = sev * 10.0 - np.log10(np.maximum(p_all, 1e-300)) / 400.0
    best = order.argmax(1)
    idx = np.arange(s_count)
    if promo is not None:  # the lift applies when the reported window reaches into the promotion
        reached = np.cumsum(promo[:, ::-1], 1)[idx, np.clip(win_all[idx, best], 1, length).astype(int) - 1] > 0
        lift = np.where(reached, lift, 1.0)
    return Assessment(
        severity=sev[idx, best],
        p_value=np.minimum(p_all[idx, best], 1.0),
        window=win_all[idx, best],
        negative=x_all[idx, best].astype(int),
        total=n_all[idx, best].astype(int),
        expected=mu_all[idx, best],
        baseline_share=alpha / (alpha + beta),
        peer_share=peer_share,
        peer_window_share=peer_win[idx, best],
        baseline_negative=xb,
        baseline_total=nb,
        peer_negative=peer_x,
        peer_total=peer_n,
        hot=(p_hot <= policy.alpha_hold).any(1),
        evidence=evidence_cols.max(1),
        evidence_critical=np.where(strong, evidence_cols, 0.0).max(1),
        per_day=total[:, :b].sum(1) / max(b / 24.0, 1e-9),
        promotion_lift=lift,
    )


def promotion_lift(other: np.ndarray, expected_other: np.ndarray, promo: np.ndarray, offset: int) -> np.ndarray:
    """S × (offset + R) multipliers of the expected volume: 1, and in the recent promotion hours
    the promotion's lift, its non-negative mentions against their usual level (at least 1).

    The lift is read from the non-negative mentions because an incident during a promotion
    adds negatives, not praise; 2 pseudo-mentions keep a promotion's first quiet hours at 1.
    """
    seen = np.where(promo, other, 0.0).sum(1)
    usual = np.where(promo, expected_other, 0.0).sum(1)
    lift = np.maximum((seen + 2.0) / (usual + 2.0), 1.0)
    out = np.ones((promo.shape[0], offset + promo.shape[1]))
    out[:, offset:] = np.where(promo, lift[:, None], 1.0)
    return out


@dataclass(frozen=True)
class ScanResult:
    """Per-scope result of :func:`cusum_scan` (arrays of length S)."""

    severity: np.ndarray
    p_value: np.ndarray  # exp(-LLR), a likelihood-ratio bound rather than an exact tail
    window: np.ndarray  # hours of the best-scoring recent stretch
    negative: np.ndarray
    total: np.ndarray
    expected: np.ndarray


def cusum_scan(
    negative: np.ndarray,
    total: np.ndarray,
    seasonal: np.ndarray,
    seasonal_other: np.ndarray,
    policy: AlertPolicy,
    since: np.ndarray | None = None,
    multiplicity: np.ndarray | None = None,
) -> ScanResult:
    """Poisson CUSUM of the negative count, evaluated as a scan over recent stretches.

    For a rise of the negative rate by a factor ``k`` each hour adds
    ``x·ln k − (k − 1)·μ`` to the log-likelihood ratio, ``μ`` being the hour's expected
    negatives from the scope's seasonal profile (``seasonal``). When the other
    (non-negative) mentions of a stretch run above their own seasonal expectation
    (``seasonal_other``) — a promotion — ``μ`` is scaled up by the same ratio, so more
    volume at the usual share is not evidence. The CUSUM statistic at the last column
    is the largest sum over the stretches ending there, computed directly from the
    hourly grid, so there is no state to keep between runs. Evidence accumulates over
    hours: a sustained moderate rise is caught sooner than by fixed windows, while a
    single clump has to be large to cross the threshold on its own. Stretches start at
    most ``policy.cusum_max_hours`` back, and never before ``since``.
    """
    s_count, length = total.shape
    span = min(policy.cusum_max_hours, length)
    x = np.asarray(negative, np.float64)[:, -span:]
    n = np.asarray(total, np.float64)[:, -span:]

    def suffix(a: np.ndarray) -> np.ndarray:  # column j: the sum over columns j..end
        return np.cumsum(a[:, ::-1], 1)[:, ::-1]

    sx, sn = suffix(x), suffix(n)
    smu = suffix(np.asarray(seasonal, np.float64)[:, -span:])
    lift = (sn - sx + 2.0) / (suffix(np.asarray(seasonal_other, np.float64)[:, -span:]) + 2.0)
    smu = np.maximum(smu * np.maximum(lift, 1.0), 1e-6)
    start = length - span + np.arange(span)
    valid = sx >= policy.min_negative
    if since is not None:
        valid &= start[None, :] >= np.asarray(since)[:, None]
    llr = np.full((s_count, span), -np.inf)
    for k in policy.cusum_ratios:
        llr = np.maximum(llr, sx * np.log(k) - (k - 1.0) * smu)
    llr = np.where(valid, llr, -np.inf)
    best = llr.argmax(1)
    idx = np.arange(s_count)
    top = llr[idx, best]
    penalty = np.log(len(policy.cusum_ratios)) + (0.0 if multiplicity is None else np.log(np.maximum(multiplicity, 1)))
    stat = np.where(np.isfinite(top), top - penalty, -np.inf)
    xb = sx[idx, best]
    sev = np.where(stat >= policy.cusum_threshold, 1, 0)
    sev = np.where((stat >= policy.cusum_threshold_critical) & (xb >= policy.min_negative_critical), 2, sev)
    return ScanResult(
        severity=sev,
        p_value=np.exp(-np.clip(stat, 0.0, 700.0)),
        window=span - best,
        negative=xb,
        total=sn[idx, best],
        expected=smu[idx, best],
    )


STORE_FAMILY_TYPES = ("store", "store_product")


def assess_explained(
    keys: Sequence[ScopeKey],
    total: np.ndarray,
    negative: np.ndarray,
    hod: np.ndarray,
    dow: np.ndarray,
    groups: np.ndarray,
    policy: AlertPolicy,
    children: dict[int, list[int]],
    active_families: set[ScopeKey],
    since: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
    multiplicity: np.ndarray | None = None,
    table: CalibrationTable | None = None,
    promo: np.ndarray | None = None,
) -> Assessment:
    """:func:`assess`, then re-assess aggregate scopes without the stores already alerting.

    ``children`` maps an aggregate row (brand, region, product) to the store or
    store × product rows it sums. Rows of store families that are significant now or
    have an open incident are subtracted from their aggregates when a single store
    family is hot under that aggregate, so a brand or product alert means something
    beyond the one store already alerted: one incident, one alert. With a calibration
    ``table`` (and ``policy.calibrated``) severities follow its false-alarm budgets.
    Aggregates whose stores are largely under promotion are lifted too
    (:func:`aggregate_promotion`).
    """
    thresholds = None
    if promo is not None:
        promo = aggregate_promotion(promo, total, children, total.shape[1] - policy.recent_hours,
                                    policy.promotion_aggregate_share)
    if table is not None and policy.calibrated:
        b = total.shape[1] - policy.recent_hours
        per_day = np.asarray(total, np.float64)[:, :b].sum(1) / max(b / 24.0, 1e-9)
        thresholds = row_thresholds(keys, family_volume(keys, per_day), table)
    result = assess(total, negative, hod, dow, groups, policy, since, exclude, multiplicity, thresholds, promo)
    hot = set(active_families) | {
        family(keys[i]) for i in np.nonzero(result.severity > 0)[0] if keys[i][0] in STORE_FAMILY_TYPES
    }
    # one alerting store explains its aggregates; two or more at once are a wider problem
    # the aggregate's own audience should hear about, so those aggregates stay as they are
    rows = sorted(a for a, kids in children.items() if len({family(keys[c]) for c in kids} & hot) == 1)
    if not rows:
        return replace(result, per_day=family_volume(keys, result.per_day))
    sub_total, sub_negative = total[rows].astype(np.float64), negative[rows].astype(np.float64)
    for j, a in enumerate(rows):
        for c in children[a]:
            if family(keys[c]) in hot:
                sub_total[j] -= total[c]
                sub_negative[j] -= negative[c]
    pick = (lambda arr: None if arr is None else arr[rows])
    sub = assess(np.maximum(sub_total, 0), np.maximum(sub_negative, 0), hod, dow, groups[rows], policy,
                 pick(since), pick(exclude), pick(multiplicity),
                 None if thresholds is None else (thresholds[0][rows], thresholds[1][rows]), pick(promo))
    merged = {}
    for name, values in result.__dict__.items():
        values = values.copy()
        values[rows] = getattr(sub, name)
        merged[name] = values
    merged["per_day"] = family_volume(keys, result.per_day)  # the band a store × product row is calibrated in
    return Assessment(**merged)


def aggregate_children(keys: Sequence[ScopeKey], parents: dict[str, dict[str, str]]) -> dict[int, list[int]]:
    """Which store / store × product rows each aggregate row sums.

    ``parents`` maps a store id to its aggregate ids, e.g. ``{"s1": {"brand": "b1",
    "region": "east"}}``; product aggregates are found from store × product ids.
    """
    index = {k: i for i, k in enumerate(keys)}
    children: dict[int, list[int]] = {}
    for i, (scope_type, scope_id) in enumerate(keys):
        if scope_type == "store":
            for parent_type, parent_id in parents.get(scope_id, {}).items():
                if (parent_type, parent_id) in index:
                    children.setdefault(index[(parent_type, parent_id)], []).append(i)
        elif scope_type == "store_product":
            product = scope_id.split("|", 1)[1]
            if ("product", product) in index:
                children.setdefault(index[("product", product)], []).append(i)
    return children


# --------------------------------------------------------------------------- incidents


@dataclass
class Incident:
    """What the state machine knows of a scope's latest spike alert."""

    severity: int
    opened_at: datetime
    window_start: datetime
    window_end: datetime  # the last hour it was still hot
    resolved_at: datetime | None = None
    ref: object = None  # the caller's handle (an Alert id, a backtest row)

    @property
    def active(self) -> bool:
        return self.resolved_at is None


@dataclass(frozen=True)
class Action:
    """One change :func:`decide` asks the caller to make."""

    kind: str  # open | update | resolve
    key: ScopeKey
    index: int  # row in the assessment
    severity: int = 0
    window_start: datetime | None = None
    window_end: datetime | None = None
    incident: Incident | None = None


def family(key: ScopeKey) -> ScopeKey:
    """Scopes whose alerts would reach the same manager about the same thing.

    A store and its store × product scopes form one family: one incident, one alert.
    """
    scope_type, scope_id = key
    if scope_type == "store_product":
        return ("store", scope_id.split("|", 1)[0])
    return key


_ORDER = {"store": 0, "store_product": 1}


def decide(
    keys: Sequence[ScopeKey],
    result: Assessment,
    incidents: dict[ScopeKey, Incident],
    now: datetime,
    policy: AlertPolicy,
) -> list[Action]:
    """Turn one assessment into alert actions, one alert per incident.

    * an active incident that is still hot is updated (its window extends to ``now``,
      its severity only rises); one that has not been hot for ``resolve_after_hours``
      is resolved;
    * a significant scope without an active incident opens one, unless its family
      already has one, or its previous incident resolved less than ``cooldown_hours``
      ago at the same or a higher severity.
    """
    end_bucket = last_bucket(now)
    actions: list[Action] = []
    busy = {family(k) for k, inc in incidents.items() if inc.active}
    previous = family_latest(incidents)
    order = sorted(range(len(keys)), key=lambda i: (_ORDER.get(keys[i][0], 2), keys[i]))
    for i in order:
        key = keys[i]
        sev = int(result.severity[i])
        inc = incidents.get(key)
        if inc is not None and inc.active:
            if result.hot[i] or sev > inc.severity:
                actions.append(Action("update", key, i, max(sev, inc.severity), inc.window_start, now, inc))
            elif now - inc.window_end >= timedelta(hours=policy.resolve_after_hours):
                actions.append(Action("resolve", key, i, inc.severity, inc.window_start, inc.window_end, inc))
            continue
        if sev == 0 or family(key) in busy:
            continue
        prev = previous.get(family(key))
        if (
            prev is not None
            and prev.resolved_at is not None
            and now - prev.resolved_at < timedelta(hours=policy.cooldown_hours)
            and sev <= prev.severity
        ):
            continue
        start = end_bucket - (int(result.window[i]) - 1) * HOUR
        actions.append(Action("open", key, i, sev, start, now, inc))
        busy.add(family(key))
    return actions


def multiplicity(keys: Sequence[ScopeKey]) -> np.ndarray:
    """Per scope, how many sibling scopes of its family are tested alongside it.

    A store's products are tested one by one; without correcting for that a store
    with five products would raise five times the false alerts of its store scope.
    """
    siblings: dict[ScopeKey, int] = {}
    for key in keys:
        if key[0] == "store_product":
            siblings[family(key)] = siblings.get(family(key), 0) + 1
    return np.array([siblings[family(k)] if k[0] == "store_product" else 1 for k in keys], dtype=np.float64)


def family_latest(incidents: dict[ScopeKey, Incident]) -> dict[ScopeKey, Incident]:
    """The most recently opened incident of each family."""
    out: dict[ScopeKey, Incident] = {}
    for key, inc in incidents.items():
        fam = family(key)
        if fam not in out or inc.opened_at > out[fam].opened_at:
            out[fam] = inc
    return out


def since_columns(
    keys: Sequence[ScopeKey], incidents: dict[ScopeKey, Incident], first_bucket: datetime
) -> np.ndarray:
    """Per scope, the first column a new window may start at: after its family's last closed incident."""
    closed = family_latest({k: inc for k, inc in incidents.items() if not inc.active})
    out = np.zeros(len(keys), dtype=np.int64)
    for i, key in enumerate(keys):
        inc = closed.get(family(key))
        if inc is not None:
            out[i] = max(0, int((floor_hour(inc.window_end) - first_bucket) / HOUR) + 1)
    return out


def exclusion_mask(
    keys: Sequence[ScopeKey],
    history: dict[ScopeKey, list[tuple[datetime, datetime]]],
    first_bucket: datetime,
    length: int,
) -> np.ndarray:
    """S × L mask of the hours that belonged to past incidents (kept out of baselines).

    ``history`` is keyed by :func:`family`, so a store's incident also clears its
    store × product baselines.
    """
    mask = np.zeros((len(keys), length), dtype=bool)
    for i, key in enumerate(keys):
        for lo, hi in history.get(family(key), ()):
            a = max(0, int((floor_hour(lo) - first_bucket) / HOUR))
            z = min(length, int((floor_hour(hi) - first_bucket) / HOUR) + 1)
            if z > a:
                mask[i, a:z] = True
    return mask


@dataclass(frozen=True)
class Promotion:
    """A planned promotion from the chain's calendar: one store's, or every store's (``store=None``)."""

    store: str | None
    start: datetime
    end: datetime  # exclusive


def promotion_mask(
    keys: Sequence[ScopeKey], promotions: Sequence[Promotion], first_bucket: datetime, length: int
) -> np.ndarray:
    """S × L mask of the hours each scope is under a planned promotion.

    A store's promotion marks its store and store × product rows; a chain-wide one marks
    every row. Aggregates (brand, region, product) are not marked by one store's
    promotion: it moves their volume only a little, and marking them for every store's
    promotions would leave them without a baseline. When promoted stores carry enough of
    an aggregate's volume, :func:`aggregate_promotion` marks its recent hours.
    """
    mask = np.zeros((len(keys), length), dtype=bool)
    rows: dict[str, list[int]] = {}  # store -> its store and store × product rows
    for i, key in enumerate(keys):
        if family(key)[0] == "store":
            rows.setdefault(family(key)[1], []).append(i)
    for promo in promotions:
        a = max(0, int((floor_hour(promo.start) - first_bucket) / HOUR))
        z = min(length, -int(-(promo.end - first_bucket) // HOUR))  # an hour partly promoted counts
        if z > a:
            mask[slice(None) if promo.store is None else rows.get(promo.store, []), a:z] = True
    return mask


def aggregate_promotion(promo: np.ndarray, total: np.ndarray, children: dict[int, list[int]],
                        baseline_hours: int, min_share: float) -> np.ndarray:
    """``promo`` with aggregate rows also marked in the recent hours where stores under a
    promotion carry at least ``min_share`` of the aggregate's usual volume.

    Several big stores on promotion at once lift a product's or the brand's volume by a
    third or more, negatives included, at no worse a share. Marked only in the recent
    hours (after ``baseline_hours``), such an aggregate keeps its whole baseline (it is
    nearly always partly promoted) and its expected volume there is lifted by its own
    measured lift, as a store's is (:func:`promotion_lift`).
    """
    out = promo.copy()
    usual = np.asarray(total, np.float64)[:, :baseline_hours].sum(1)
    for a, kids in children.items():
        kids = np.asarray(kids)
        weight = usual[kids]
        if not weight.sum():
            continue
        promoted = (promo[kids, baseline_hours:] * weight[:, None]).sum(0) / weight.sum()
        out[a, baseline_hours:] |= promoted >= min_share
    return out


@dataclass
class SeriesGrid:
    """Hourly totals and negatives of many scopes on one UTC hour grid."""

    keys: list[ScopeKey]
    start: datetime
    total: np.ndarray  # S × T
    negative: np.ndarray  # S × T
    groups: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.groups is None:
            types = sorted({k[0] for k in self.keys})
            self.groups = np.array([types.index(k[0]) for k in self.keys], dtype=np.int64)

    def column(self, bucket: datetime) -> int:
        """Column index of an hourly bucket."""
        return int((bucket - self.start) / HOUR)
