"""The ``SentimentModel`` protocol and the three-way labelling shared by every model."""

from __future__ import annotations

from typing import Any, Mapping, Protocol, Sequence, runtime_checkable

#: Default neutral band: a calibrated probability of positive inside
#: ``[NEUTRAL_LOW, NEUTRAL_HIGH)`` is labelled neutral.
NEUTRAL_LOW = 0.4
NEUTRAL_HIGH = 0.6

POSITIVE, NEUTRAL, NEGATIVE = "positive", "neutral", "negative"


@runtime_checkable
class SentimentModel(Protocol):
    """A Chinese sentiment scorer.

    ``name`` and ``version`` are stored with every result so old scores can be
    recomputed after an upgrade. ``metadata`` carries the neutral band
    (``neutral_low`` / ``neutral_high``) and the validation confusion rates
    (``tpr`` = P(labelled positive | positive), ``fpr`` = P(labelled positive | negative))
    used by :mod:`nlp.aggregates`.
    """

    name: str
    version: str
    metadata: Mapping[str, Any]

    def score(self, texts: Sequence[str]) -> list[float]:
        """The probability that each text is positive, in [0, 1]."""
        ...


def label_for(p: float, low: float = NEUTRAL_LOW, high: float = NEUTRAL_HIGH) -> str:
    """``negative`` below ``low``, ``positive`` at or above ``high``, else ``neutral``."""
    if p >= high:
        return POSITIVE
    if p < low:
        return NEGATIVE
    return NEUTRAL


def labeller(model: SentimentModel):  # noqa: ANN201 - a small closure
    """A ``p -> label`` function using the model's own neutral band."""
    meta = getattr(model, "metadata", {}) or {}
    low = float(meta.get("neutral_low", NEUTRAL_LOW))
    high = float(meta.get("neutral_high", NEUTRAL_HIGH))
    return lambda p: label_for(p, low, high)
