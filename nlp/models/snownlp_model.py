"""snownlp's bundled Bayes sentiment model, unchanged: the baseline."""

from __future__ import annotations

from typing import Any, Mapping, Sequence


class SnowNLPModel:
    """snownlp ``SnowNLP(text).sentiments`` as a :class:`~nlp.models.base.SentimentModel`."""

    name = "snownlp"

    def __init__(self) -> None:
        import snownlp  # noqa: F401 - fail early when it is missing
        from snownlp import sentiment

        self._classify = sentiment.classify
        self.version = "0.12.3"
        self.metadata: Mapping[str, Any] = {
            "neutral_low": 0.4,
            "neutral_high": 0.6,
            # P(labelled positive | positive / negative), measured on a 3,000-text sample of
            # nlp.train's calibration split (seed 20261122) with this neutral band
            "tpr": 0.753,
            "fpr": 0.326,
        }

    def score(self, texts: Sequence[str]) -> list[float]:
        """snownlp's probability of positive; empty text scores 0.5."""
        out = []
        for text in texts:
            out.append(float(self._classify(text)) if text and text.strip() else 0.5)
        return out
