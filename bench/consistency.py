"""How often the store × touchpoint consistency test flags ordinary stores, and whether it finds a real one.

Simulated chains of 30 stores: on each touchpoint every store's true negative share is the
chain's (出品 15%, 服务 30%, 环境 10%, 价格 25%, 配送 35%, 数字渠道 30%) plus a store effect
drawn from N(0, spread) — stores differ more than binomial noise, as real ones do (location,
footfall) — and a week's mentions per touchpoint around its usual volume (150, 70, 45, 40,
30, 18 ± 25%). In a *null* chain no store is worse than that ordinary variation, so every flag
is false. In a *planted* chain one more store is ordinary everywhere but 60% negative on 服务
over 100 mentions (twice the chain's share).

Three tests, each over all store × touchpoint pairs with at least 20 mentions:

* ``current``: ``nlp.consistency.touchpoints_below_standard`` (arcsine z, Spiegelhalter's
  winsorized overdispersion, t reference with m − 1 df, one Benjamini–Hochberg at q 0.05 over all
  pairs, at least 5 points worse);
* ``previous``: the test before commit 43e3029 applied per touchpoint (Wald z
  ``(k/n − p0)/sqrt(p0(1 − p0)/n)``, overdispersion (1.4826·MAD)², normal reference, the same
  Benjamini–Hochberg and 5-point rule);
* ``naive``: any pair at least 5 points more negative than the chain's pooled share on the touchpoint.

Prints, per store spread, how many of N null chains show at least one flag (and all flags
together), then for the planted chains how often the planted 服务 problem is found and the
false flags beside it. One command::

    nice -n 10 python bench/consistency.py [--chains 60] [--planted 20]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nlp.consistency import FDR_Q, MIN_EXCESS, benjamini_hochberg, touchpoints_below_standard  # noqa: E402

MIN_N = 20
STORES = 30
PROFILE = {"product": (0.15, 150), "service": (0.30, 70), "environment": (0.10, 45),
           "price": (0.25, 40), "delivery": (0.35, 30), "digital": (0.30, 18)}
PLANTED = ("service", "bad")
Counts = dict[str, dict[str, tuple[int, int]]]  # touchpoint → store → (negative, total)


def chain(rng: np.random.Generator, spread: float, planted: bool) -> Counts:
    """One week of a simulated chain (see the module docstring)."""
    out: Counts = {}
    for tp, (share, volume) in PROFILE.items():
        own = np.clip(rng.normal(share, spread, STORES), 0.02, 0.9)
        size = np.maximum(3, rng.normal(volume, volume / 4, STORES).astype(int))
        neg = rng.binomial(size, own)
        out[tp] = {f"s{i}": (int(k), int(n)) for i, (k, n) in enumerate(zip(neg, size))}
        if planted:
            out[tp]["bad"] = (int(rng.binomial(volume, share)), volume)
    if planted:
        out["service"]["bad"] = (60, 100)
    return out


def current(counts: Counts) -> set[tuple[str, str]]:
    res = touchpoints_below_standard(counts, min_n=MIN_N)
    return {(tp, k) for tp, rows in res.items() for k, r in rows.items() if r.flagged}


def _mad_phi(zs: list[float]) -> float:
    if len(zs) < 5:
        return 1.0
    med = float(np.median(zs))
    return (1.4826 * float(np.median([abs(z - med) for z in zs]))) ** 2


def previous(counts: Counts) -> set[tuple[str, str]]:
    p: dict[tuple[str, str], float] = {}
    excess: set[tuple[str, str]] = set()
    for tp, rows in counts.items():
        tested = {k: v for k, v in rows.items() if v[1] >= MIN_N}
        total = sum(n for _, n in tested.values())
        p0 = sum(k for k, _ in tested.values()) / total if total else 0.0
        if not 0 < p0 < 1:
            continue
        raw = {s: (k / n - p0) / math.sqrt(p0 * (1 - p0) / n) for s, (k, n) in tested.items()}
        phi = max(1.0, _mad_phi(list(raw.values())))
        p.update({(tp, s): float(stats.norm.sf(z / math.sqrt(phi))) for s, z in raw.items()})
        excess |= {(tp, s) for s, (k, n) in tested.items() if k / n >= p0 + MIN_EXCESS}
    return benjamini_hochberg(p, FDR_Q) & excess


def naive(counts: Counts) -> set[tuple[str, str]]:
    out = set()
    for tp, rows in counts.items():
        tested = {k: v for k, v in rows.items() if v[1] >= MIN_N}
        total = sum(n for _, n in tested.values())
        p0 = sum(k for k, _ in tested.values()) / total if total else 0.0
        out |= {(tp, s) for s, (k, n) in tested.items() if k / n >= p0 + MIN_EXCESS}
    return out


TESTS: dict[str, Callable[[Counts], set[tuple[str, str]]]] = {"current": current, "previous": previous, "naive": naive}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chains", type=int, default=60, help="null chains per spread")
    ap.add_argument("--planted", type=int, default=20, help="chains with a planted 服务 problem")
    ap.add_argument("--spreads", default="0.02,0.03,0.04,0.05", help="store effect SD on each touchpoint's share")
    ap.add_argument("--seed", type=int, default=16)
    args = ap.parse_args()
    t0 = time.perf_counter()
    spreads = [float(s) for s in args.spreads.split(",")]
    print(f"{STORES} stores × {len(PROFILE)} touchpoints; pairs under {MIN_N} mentions untested; "
          f"q = {FDR_Q}, at least {MIN_EXCESS:.0%} worse")
    print(f"\nnull chains (no store worse than the chain's ordinary spread): chains with ≥1 flag of {args.chains}"
          " (all flags together)")
    print(f"{'spread':>7}  {'tested pairs/chain':>18}  " + "  ".join(f"{name:>16}" for name in TESTS))
    for spread in spreads:
        rng = np.random.default_rng([args.seed, int(spread * 1000)])
        chains = [chain(rng, spread, planted=False) for _ in range(args.chains)]
        tested = sum(n >= MIN_N for c in chains for rows in c.values() for _, n in rows.values()) / len(chains)
        cells = []
        for test in TESTS.values():
            flags = [len(test(c)) for c in chains]
            cells.append(f"{sum(f > 0 for f in flags):>3}/{args.chains} ({sum(flags):>4})")
        print(f"{spread:>7.2f}  {tested:>18.0f}  " + "  ".join(f"{c:>16}" for c in cells))
    print(f"\nplanted chains (one store 60/100 negative on 服务, chain ≈30%): found of {args.planted}"
          " · chains with a false flag · all false flags")
    for spread in spreads:
        rng = np.random.default_rng([args.seed, int(spread * 1000), 1])
        chains = [chain(rng, spread, planted=True) for _ in range(args.planted)]
        cells = []
        for test in TESTS.values():
            results = [test(c) for c in chains]
            found = sum(PLANTED in r for r in results)
            false = [len(r - {PLANTED}) for r in results]
            cells.append(f"{found:>2}/{args.planted} · {sum(f > 0 for f in false):>2} · {sum(false):>4}")
        print(f"{spread:>7.2f}  " + "  ".join(f"{name} {c}" for name, c in zip(TESTS, cells)))
    print(f"\n{time.perf_counter() - t0:.1f}s")


if __name__ == "__main__":
    main()
