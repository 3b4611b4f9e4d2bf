"""Honest sentiment shares: classifier error corrected, uncertainty stated, small samples named.

Every positive / negative share the dashboard, the weekly digest and the alert emails show
comes from :func:`honest_shares` (the one query-layer function; it lives in ``storage`` so
that ``dashboard/queries`` and ``alerts`` both reach it without importing each other).

A classifier that labels positive 89% of truly positive texts (``tpr``) and 6% of truly
negative ones (``fpr``) makes a store with no happy customer look 6% positive.
*Adjusted classify-and-count* (Forman 2008) inverts that::

    estimate = (observed − fpr) / (tpr − fpr), clipped to [0, 1]

and the negative share likewise with ``tnr`` = P(labelled negative | negative) and
``fnr`` = P(labelled negative | positive). The 95% interval is the Wilson score interval
of the observed share mapped through the same correction. The rates are those of the
model in force (the promoted ``model_registry`` row, measured on its calibration split);
without one, shares are not corrected (``Rates.corrected`` is False) and say so.

Below :data:`MIN_N` mentions a share is 样本不足 instead of a percentage: at 20 mentions the
Wilson interval of a share near 50% is already ±20 points before the correction widens
it (÷ (tpr − fpr) ≈ ÷ 0.83 for the shipped model, so ±24); with fewer, the interval spans
"mostly happy" to "mostly unhappy" and a single percentage invites a decision the data
cannot carry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable

from sqlmodel import Session, select

from storage.models import ModelRecord

MIN_N = 20
Z95 = 1.959964
SMALL_SAMPLE = "样本不足"


@dataclass(frozen=True)
class Rates:
    """The model's confusion rates on its calibration split (identity: no correction)."""

    tpr: float = 1.0  # P(labelled positive | positive)
    fpr: float = 0.0  # P(labelled positive | negative)
    tnr: float = 1.0  # P(labelled negative | negative)
    fnr: float = 0.0  # P(labelled negative | positive)
    model: str | None = None  # "name version" the rates belong to

    @property
    def corrected(self) -> bool:
        """Whether these rates change anything (a model with measured rates is in force)."""
        return (self.tpr, self.fpr, self.tnr, self.fnr) != (1.0, 0.0, 1.0, 0.0)

    @classmethod
    def of(cls, figures: dict[str, Any] | None, model: str | None = None) -> "Rates":
        """Rates from registry ``figures`` (``{"rates": {...}}``) or a model's metadata (flat keys)."""
        figures = figures or {}
        rates = figures.get("rates", figures) or {}
        return cls(float(rates.get("tpr", 1.0)), float(rates.get("fpr", 0.0)),
                   float(rates.get("tnr", 1.0)), float(rates.get("fnr", 0.0)), model)


