"""Complaint phrases on the demo's planted incidents, the ranker vs its old comparison.

    nice -n 10 python bench/keywords.py [--seeds 3]

For each seed the demo generator (tingfeng/demo/generator.py, pure, no database) writes 60
days of mentions; a mention is negative when it is rated 1–2 stars or is a planted
incident post (the sentiment model is not measured here). For every store and the
incident product, the negative mentions of the week and of the month are ranked by nlp.keywords.complaint_phrases
(top 5) three times in the same run:

- ranker: against the negatives before the period (``complaints``) and everything said;
- filled: the ranker filled up to 3 from the complaint lexicon (nlp.keywords.filled_complaint_phrases,
  what the alerts, digest and dashboard show);
- baseline: against everything said only (the comparison used before #15 item 2).

A phrase is *planted* when it is part of one of the planted incident templates
(FOOD_SAFETY, NEW_PRODUCT_NEG); any other phrase is *noise* (音乐, 没地方: complaints every
store gets all the time). Printed: the planted share of the incidents' top 5, the noise
phrases shown across all stores, and the phrases themselves.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nlp.keywords import complaint_phrases, filled_complaint_phrases, is_quantity  # noqa: E402
from tingfeng.demo.chain import demo_chain  # noqa: E402
from tingfeng.demo.generator import FOOD_SAFETY, NEW_PRODUCT_NEG, generate  # noqa: E402

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=timezone.utc)
PLANTED_TEXT = "|".join(FOOD_SAFETY + NEW_PRODUCT_NEG)
PERIODS = (7, 30)  # the digest's week, the dashboard's default month


def _names(chain) -> list[str]:  # noqa: ANN001 - the demo's dataclass
    out = [chain.brand_name, *chain.brand_aliases]
    for s in chain.stores:
        out += [s.name, s.short, f"{chain.brand_name} {s.name}"]
    for p in chain.products:
        out += [p.name, *p.aliases]
    return out


def run(seed: int, days: int) -> dict[str, dict[str, list[str]]]:
    """{variant: {scope: top-5 phrases}} for one seed and a period of ``days`` up to NOW."""
    chain = demo_chain()
    mentions = generate(chain, now=NOW, seed=seed)
    start = NOW - timedelta(days=days)
    negative = [m for m in mentions if m.brand_id is None and (m.planted or (m.rating or 5) <= 2)]
    neg_ids = {m.id for m in negative}
    scopes = {f"store {s.id}": (lambda m, s=s: m.store_id == s.id) for s in chain.stores}
    scopes[f"product {chain.incident_product}"] = lambda m: m.product_id == chain.incident_product
    names = _names(chain)
    out: dict[str, dict[str, list[str]]] = {"ranker": {}, "filled": {}, "baseline": {}}
    for scope, inside in scopes.items():
        target = [(m.id, m.text) for m in negative if inside(m) and m.published_at >= start]
        ids = {i for i, _ in target}
        background = [m.text for m in mentions if m.id not in ids]
        complaints = [m.text for m in mentions if m.id in neg_ids and m.published_at < start]
        out["ranker"][scope] = [p.term for p in complaint_phrases(target, background, names, top=5,
                                                                  complaints=complaints)]
        out["filled"][scope] = [p.term for p in filled_complaint_phrases(target, background, names, top=5,
                                                                         complaints=complaints)]
        out["baseline"][scope] = [p.term for p in complaint_phrases(target, background, names, top=5)]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    chain = demo_chain()
    incidents = (f"store {chain.incident_store}", f"product {chain.incident_product}")
    totals = {(d, v): Counter() for d in PERIODS for v in ("ranker", "filled", "baseline")}
    for seed, days in ((s, d) for s in range(20261122, 20261122 + args.seeds) for d in PERIODS):
        got = run(seed, days)
        for variant, by_scope in got.items():
            t = totals[days, variant]
            for scope, phrases in by_scope.items():
                planted = [p for p in phrases if p in PLANTED_TEXT]
                if scope in incidents:
                    t["incident phrases"] += len(phrases)
                    t["incident planted"] += len(planted)
                else:
                    t["quiet-store phrases"] += len(phrases)
                    t["quiet-store noise"] += len(phrases) - len(planted)
                t["quantities"] += sum(map(is_quantity, phrases))
            print(f"seed {seed} {days:2d} days {variant:8s} " + "; ".join(f"{s}: {' '.join(by_scope[s]) or '—'}" for s in incidents))
            noise = Counter(p for s, ps in by_scope.items() if s not in incidents for p in ps if p not in PLANTED_TEXT)
            print(f"{'':22s}{variant:8s} noise on quiet stores: {' '.join(f'{w}×{n}' for w, n in noise.most_common()) or '—'}")
    print(f"\n{args.seeds} seeds, top 5 per scope, periods ending {NOW:%Y-%m-%d %H:%M} UTC")
    print("| period | variant | incidents: planted / shown | quiet stores: noise / shown | quantities shown |")
    print("|---|---|---|---|---|")
    for (days, variant), t in totals.items():
        share = t["incident planted"] / t["incident phrases"] if t["incident phrases"] else float("nan")
        print(f"| {days} days | {variant} | {t['incident planted']} / {t['incident phrases']} ({share:.0%}) | "
              f"{t['quiet-store noise']} / {t['quiet-store phrases']} | {t['quantities']} |")


if __name__ == "__main__":
    main()
