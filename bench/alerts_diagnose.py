"""Why store incidents are missed or caught late: per incident, what each test saw.

    .venv/bin/python bench/alerts_diagnose.py --seeds 1

For every store incident ×3+ that added at least ``TARGET_EXTRA`` negatives (the recall
target of ``bench/alerts.py``), prints the store's volume, the multiplier, duration,
extra negatives, the hour the 3rd extra negative arrived, whether and when its store
family alerted, and — at the hour its family came closest to (or first crossed) its
calibrated warning threshold — the evidence of each test (windows, CUSUM scan) against
that threshold, and whether the family was busy (an alert already open, a cooldown).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import alerts.backtest as bt  # noqa: E402
from alerts.calibration import family_volume, load_table, row_thresholds  # noqa: E402
from alerts.policy import AlertPolicy  # noqa: E402
from alerts.spikes import assess, family, local_calendar, multiplicity  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_alerts", Path(__file__).with_name("alerts.py"))
bench = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("bench_alerts", bench)
_spec.loader.exec_module(bench)


def capture(grid, policy):
    """Run the backtest, keeping each hour's store-family evidence and busy families."""
    seen: dict = {}
    real_assess, real_decide = bt.assess_explained, bt.decide

    def spy_assess(keys, total, negative, *a, **kw):
        r = real_assess(keys, total, negative, *a, **kw)
        seen["last"] = r
        return r

    def spy_decide(keys, result, incidents, now, pol):
        busy = {family(k) for k, inc in incidents.items() if inc.active}
        seen.setdefault("hours", {})[now] = (result.evidence.copy(), result.severity.copy(), result.window.copy(),
                                            result.per_day.copy(), busy)
        return real_decide(keys, result, incidents, now, pol)

    bt.assess_explained, bt.decide = spy_assess, spy_decide
    try:
        alerts = bt.run_backtest(grid, policy, warmup_days=bench.HISTORY_DAYS)
    finally:
        bt.assess_explained, bt.decide = real_assess, real_decide
    return alerts, seen["hours"]


def columns(grid, policy, end, rows, sib):
    """Per-test evidence (windows with the full Bonferroni, then the scan) of ``rows`` at column ``end``."""
    hod, dow = local_calendar(grid.start, grid.total.shape[1], policy.timezone)
    lo = end - policy.lookback_hours
    args = (grid.total[:, lo:end], grid.negative[:, lo:end], hod[lo:end], dow[lo:end], grid.groups)
    out = {}
    k = len(policy.windows_hours)
    for w in policy.windows_hours:
        p = policy.model_copy(update={"windows_hours": (w,), "cusum": False})
        r = assess(*args, p, multiplicity=sib)
        out[f"{w}h"] = np.maximum(r.evidence[rows] - np.log10(k), 0.0)
    p = policy.model_copy(update={"alpha_count": 1e-300})
    r = assess(*args, p, multiplicity=sib)
    out["scan"] = r.evidence[rows]
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--all", action="store_true", help="also detected incidents")
    args = parser.parse_args(argv)
    policy = AlertPolicy(scope_types=("brand", "store", "product", "store_product"))
    table = load_table()
    for seed in args.seeds:
        world = bench.generate(seed, 48, 75)
        grid = bt.build_grid(world.records, policy.scope_types, policy.lookback_hours)
        alerts, hours = capture(grid, policy)
        sib = multiplicity(grid.keys)
        index = {k: i for i, k in enumerate(grid.keys)}
        print(f"seed {seed}")
        for inc in world.incidents:
            if inc.chain or inc.multiplier < 3 or inc.extra_negatives < bench.TARGET_EXTRA:
                continue
            hits = [a for a in alerts if bench.covers(a, inc, True) and bench.in_time(a, inc)]
            rows = [i for i, k in enumerate(grid.keys) if k[0] in ("store", "store_product")
                    and family(k) == ("store", inc.store)]
            best = None
            for now, (ev, sev, win, per_day, busy) in hours.items():
                if not (inc.start < now <= inc.end + bench.GRACE):
                    continue
                warn, _ = row_thresholds([grid.keys[i] for i in rows], per_day[rows], table)
                margin = ev[rows] - warn
                j = int(np.argmax(margin))
                cand = (float(margin[j]), now, rows[j], float(ev[rows[j]]), float(warn[j]), int(win[rows[j]]),
                        ("store", inc.store) in busy)
                if best is None or cand[0] > best[0]:
                    best = cand
                if margin[j] >= 0:
                    best = cand
                    break
            delay = (min(a.detected_at for a in hits) - inc.start) / bt.HOUR if hits else None
            if hits and not args.all:
                continue
            third = (inc.third_at - inc.start) / bt.HOUR if inc.third_at else None
            before = [a for a in alerts if bench.covers(a, inc, True) and a.detected_at < inc.start
                      and (a.resolved_at is None or a.resolved_at > inc.start)]
            head = (f"  {inc.store} {'store' if inc.product is None else inc.product:5s} {inc.per_day:5.1f}/d "
                    f"×{inc.multiplier:.1f} {(inc.end - inc.start) / bt.HOUR:3.0f}h +{inc.extra_negatives:3d}neg "
                    f"3rd@{third if third is not None else float('nan'):4.0f}h "
                    f"{'delay ' + format(delay, '.0f') + 'h' if hits else 'MISSED'}"
                    f"{' open-before' if before else ''}")
            if best is None:
                print(head + "  (no evaluated hour)")
                continue
            margin, now, row, ev, warn, win, busy = best
            end = grid.column(now)
            cols = columns(grid, policy, end, [row], sib)
            tests = " ".join(f"{name}={v[0]:.1f}" for name, v in cols.items())
            print(head + f"  closest@{(now - inc.start) / bt.HOUR:.0f}h {grid.keys[row][1]} ev {ev:.1f}/thr {warn:.1f}"
                  f" win {win}h{' BUSY' if busy else ''} | {tests}")


if __name__ == "__main__":
    main()
