"""Which stores fall below the chain's own standard: a funnel-plot test across stores.

For one period, each store's negative mentions ``k`` of ``n`` are compared with the chain's
pooled negative share ``p0`` (all stores of the comparison together). Method (Spiegelhalter
2005, "Funnel plots for comparing institutional performance"):

* ``z = (k/n − p0) / sqrt(p0 (1 − p0) / n)`` — the store's distance from the standard in
  standard errors of its own size, so a small store needs a much larger excess;
* stores differ more than binomial noise (location, footfall): the overdispersion
  ``φ = (1.4826 · MAD(z))²`` — a robust variance of the stores' z (Spiegelhalter winsorizes
  instead; the MAD is steadier with few stores and does not let the stores we look for
  inflate it); when ``φ > 1`` every z is divided by ``sqrt(φ)``: a store is judged against
  how much the chain's stores normally vary;
* one-sided p-value ``1 − Φ(z)`` (only *worse* than the chain matters), and
  Benjamini–Hochberg at ``q = 0.05`` across the compared stores: of the stores flagged,
  at most 5% are expected to be flagged on noise (precision first);
* and a flagged store is materially worse: its negative share at least ``MIN_EXCESS``
  (5 points) above the chain's — a big store 2 points worse is significant, not a finding.

Stores with fewer than ``min_n`` mentions are not tested at all (样本不足): with a handful
of mentions the normal approximation is poor and a share says nothing. The test runs on
the labelled counts: the classifier correction (``storage.shares``) is the same linear map
for every store, so it moves the shares, not the ranking or the test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

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


def _norm_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2))


def _robust_phi(zs: list[float]) -> float:
    """The overdispersion of the stores' z-scores: (1.4826 · MAD)², the variance of a normal
    sample estimated so that the outlying stores we look for do not inflate it."""
    if len(zs) < 5:
        return 1.0
    s = sorted(zs)
    med = s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2
    dev = sorted(abs(z - med) for z in s)
    mad = dev[len(dev) // 2] if len(dev) % 2 else (dev[len(dev) // 2 - 1] + dev[len(dev) // 2]) / 2
    return (1.4826 * mad) ** 2


def benjamini_hochberg(p_values: Mapping[str, float], q: float = FDR_Q) -> set[str]:
    """The keys rejected by the Benjamini–Hochberg step-up procedure at FDR ``q``."""
    ranked = sorted(p_values.items(), key=lambda kv: kv[1])
    m, cutoff = len(ranked), 0
    for i, (_, p) in enumerate(ranked, start=1):
        if p <= q * i / m:
            cutoff = i
    return {k for k, _ in ranked[:cutoff]}


def below_standard(counts: Mapping[str, tuple[int, int]], *, min_n: int, q: float = FDR_Q,
                   min_excess: float = MIN_EXCESS) -> dict[str, StoreStanding]:
    """Each store's standing from ``{store_id: (negative, total)}`` for one period (pure)."""
    tested = {k: (neg, n) for k, (neg, n) in counts.items() if n >= min_n}
    total = sum(n for _, n in tested.values())
    p0 = sum(neg for neg, _ in tested.values()) / total if total else 0.0
    raw: dict[str, float] = {}
    if 0 < p0 < 1:
        for k, (neg, n) in tested.items():
            raw[k] = (neg / n - p0) / math.sqrt(p0 * (1 - p0) / n)
    phi = max(1.0, _robust_phi(list(raw.values())))
    z = {k: v / math.sqrt(phi) for k, v in raw.items()}
    p = {k: _norm_sf(v) for k, v in z.items()}
    flagged = {k for k in benjamini_hochberg(p, q) if tested[k][0] / tested[k][1] >= p0 + min_excess}
    return {k: StoreStanding(k, int(n), int(neg), neg / n if n else None, p0, z.get(k), p.get(k), k in flagged,
                             n < min_n)
            for k, (neg, n) in counts.items()}
