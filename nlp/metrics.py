"""Binary classification metrics in numpy (no scikit-learn at run time)."""

from __future__ import annotations

from typing import Sequence

import numpy as np


def accuracy(labels: Sequence[int], probs: Sequence[float], threshold: float = 0.5) -> float:
    """Share of texts whose ``p >= threshold`` agrees with the 0/1 label."""
    y, p = np.asarray(labels), np.asarray(probs) >= threshold
    return float((y == p).mean()) if len(y) else float("nan")


def macro_f1(labels: Sequence[int], probs: Sequence[float], threshold: float = 0.5) -> float:
    """Mean of the F1 scores of the positive and the negative class."""
    y, pred = np.asarray(labels).astype(bool), np.asarray(probs) >= threshold
    f1s = []
    for cls in (True, False):
        tp = np.sum((pred == cls) & (y == cls))
        fp = np.sum((pred == cls) & (y != cls))
        fn = np.sum((pred != cls) & (y == cls))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return float(np.mean(f1s))


def roc_auc(labels: Sequence[int], probs: Sequence[float]) -> float:
    """Area under the ROC curve (Mann–Whitney U, ties counted half); nan with one class."""
    from scipy.stats import rankdata

    y, p = np.asarray(labels).astype(bool), np.asarray(probs, dtype=float)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if not n_pos or not n_neg:
        return float("nan")
    ranks = rankdata(p)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def calibration_error(labels: Sequence[int], probs: Sequence[float], bins: int = 10) -> float:
    """Expected calibration error: mean |predicted − observed positive rate| over equal-width bins, weighted by size."""
    y, p = np.asarray(labels, dtype=float), np.asarray(probs, dtype=float)
    if not len(y):
        return float("nan")
    which = np.minimum((p * bins).astype(int), bins - 1)
    err = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            err += mask.sum() * abs(p[mask].mean() - y[mask].mean())
    return float(err / len(y))


def report(labels: Sequence[int], probs: Sequence[float]) -> dict[str, float]:
    """accuracy, macro_f1, roc_auc and calibration error (ece) together, with n."""
    return {
        "n": len(labels),
        "accuracy": accuracy(labels, probs),
        "macro_f1": macro_f1(labels, probs),
        "roc_auc": roc_auc(labels, probs),
        "ece": calibration_error(labels, probs),
    }
