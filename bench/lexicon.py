"""Precision and recall of the urgent terms and the touchpoint lexicon, new lists vs old.

    nice -n 10 python bench/lexicon.py

Runs bench/lexicon_set.py's labelled sentences through nlp.urgent and nlp.touchpoints
twice in the same run: with the shipped lists (nlp/data) and with the lists shipped
before #16 (bench/data/lexicon_v1, the old constants, matched without the new
hedges, breaks, post-negations and per-term contexts, which the old file lacks).
Product names are passed as extra product words, as the scoring stage does.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.lexicon_set import PRODUCTS, rows  # noqa: E402
from nlp import touchpoints as tp  # noqa: E402
from nlp import urgent, vocabulary  # noqa: E402


def _pr(tp_: int, fp: int, fn: int) -> str:
    p = tp_ / (tp_ + fp) if tp_ + fp else float("nan")
    r = tp_ / (tp_ + fn) if tp_ + fn else float("nan")
    return f"P {p:.3f}  R {r:.3f}  (tp {tp_}, fp {fp}, fn {fn})"


def measure(vocab: vocabulary.Vocabulary, data: list) -> dict[str, str]:
    """Precision and recall for urgent and per touchpoint."""
    out = {}
    counts = [0, 0, 0]
    assign = tp.assigner({"product": list(PRODUCTS)}, vocab)
    per = {k: [0, 0, 0] for k in vocabulary.TOUCHPOINTS}
    misses = []
    for text, gold_u, gold_tps, _ in data:
        got = urgent.is_urgent(text, vocab.urgent)
        counts[0] += got and gold_u
        counts[1] += got and not gold_u
        counts[2] += gold_u and not got
        if got != bool(gold_u):
            misses.append(("urgent FP" if got else "urgent FN", text))
        found = {t for _, tps in assign(text) for t in tps}
        gold = set(gold_tps.split())
        for k in vocabulary.TOUCHPOINTS:
            per[k][0] += k in found and k in gold
            per[k][1] += k in found and k not in gold
            per[k][2] += k in gold and k not in found
    out["urgent"] = _pr(*counts)
    for k, c in per.items():
        out[k] = _pr(*c)
    out["_misses"] = misses
    return out


def main() -> None:
    data = rows()
    n_urgent = sum(r[1] for r in data)
    hedged = [r for r in data if r[3] == "hedge"]
    print(f"{len(data)} labelled sentences ({n_urgent} urgent, "
          f"{sum(r[3] == 'hard_negative' for r in data)} hard negatives, "
          f"{len(hedged)} hedge rows of which {sum(r[1] for r in hedged)} urgent)")
    old = vocabulary.read(Path(__file__).resolve().parent / "data" / "lexicon_v1")
    lists = {"old (before #16)": old, "new (nlp/data)": vocabulary.shipped()}
    results = {name: measure(v, data) for name, v in lists.items()}
    for key in ("urgent", *vocabulary.TOUCHPOINTS):
        for name, res in results.items():
            print(f"{key:12s} {name:18s} {res[key]}")
    rest = [r for r in data if r[3] != "hedge"]
    for label, subset in (("urgent, hedge rows", hedged), ("urgent, other rows", rest)):
        for name, v in lists.items():
            print(f"{label:18s} {name:18s} {measure(v, subset)['urgent']}")
    print("\nnew lists, urgent errors:")
    for kind, text in sorted(set(results["new (nlp/data)"]["_misses"])):
        print(f"  {kind}: {text}")


if __name__ == "__main__":
    main()
