"""Honest positive shares: classifier errors corrected, uncertainty stated.

A classifier that labels positive 88% of truly positive texts (``tpr``) and 6% of
truly negative ones (``fpr``) makes a store with 0% happy customers look 6% positive.
*Adjusted classify-and-count* (Forman 2008) inverts that::

    estimate = (observed − fpr) / (tpr − fpr), clipped to [0, 1]

where ``observed`` is the share of mentions labelled positive. The interval is the
Wilson score interval of ``observed`` mapped through the same correction. ``tpr`` and
``fpr`` are measured on the model's calibration split by ``nlp.train`` and shipped in
its metadata. Fewer than :data:`MIN_N` mentions are flagged 样本不足 (too few to say).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

MIN_N = 10
Z95 = 1.959964
SMALL_SAMPLE = "样本不足"


@dataclass(frozen=True)
class Share:
    """An estimated positive share with its 95% interval."""

    n: int
    observed: float | None  # raw share labelled positive
    estimate: float | None  # corrected share
    low: float | None
    high: float | None
    small_sample: bool

    def display(self) -> str:
        """``72% (65%–79%)``, or ``样本不足 (n=3)`` for a small sample."""
        if self.small_sample or self.estimate is None:
            return f"{SMALL_SAMPLE} (n={self.n})"
        return f"{self.estimate:.0%} ({self.low:.0%}–{self.high:.0%})"


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``k/n``."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def adjust(observed: float, tpr: float, fpr: float) -> float:
    """Adjusted classify-and-count of one observed share, clipped to [0, 1]."""
    if tpr - fpr <= 1e-6:  # a useless classifier: nothing to correct with
        return observed
    return min(1.0, max(0.0, (observed - fpr) / (tpr - fpr)))


def positive_share(positive: int, n: int, tpr: float = 1.0, fpr: float = 0.0, *, min_n: int = MIN_N) -> Share:
    """The corrected positive share of ``n`` mentions of which ``positive`` were labelled positive."""
    if n <= 0:
        return Share(0, None, None, None, None, True)
    observed = positive / n
    lo, hi = wilson(positive, n)
    return Share(n, observed, adjust(observed, tpr, fpr), adjust(lo, tpr, fpr), adjust(hi, tpr, fpr), n < min_n)


def model_rates(metadata: dict | None) -> tuple[float, float]:
    """(tpr, fpr) from a model's metadata; (1, 0) — no correction — when it has none."""
    meta = metadata or {}
    return float(meta.get("tpr", 1.0)), float(meta.get("fpr", 0.0))


def share_of_labels(labels: Iterable[str], metadata: dict | None = None, *, min_n: int = MIN_N) -> Share:
    """:func:`positive_share` of a list of three-way labels, with the model's rates."""
    labels = list(labels)
    tpr, fpr = model_rates(metadata)
    return positive_share(sum(1 for x in labels if x == "positive"), len(labels), tpr, fpr, min_n=min_n)
