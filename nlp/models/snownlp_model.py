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
            # measured by nlp.train on the calibration split (see docs/benchmarks.md)
            "tpr": 0.79,
            "fpr": 0.33,
        }

    def score(self, texts: Sequence[str]) -> list[float]:
        """snownlp's probability of positive; empty text scores 0.5."""
        out = []
        for text in texts:
            out.append(float(self._classify(text)) if text and text.strip() else 0.5)
        return out
