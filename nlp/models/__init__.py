"""Sentiment models: the protocol, and an explicit registry of shipped models.

>>> from nlp.models import get_model
>>> get_model().score(["奶茶很好喝"])  # doctest: +SKIP

Models are built lazily on first use and cached per process (each worker process
builds its own).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

from nlp.errors import UnknownModel
from nlp.models.base import (
    NEGATIVE,
    NEUTRAL,
    NEUTRAL_HIGH,
    NEUTRAL_LOW,
    POSITIVE,
    SentimentModel,
    label_for,
    labeller,
)


def _snownlp() -> SentimentModel:
    from nlp.models.snownlp_model import SnowNLPModel

    return SnowNLPModel()


def _ngram() -> SentimentModel:
    from nlp.models.ngram import NgramModel

    return NgramModel()


#: name -> factory. Explicit: adding a model means adding a line here.
REGISTRY: dict[str, Callable[[], SentimentModel]] = {
    "ngram-lr": _ngram,
    "snownlp": _snownlp,
}

DEFAULT_MODEL = "ngram-lr"  # best measured: see docs/benchmarks.md "## NLP"


def available_models() -> list[str]:
    """Names of every shipped model, default first."""
    return [DEFAULT_MODEL] + sorted(n for n in REGISTRY if n != DEFAULT_MODEL)


def get_model(name: str | None = None) -> SentimentModel:
    """The model registered as ``name`` (default: :data:`DEFAULT_MODEL`), built once per process."""
    key = name or DEFAULT_MODEL
    if key not in REGISTRY:
        raise UnknownModel(f"unknown sentiment model {key!r}; available: {', '.join(available_models())}")
    return _build(key)


@lru_cache(maxsize=None)
def _build(name: str) -> SentimentModel:
    return REGISTRY[name]()


__all__ = [
    "DEFAULT_MODEL",
    "NEGATIVE",
    "NEUTRAL",
    "NEUTRAL_HIGH",
    "NEUTRAL_LOW",
    "POSITIVE",
    "REGISTRY",
    "SentimentModel",
    "available_models",
    "get_model",
    "label_for",
    "labeller",
]
