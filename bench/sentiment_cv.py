"""Waimai cross-validation for choices about the n-gram model, without touching the hold-out.

    .venv/bin/python bench/sentiment_cv.py [--data ../shared/data/sentiment] [-C 8] [--words]
                                           [--waimai-weight 1] [--folds 5]

The calibration split of :mod:`nlp.train` holds only ~590 waimai texts (±0.013 macro-F1),
too few to tell variants apart. This script pools the waimai *training* part (fit +
calibration, 5,865 texts; the 30% hold-out of :func:`nlp.train.waimai_split` is never
read) into ``--folds`` folds; each fold is scored by a model fitted on the other folds
plus the fit part of every other domain (domain weights as in :mod:`nlp.train`). It
prints the pooled out-of-fold waimai macro-F1 at the calibrated 0.5 threshold (one Platt
fit over the pooled out-of-fold decisions and the other domains' calibration split),
the waimai ROC-AUC, and the other domains' calibration-split macro-F1.

``--words`` adds jieba word unigrams (two characters or more) and word bigrams, hashed
into the same buckets with their own salts and negation-marked like the character
n-grams — the experiment recorded in docs/benchmarks.md; the shipped model has none.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nlp import segment  # noqa: E402
from nlp import text as textmod  # noqa: E402
from nlp.models import hashing  # noqa: E402
from nlp.train import DEFAULT_DATA, SEED, SPEC, platt, training_sets  # noqa: E402

SALT_WORD = np.uint64(0x2545F4914F6CDD1D)
SALT_PAIR = np.uint64(0x27BB2EE687B0B0FD)


def word_buckets(texts: list[str], bits: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, bucket) pairs of the jieba word unigrams and bigrams of normalised texts."""
    tok = segment.tokenizer()
    rows, hashes, ends, negs, lengths = [], [], [], [], []
    for r, text in enumerate(texts):
        for w in tok.lcut(hashing.normalise(text), HMM=False) + [" "]:  # " " closes the text
            b = w.encode("utf-8")
            rows.append(r)
            hashes.append((zlib.crc32(b) << 32) | zlib.adler32(b))
            ends.append(not w.strip() or all(c in hashing.CLAUSE_END for c in w))
            negs.append(any(c in hashing.NEGATORS for c in w))
            lengths.append(len(w))
    row, h = np.array(rows, np.int64), np.array(hashes, np.uint64)
    is_end, is_neg, idx = np.array(ends), np.array(negs), np.arange(len(rows))
    scope = ((np.maximum.accumulate(np.where(is_neg, idx, -1)) > np.maximum.accumulate(np.where(is_end, idx, -1)))
             & ~is_neg & ~is_end)
    word = ~is_end & (np.array(lengths) >= 2)
    pair = ~is_end[:-1] & ~is_end[1:]
    hw, hp = h ^ SALT_WORD, (h[:-1] * np.uint64(0x100000001B3) + h[1:]) ^ SALT_PAIR
    parts = [(row[word], hw[word]), (row[word & scope], hw[word & scope] ^ hashing._SALT_NEG),
             (row[:-1][pair], hp[pair]), (row[:-1][pair & scope[:-1] & scope[1:]],
                                          hp[pair & scope[:-1] & scope[1:]] ^ hashing._SALT_NEG)]
    return (np.concatenate([p[0] for p in parts]),
            np.concatenate([hashing._mix(p[1], bits) for p in parts]))


def features(texts: list[str], words: bool):  # noqa: ANN201 - scipy type
    """Binary hashed features, L2-normalised per row, of cleaned texts."""
    from scipy import sparse

    rows, cols = hashing.buckets(texts, SPEC)
    if words:
        wr, wc = word_buckets(texts, SPEC.bits)
        rows, cols = np.concatenate([rows, wr]), np.concatenate([cols, wc])
    x = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(texts), SPEC.size))
    x.sum_duplicates()
    x.data[:] = 1.0
    norm = np.sqrt(np.asarray(x.sum(axis=1)).ravel())
    return sparse.diags(1.0 / np.maximum(norm, 1.0)) @ x


def run(data_dir: Path, c: float, words: bool, waimai_weight: float, folds: int, log=print) -> dict:  # noqa: ANN001
    """Fit ``folds`` models and return the pooled out-of-fold figures (see the module docstring)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score, roc_auc_score

    t0 = time.time()
    fit, cal = training_sets(data_dir)
    rows = fit + cal
    x = features([textmod.clean(r.text) for r in rows], words).tocsr()
    y, dom = np.array([r.label for r in rows]), np.array([r.domain for r in rows])
    in_cal = np.arange(len(rows)) >= len(fit)
    waimai = np.flatnonzero(dom == "waimai")
    parts = np.array_split(np.random.RandomState(SEED).permutation(waimai), folds)
    others_fit, others_cal = np.flatnonzero((dom != "waimai") & ~in_cal), np.flatnonzero((dom != "waimai") & in_cal)
    oof, cal_dec = np.zeros(len(rows)), np.zeros(len(others_cal))
    log(f"{x.nnz} non-zeros ({time.time() - t0:.0f}s)")
    for i, held in enumerate(parts):
        train = np.concatenate([others_fit] + [p for j, p in enumerate(parts) if j != i])
        counts = Counter(dom[train])
        weight = np.array([len(train) / len(counts) / counts[d] for d in dom[train]])
        weight[dom[train] == "waimai"] *= waimai_weight
        clf = LogisticRegression(C=c, max_iter=2000, solver="liblinear", random_state=SEED)
        clf.fit(x[train], y[train], sample_weight=weight)
        coef = clf.coef_[0].astype(np.float16).astype(np.float64)  # what inference would use
        oof[held] = x[held] @ coef + clf.intercept_[0]
        cal_dec += (x[others_cal] @ coef + clf.intercept_[0]) / folds
        log(f"fold {i + 1}/{folds} ({time.time() - t0:.0f}s)")
    a, b = platt(np.concatenate([cal_dec, oof[waimai]]), np.concatenate([y[others_cal], y[waimai]]))
    out = {"C": c, "words": words, "waimai_weight": waimai_weight, "folds": folds, "n_waimai": len(waimai),
           "waimai_macro_f1": round(f1_score(y[waimai], a * oof[waimai] + b >= 0, average="macro"), 4),
           "waimai_auc": round(roc_auc_score(y[waimai], oof[waimai]), 4)}
    for d in sorted(set(dom[others_cal])):
        m = dom[others_cal] == d
        out[f"{d}_calibration_macro_f1"] = round(f1_score(y[others_cal][m], a * cal_dec[m] + b >= 0,
                                                          average="macro"), 4)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: print one JSON line of figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("-C", type=float, default=8.0, help="regularisation (the shipped model chose 8)")
    ap.add_argument("--words", action="store_true", help="add hashed jieba word unigrams and bigrams")
    ap.add_argument("--waimai-weight", type=float, default=1.0, help="extra weight of waimai examples")
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args(argv)
    if args.folds < 2 or args.C <= 0 or args.waimai_weight <= 0:
        ap.error("--folds must be at least 2, -C and --waimai-weight positive")
    res = run(args.data, args.C, args.words, args.waimai_weight, args.folds,
              log=lambda m: print(m, file=sys.stderr, flush=True))
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