@dataclass(frozen=True)
class Share:
    """An estimated share with its 95% interval; ``small_sample`` below the threshold."""

    n: int
    observed: float | None  # raw share labelled so
    estimate: float | None  # corrected share
    low: float | None
    high: float | None
    small_sample: bool

    @property
    def shown(self) -> float | None:
        """The estimate, or None when it must not be shown as a number (small sample, no data)."""
        return None if self.small_sample else self.estimate

    def display(self) -> str:
        """``72% (65%–79%)``, or ``样本不足 (n=3)`` for a small sample."""
        if self.small_sample or self.estimate is None:
            return f"{SMALL_SAMPLE} (n={self.n})"
        return f"{self.estimate:.0%} ({self.low:.0%}–{self.high:.0%})"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, for a share stored with what it describes (an alert's evidence)."""
        def num(v: float | None) -> float | None:
            return None if v is None else round(float(v), 4)
        return {"n": self.n, "observed": num(self.observed), "estimate": num(self.estimate),
                "low": num(self.low), "high": num(self.high), "small_sample": bool(self.small_sample)}

    @classmethod
    def from_dict(cls, data: Any) -> "Share | None":
        """The share :meth:`as_dict` stored; None for anything else (evidence written before it)."""
        if not isinstance(data, dict):
            return None
        try:
            n = int(data["n"])
            nums = [None if data.get(k) is None else float(data[k]) for k in ("observed", "estimate", "low", "high")]
            return cls(n, *nums, bool(data.get("small_sample", n < MIN_N)))
        except (KeyError, TypeError, ValueError):
            return None


def stored_display(data: Any) -> str | None:
    """:meth:`Share.display` of a share :meth:`Share.as_dict` stored; None for anything else."""
    found = Share.from_dict(data)
    return None if found is None else found.display()


def share_note(corrected: bool, min_n: int = MIN_N) -> str:
    """The reading guide under stated shares: corrected or not, what the brackets are, 样本不足."""
    how = "已按情感模型的误判率校正" if corrected else "未校正（尚无带误判率的上线模型）"
    return f"占比{how}，括号内为 95% 区间；提及少于 {min_n} 条的显示“{SMALL_SAMPLE}”，不给百分比。"


@dataclass(frozen=True)
class SentimentShares:
    """The corrected positive and negative share of one scope."""

    n: int
    positive: Share
    negative: Share

    @property
    def small_sample(self) -> bool:
        return self.positive.small_sample


def wilson(k: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``k/n`` ((0, 1) without data)."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(max(p * (1 - p) / n + z * z / (4 * n * n), 0.0)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def adjust(observed: float, hit: float, false: float) -> float:
    """Adjusted classify-and-count of one observed share, clipped to [0, 1].

    ``hit`` = P(labelled so | truly so), ``false`` = P(labelled so | truly not).
    """
    if hit - false <= 1e-6:  # a useless classifier: nothing to correct with
        return observed
    return min(1.0, max(0.0, (observed - false) / (hit - false)))


def share(k: float, n: float, hit: float = 1.0, false: float = 0.0, *, min_n: int = MIN_N) -> Share:
    """The corrected share of ``n`` mentions of which ``k`` were labelled so."""
    n = int(n or 0)
    if n <= 0:
        return Share(0, None, None, None, None, True)
    observed = float(k) / n
    lo, hi = wilson(float(k), n)
    return Share(n, observed, adjust(observed, hit, false), adjust(lo, hit, false), adjust(hi, hit, false), n < min_n)


def sentiment_shares(positive: float, negative: float, total: float, rates: Rates = Rates(), *,
                     min_n: int = MIN_N) -> SentimentShares:
    """The corrected positive and negative share of ``total`` mentions (pure)."""
    return SentimentShares(int(total or 0), share(positive, total, rates.tpr, rates.fpr, min_n=min_n),
                           share(negative, total, rates.tnr, rates.fnr, min_n=min_n))


def promoted_model(session: Session) -> ModelRecord | None:
    """The model version in force: the latest promoted registry row, None when nothing was promoted."""
    return session.exec(select(ModelRecord).where(ModelRecord.promoted_at.isnot(None))
                        .order_by(ModelRecord.promoted_at.desc(), ModelRecord.id.desc()).limit(1)).first()


def classifier_rates(session: Session) -> Rates:
    """The confusion rates of the model in force (the latest promoted registry row)."""
    row = promoted_model(session)
    if row is None:
        return Rates()
    return Rates.of(row.figures, f"{row.name} {row.version}")


def honest_shares(source: Any, counts: Iterable[tuple[float, float, float]], *,
                  min_n: int = MIN_N) -> tuple[Rates, list[SentimentShares]]:
    """The corrected shares of each ``(positive, negative, total)`` in ``counts``.

    ``source`` is a ``Database`` or an open ``Session``; the model's rates are read once.
    Returns the rates used (so a page can say whether and how shares were corrected) and
    one :class:`SentimentShares` per count, in order.
    """
    if isinstance(source, Session):
        rates = classifier_rates(source)
    else:
        with source.session() as session:
            rates = classifier_rates(session)
    return rates, [sentiment_shares(p, n, t, rates, min_n=min_n) for p, n, t in counts]
