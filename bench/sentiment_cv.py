"""Waimai cross-validation for choices about the n-gram model, without touching the hold-out.

    .venv/bin/python bench/sentiment_cv.py [--data ../shared/data/sentiment] [-C 8] [--words]
                                           [--waimai-weight 1] [--folds 5] [--domain-bias]
                                           [--loss lr|modified_huber] [--average-c C ...]
                                           [--bags N] [--augment S] [--idf]

The calibration split of :mod:`nlp.train` holds only ~590 waimai texts (±0.013 macro-F1),
too few to tell variants apart. This script pools the waimai *training* part (fit +
calibration, 5,865 texts; the 30% hold-out of :func:`nlp.train.waimai_split` is never
read) into ``--folds`` folds; each fold is scored by a model fitted on the other folds
plus the fit part of every other domain (domain weights as in :mod:`nlp.train`). It
prints one JSON line: the pooled out-of-fold waimai macro-F1 at the calibrated 0.5
threshold (one Platt fit over the pooled out-of-fold decisions and the other domains'
calibration split: ``waimai_macro_f1``, the figure recorded since the first runs), the
waimai ROC-AUC, and the other domains' calibration-split macro-F1. Then the decision
threshold, each policy with its waimai out-of-fold and other domains' macro-F1:

- ``threshold_sweep``: waimai macro-F1 at p ∈ {0.30, …, 0.70} under that Platt fit, and
  ``oracle`` (the best threshold on the figures being reported: a bound, not a policy);
- ``shipped_platt``: Platt fitted with waimai weighted to its share of the real
  calibration split (~6%), i.e. the threshold the shipped recipe ends up with;
- ``balanced_platt``: Platt fitted with each domain given the same total weight;
- ``mean_f1_threshold``: the decision threshold that maximises the mean macro-F1 over
  the domains, cross-fitted (fold i's waimai texts are labelled with a threshold chosen
  on the other folds' out-of-fold decisions and the other domains' calibration split).

Variants of the fit (default: the shipped recipe, logistic regression, liblinear):

- ``--words``: jieba word unigrams (two characters or more) and word bigrams, hashed into
  the same buckets with their own salts and negation-marked like the character n-grams
  (recorded in docs/benchmarks.md; the shipped model has none);
- ``--domain-bias``: one indicator column per training domain while fitting (a domain
  intercept, so the n-gram weights need not encode the domains' class priors); dropped
  at scoring, where the calibration supplies the one global offset;
- ``--loss modified_huber``: sklearn's averaged ``SGDClassifier`` with the modified Huber
  loss, ``alpha = 1 / (C · total sample weight)`` (the L2 strength matching ``-C``);
- ``--average-c C``: average the coefficient vectors of fits with these C values
  (repeatable) instead of one fit with ``-C``;
- ``--bags N``: average the coefficients of N fits on bootstrap resamples (seeded).
- ``--augment S``: feature augmentation for the home domain ("frustratingly easy domain
  adaptation"): waimai rows get a second copy of their features, scaled by S, in
  columns of their own; the scored model is the shared weights plus S times the
  waimai-specific ones, for every text (one global model, the food-delivery domain being
  the product's home domain).
- ``--idf``: each feature weighted by its inverse document frequency in the fold's
  training rows (``log((1 + n) / (1 + df)) + 1``) before the L2 normalisation, instead
  of binary (inference would need the idf table in the artifact).
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
SWEEP = [round(0.30 + 0.05 * i, 2) for i in range(9)]


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


def features(texts: list[str], words: bool, normalised: bool = True):  # noqa: ANN201 - scipy type
    """Binary hashed features, L2-normalised per row (unless told not to), of cleaned texts."""
    from scipy import sparse

    rows, cols = hashing.buckets(texts, SPEC)
    if words:
        wr, wc = word_buckets(texts, SPEC.bits)
        rows, cols = np.concatenate([rows, wr]), np.concatenate([cols, wc])
    x = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(texts), SPEC.size))
    x.sum_duplicates()
    x.data[:] = 1.0
    return l2_rows(x) if normalised else x


def l2_rows(x):  # noqa: ANN001, ANN201 - scipy type
    """Rows scaled to unit Euclidean length (empty rows left empty)."""
    from scipy import sparse

    norm = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    return (sparse.diags(1.0 / np.where(norm > 0, norm, 1.0)) @ x).tocsr()


def fit_coef(x, y, weight, c: float, loss: str, seed: int) -> tuple[np.ndarray, float]:  # noqa: ANN001
    """(coefficients, intercept) of one linear fit."""
    if loss == "lr":
        from sklearn.linear_model import LogisticRegression

        clf = LogisticRegression(C=c, max_iter=2000, solver="liblinear", random_state=seed)
    else:
        from sklearn.linear_model import SGDClassifier

        clf = SGDClassifier(loss=loss, alpha=1.0 / (c * weight.sum()), average=True, max_iter=50, tol=1e-4,
                            random_state=seed)
    clf.fit(x, y, sample_weight=weight)
    return clf.coef_[0], float(clf.intercept_[0])


def weighted_platt(decision, labels, weights) -> tuple[float, float]:  # noqa: ANN001
    """``platt`` with sample weights (scaled to a mean of 1)."""
    from sklearn.linear_model import LogisticRegression

    w = np.asarray(weights, float)
    lr = LogisticRegression(C=1e6, max_iter=1000)
    lr.fit(np.asarray(decision).reshape(-1, 1), labels, sample_weight=w * len(w) / w.sum())
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def run(data_dir: Path, c: float, words: bool, waimai_weight: float, folds: int, *, domain_bias: bool = False,
        loss: str = "lr", average_c: list[float] = (), bags: int = 0, augment: float = 0.0,
        idf: bool = False, log=print) -> dict:  # noqa: ANN001
    """Fit ``folds`` models and return the pooled out-of-fold figures (see the module docstring)."""
    from scipy import sparse
    from sklearn.metrics import f1_score, roc_auc_score

    t0 = time.time()
    fit, cal = training_sets(data_dir)
    rows = fit + cal
    x_bin = features([textmod.clean(r.text) for r in rows], words, normalised=False).tocsr()
    x = l2_rows(x_bin)
    y, dom = np.array([r.label for r in rows]), np.array([r.domain for r in rows])
    domains = sorted(set(dom))

    def design(x):  # noqa: ANN001, ANN202 - the columns fitted: features, waimai copy, domain indicators
        if augment:
            x = sparse.hstack([x, sparse.diags(np.where(dom == "waimai", augment, 0.0)) @ x]).tocsr()
        if domain_bias:
            codes = np.searchsorted(domains, dom)
            ind = sparse.csr_matrix((np.ones(len(rows)), (np.arange(len(rows)), codes)),
                                    shape=(len(rows), len(domains)))
            x = sparse.hstack([x, ind]).tocsr()
        return x

    x_fit = design(x)
    in_cal = np.arange(len(rows)) >= len(fit)
    n_waimai_cal = int(((dom == "waimai") & in_cal).sum())
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
        if idf:
            df = np.bincount(x_bin[train].indices, minlength=SPEC.size)
            x = l2_rows(x_bin @ sparse.diags(np.log((1.0 + len(train)) / (1.0 + df)) + 1.0))
            x_fit = design(x)
        fits = []
        if bags:
            rng = np.random.RandomState(SEED + i)
            for _ in range(bags):
                draw = np.bincount(rng.randint(len(train), size=len(train)), minlength=len(train))
                keep = np.flatnonzero(draw)
                fits.append(fit_coef(x_fit[train[keep]], y[train[keep]], weight[keep] * draw[keep], c, loss, SEED))
        else:
            for ci in average_c or [c]:
                fits.append(fit_coef(x_fit[train], y[train], weight, ci, loss, SEED))
        coef = np.mean([f[0] for f in fits], axis=0)
        if augment:
            coef = coef[:SPEC.size] + augment * coef[SPEC.size:2 * SPEC.size]
        coef = coef[:SPEC.size]  # domain columns (if any) dropped
        intercept = float(np.mean([f[1] for f in fits]))
        coef = coef.astype(np.float16).astype(np.float64)  # what inference would use
        oof[held] = x[held] @ coef + intercept
        cal_dec += (x[others_cal] @ coef + intercept) / folds
        log(f"fold {i + 1}/{folds} ({time.time() - t0:.0f}s)")

    dec = np.concatenate([cal_dec, oof[waimai]])
    lab = np.concatenate([y[others_cal], y[waimai]])
    where = np.concatenate([dom[others_cal], dom[waimai]])
    fold_of = np.concatenate([np.full(len(others_cal), -1)] + [np.full(len(p), j) for j, p in enumerate(parts)])
    fold_of_waimai = fold_of[len(others_cal):]

    def f1(labels, positive) -> float:  # noqa: ANN001
        return round(float(f1_score(labels, positive, average="macro")), 4)

    def figures(z_threshold) -> dict:  # noqa: ANN001 - a float, or one per waimai text
        out = {"waimai": f1(y[waimai], oof[waimai] >= z_threshold)}
        for d in domains:
            if d != "waimai":
                m = dom[others_cal] == d
                thr = z_threshold if np.isscalar(z_threshold) else float(np.median(z_threshold))
                out[d] = f1(y[others_cal][m], cal_dec[m] >= thr)
        return out

    a, b = platt(dec, lab)
    res = {"C": c, "words": words, "waimai_weight": waimai_weight, "folds": folds, "domain_bias": domain_bias,
           "loss": loss, "average_c": list(average_c), "bags": bags, "augment": augment, "idf": idf,
           "n_waimai": len(waimai),
           "waimai_macro_f1": f1(y[waimai], a * oof[waimai] + b >= 0),
           "waimai_auc": round(float(roc_auc_score(y[waimai], oof[waimai])), 4)}
    for d in domains:
        if d != "waimai":
            m = dom[others_cal] == d
            res[f"{d}_calibration_macro_f1"] = f1(y[others_cal][m], a * cal_dec[m] + b >= 0)
    logit = lambda p: float(np.log(p / (1 - p)))  # noqa: E731
    res["threshold_sweep"] = {str(p): f1(y[waimai], a * oof[waimai] + b >= logit(p)) for p in SWEEP}
    grid = np.quantile(oof[waimai], np.linspace(0.02, 0.98, 193))
    res["oracle"] = max(f1(y[waimai], oof[waimai] >= t) for t in grid)

    share = np.where(where == "waimai", n_waimai_cal / len(waimai), 1.0)
    a2, b2 = weighted_platt(dec, lab, share)
    res["shipped_platt"] = figures(-b2 / a2)
    per_domain = Counter(where)
    a3, b3 = weighted_platt(dec, lab, [1.0 / per_domain[d] for d in where])
    res["balanced_platt"] = figures(-b3 / a3)

    def mean_f1(t: float, use: np.ndarray) -> float:
        scores = [f1_score(lab[m], dec[m] >= t, average="macro")
                  for m in ((where == d) & use for d in domains)]
        return float(np.mean(scores))

    grid = np.quantile(dec, np.linspace(0.05, 0.95, 181))
    chosen = np.zeros(len(waimai))
    for j in range(folds):
        use = fold_of != j  # the other domains' calibration split and the other folds
        chosen[fold_of_waimai == j] = max(grid, key=lambda t: mean_f1(t, use))
    res["mean_f1_threshold"] = figures(chosen)
    res["mean_f1_threshold"]["p_at_platt"] = [round(float(1 / (1 + np.exp(-(a * t + b)))), 3)
                                              for t in sorted(set(chosen))]
    return res


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: print one JSON line of figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("-C", type=float, default=8.0, help="regularisation (the shipped model chose 8)")
    ap.add_argument("--words", action="store_true", help="add hashed jieba word unigrams and bigrams")
    ap.add_argument("--waimai-weight", type=float, default=1.0, help="extra weight of waimai examples")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--domain-bias", action="store_true", help="fit with one intercept column per domain")
    ap.add_argument("--loss", choices=("lr", "modified_huber"), default="lr")
    ap.add_argument("--average-c", type=float, action="append", default=[],
                    help="average the coefficients of fits with these C (repeatable)")
    ap.add_argument("--bags", type=int, default=0, help="average the coefficients of N bootstrap fits")
    ap.add_argument("--augment", type=float, default=0.0,
                    help="scale of the waimai-only copy of the features (0: none)")
    ap.add_argument("--idf", action="store_true", help="idf-weighted instead of binary features")
    args = ap.parse_args(argv)
    if args.folds < 2 or args.C <= 0 or args.waimai_weight <= 0 or args.bags < 0 or args.augment < 0:
        ap.error("--folds must be at least 2, -C and --waimai-weight positive, --bags and --augment not negative")
    res = run(args.data, args.C, args.words, args.waimai_weight, args.folds, domain_bias=args.domain_bias,
              loss=args.loss, average_c=args.average_c, bags=args.bags, augment=args.augment,
              idf=args.idf,
              log=lambda m: print(m, file=sys.stderr, flush=True))
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
