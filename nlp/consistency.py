"""Which stores fall below the chain's own standard: a funnel-plot test across stores.

For one period, each store's negative mentions ``k`` of ``n`` are compared with the chain's
pooled negative share ``p0`` (all stores of the comparison together). Method (Spiegelhalter
2005, "Funnel plots for comparing institutional performance"):

* ``z = 2 √n (asin √(k/n) − asin √p0)`` — the store's distance from the standard on the
  variance-stabilising arcsine scale, in standard errors of its own size, so a small store
  needs a much larger excess. (The plain ``(k/n − p0) / sqrt(p0 (1 − p0) / n)`` has a long
  right tail at low shares and few mentions: 环境 at 10% negative over 45 mentions flagged
  ordinary stores 4–8× as often as its nominal rate in simulation.)
* stores differ more than binomial noise (location, footfall): the overdispersion ``φ`` is
  the mean square of the stores' z winsorized at 10% each side (Spiegelhalter's estimate;
  the stores we look for do not inflate it); when ``φ > 1`` every z is divided by ``sqrt(φ)``:
  a store is judged against how much the chain's stores normally vary;
* one-sided p-value (only *worse* than the chain matters) from Student's t with ``m − 1``
  degrees of freedom (``m`` stores compared), as for a quasi-binomial model: ``φ`` is itself
  estimated from a few dozen stores, and a normal reference would take a low estimate at
  its word; with fewer than 5 stores there is no ``φ`` to estimate and the reference is normal;
* Benjamini–Hochberg at ``q = 0.05`` across the compared stores: of the stores flagged, at
  most 5% are expected to be flagged on noise (precision first);
* and a flagged store is materially worse: its negative share at least ``MIN_EXCESS``
  (5 points) above the chain's — a big store 2 points worse is significant, not a finding.

Stores with fewer than ``min_n`` mentions are not tested at all (样本不足): with a handful
of mentions the normal approximation is poor and a share says nothing. The test runs on
the labelled counts: the classifier correction (``storage.shares``) is the same linear map
for every store, so it moves the shares, not the ranking or the test.

Per touchpoint (:func:`touchpoints_below_standard`): the same test on each touchpoint's
mentions (the polarity of the clause about 出品, 服务 …), each touchpoint against the chain's
own share on it, and one Benjamini–Hochberg over all store × touchpoint tests together
(a chain of 40 stores is 240 tests a period: the FDR is held over all of them, not per
touchpoint). A store × touchpoint with fewer than ``min_n`` mentions is left out (样本不足).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, TypeVar

from scipy import stats

K = TypeVar("K")

FDR_Q = 0.05
MIN_EXCESS = 0.05  # a flagged store is at least 5 points more negative than the chain


@dataclass(frozen=True)
class StoreStanding:
    """One store against the chain: its z (overdispersion-adjusted), p-value and whether it is flagged."""

    store_id: str
    n: int
    negative: int
    share: float | None  # labelled negative share
    chain_share: float  # pooled negative share of the chain
    z: float | None
    p_value: float | None
    flagged: bool
    small_sample: bool
    touchpoint: str | None = None  # the touchpoint compared (None: all the store's mentions)


WINSOR = 0.1  # share of the stores' z set to the 10th / 90th percentile before φ is estimated
MIN_STORES_FOR_PHI = 5


def _overdispersion(zs: list[float]) -> float:
    """φ: the mean square of the stores' z-scores winsorized at ``WINSOR`` (at least one store) each
    side (Spiegelhalter 2005), so that the outlying stores we look for do not inflate it; 1 with
    too few stores."""
    m = len(zs)
    if m < MIN_STORES_FOR_PHI:
        return 1.0
    s = sorted(zs)
    cut = max(1, int(WINSOR * m))  # at least one store each side: with 9 stores, 10% would winsorize none
    lo, hi = s[cut], s[m - 1 - cut]
    return sum(min(hi, max(lo, z)) ** 2 for z in s) / m


def benjamini_hochberg(p_values: Mapping[K, float], q: float = FDR_Q) -> set[K]:
    """The keys rejected by the Benjamini–Hochberg step-up procedure at FDR ``q``."""
    ranked = sorted(p_values.items(), key=lambda kv: kv[1])
    m, cutoff = len(ranked), 0
    for i, (_, p) in enumerate(ranked, start=1):
        if p <= q * i / m:
            cutoff = i
    return {k for k, _ in ranked[:cutoff]}


def _funnel(tested: Mapping[str, tuple[int, int]]) -> tuple[float, dict[str, float], dict[str, float]]:
    """The pooled negative share of the tested stores, each one's overdispersion-adjusted z and
    its one-sided p-value (t with ``m − 1`` df once φ is estimated, normal otherwise)."""
    total = sum(n for _, n in tested.values())
    p0 = sum(neg for neg, _ in tested.values()) / total if total else 0.0
    raw: dict[str, float] = {}
    if 0 < p0 < 1:
        a0 = math.asin(math.sqrt(p0))
        for k, (neg, n) in tested.items():
            raw[k] = 2 * math.sqrt(n) * (math.asin(math.sqrt(neg / n)) - a0)
    m = len(raw)
    phi = max(1.0, _overdispersion(list(raw.values())))
    z = {k: v / math.sqrt(phi) for k, v in raw.items()}
    if m < MIN_STORES_FOR_PHI:
        return p0, z, {k: float(stats.norm.sf(v)) for k, v in z.items()}
    return p0, z, {k: float(stats.t.sf(v, m - 1)) for k, v in z.items()}


def _judge(families: Mapping[str | None, Mapping[str, tuple[int, int]]], min_n: int, q: float,
           min_excess: float) -> dict[str | None, dict[str, StoreStanding]]:
    """Each family (the chain's stores on one measure) scored on its own standard, and one
    Benjamini–Hochberg over every test of every family: the FDR holds across all of them."""
    scored: dict[str | None, tuple[float, dict[str, float]]] = {}
    p: dict[tuple[str | None, str], float] = {}
    for family, counts in families.items():
        p0, z, pv = _funnel({k: (neg, n) for k, (neg, n) in counts.items() if n >= min_n})
        scored[family] = (p0, z)
        p.update({(family, k): v for k, v in pv.items()})
    flagged = {(f, k) for f, k in benjamini_hochberg(p, q)
               if families[f][k][0] / families[f][k][1] >= scored[f][0] + min_excess}
    return {f: {k: StoreStanding(k, int(n), int(neg), neg / n if n else None, scored[f][0], scored[f][1].get(k),
                                 p.get((f, k)), (f, k) in flagged, n < min_n, f)
                for k, (neg, n) in counts.items()}
            for f, counts in families.items()}


def below_standard(counts: Mapping[str, tuple[int, int]], *, min_n: int, q: float = FDR_Q,
                   min_excess: float = MIN_EXCESS) -> dict[str, StoreStanding]:
    """Each store's standing from ``{store_id: (negative, total)}`` for one period (pure)."""
    return _judge({None: counts}, min_n, q, min_excess)[None]


def touchpoints_below_standard(counts: Mapping[str, Mapping[str, tuple[int, int]]], *, min_n: int,
                               q: float = FDR_Q, min_excess: float = MIN_EXCESS) -> dict[str, dict[str, StoreStanding]]:
    """Each store's standing on each touchpoint from ``{touchpoint: {store_id: (negative, total)}}``
    (mentions of that touchpoint and how many of them were negative), for one period (pure).

    Per touchpoint, a store is compared with the chain's pooled share *on that touchpoint*
    (服务 complaints are commoner than 环境 ones everywhere: each is its own standard), with
    that touchpoint's own overdispersion; Benjamini–Hochberg then runs once over every
    store × touchpoint test, so testing six touchpoints does not multiply the false flags.
    """
    return _judge(counts, min_n, q, min_excess)  # type: ignore[return-value]
