"""Cross-validated choice of the n-gram recipe, by domain and by length, against TF-IDF + LR.

    nice -n 10 .venv/bin/python bench/sentiment_recipes.py [--data DIR] [--folds 3] [--variant NAME ...]

Reads only the training pool of :func:`nlp.train.evaluation_split` (never its held-out
sets: the ``*_dev.csv`` files, the waimai 30%, the held-out half of the long reviews).
The pool is cut into ``--folds`` folds stratified by domain, label and length band;
each fold is scored by a model fitted on the others. Every variant is a complete recipe
(:data:`nlp.train.RECIPES`): features, domain weights, C, social head; its out-of-fold
decisions are calibrated as ``nlp.train`` calibrates (:func:`nlp.train.calibrate`: one
Platt fit, or one per head with a social head). The baseline is scikit-learn's TF-IDF (character 1–3-grams, sublinear tf,
L2) + logistic regression, with its own probabilities at 0.5. The vocabulary / idf is
fitted on the whole pool once (unsupervised; the same for every row). Prints one JSON
line per variant: out-of-fold macro-F1 and ROC-AUC per domain and per length band.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from nlp import metrics  # noqa: E402
from nlp.train import (DEFAULT_DATA, LONG_CHARS, RECIPES, SEED, baseline_vectorizer, calibrate,  # noqa: E402
                       design, evaluation_split, fit_heads, head_scores)


def folds_of(pool, k: int) -> np.ndarray:  # noqa: ANN001
    """Fold number of each example, stratified by (domain, label, long)."""
    rng = random.Random(SEED + 7)
    fold = np.zeros(len(pool), dtype=np.int64)
    groups: dict[tuple, list[int]] = {}
    for i, r in enumerate(pool):
        groups.setdefault((r.domain, r.label, len(r.text) >= LONG_CHARS), []).append(i)
    for key in sorted(groups):
        idx = groups[key]
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            fold[i] = j % k
    return fold


def figures(pool, labels, probs) -> dict:  # noqa: ANN001
    """macro-F1 / AUC per domain and per length band."""
    out = {}
    dom = np.array([r.domain for r in pool])
    long_ = np.array([len(r.text) >= LONG_CHARS for r in pool])
    slices = {d: dom == d for d in sorted(set(dom))}
    slices["short"], slices["long"] = ~long_, long_
    for name, mask in slices.items():
        out[name] = {"n": int(mask.sum()), "f1": round(metrics.macro_f1(labels[mask], probs[mask]), 4),
                     "auc": round(metrics.roc_auc(labels[mask], probs[mask]), 4)}
    return out


def run_variant(name: str, pool, fold: np.ndarray, k: int) -> dict:  # noqa: ANN001
    """Out-of-fold figures of one recipe (or ``baseline``)."""
    from sklearn.linear_model import LogisticRegression

    t0 = time.time()
    y = np.array([r.label for r in pool])
    texts = [r.text for r in pool]
    if name == "baseline":
        x = baseline_vectorizer().fit_transform(texts)
    else:
        recipe = RECIPES[name]
        x = design(texts, recipe, idf_texts=texts)
    z: dict[str, np.ndarray] = {}
    for f in range(k):
        tr, te = fold != f, fold == f
        if name == "baseline":
            clf = LogisticRegression(max_iter=1000).fit(x[tr], y[tr])
            z.setdefault("p", np.zeros(len(pool)))[te] = clf.predict_proba(x[te])[:, 1]
        else:
            heads = fit_heads(x[tr], [r for r, t in zip(pool, tr) if t], recipe)
            for head, scores in head_scores(x[te], heads).items():
                z.setdefault(head, np.zeros(len(pool)))[te] = scores
    probs = z["p"] if name == "baseline" else calibrate(z, pool, recipe)[1]
    return {"variant": name, **figures(pool, y, probs), "seconds": round(time.time() - t0)}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--variant", action="append", help=f"baseline or one of {sorted(RECIPES)} (repeatable)")
    args = ap.parse_args(argv)
    pool, _ = evaluation_split(args.data)
    fold = folds_of(pool, args.folds)
    for name in args.variant or ["baseline", *RECIPES]:
        print(json.dumps(run_variant(name, pool, fold, args.folds), ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
