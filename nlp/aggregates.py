"""Honest positive shares of a list of labels, for nlp's own callers.

The correction (adjusted classify-and-count with a Wilson interval) and the 样本不足
threshold live in :mod:`storage.shares`, so the dashboard and the digest read the same
numbers through storage; this module applies them to labels and a model's metadata.
"""

from __future__ import annotations

from typing import Iterable

from storage.shares import MIN_N, SMALL_SAMPLE, Rates, Share, adjust, share, wilson

__all__ = ["MIN_N", "SMALL_SAMPLE", "Share", "adjust", "model_rates", "positive_share", "share_of_labels", "wilson"]


def positive_share(positive: int, n: int, tpr: float = 1.0, fpr: float = 0.0, *, min_n: int = MIN_N) -> Share:
    """The corrected positive share of ``n`` mentions of which ``positive`` were labelled positive."""
    return share(positive, n, tpr, fpr, min_n=min_n)


def model_rates(metadata: dict | None) -> tuple[float, float]:
    """(tpr, fpr) from a model's metadata; (1, 0) — no correction — when it has none."""
    rates = Rates.of(metadata)
    return rates.tpr, rates.fpr


def share_of_labels(labels: Iterable[str], metadata: dict | None = None, *, min_n: int = MIN_N) -> Share:
    """:func:`positive_share` of a list of three-way labels, with the model's rates."""
    labels = list(labels)
    tpr, fpr = model_rates(metadata)
    return positive_share(sum(1 for x in labels if x == "positive"), len(labels), tpr, fpr, min_n=min_n)
