"""The shipped n-gram logistic-regression model: numpy-only inference.

The artifact (``data/ngram_lr.npz``, written by :mod:`nlp.train`) holds the sorted
feature strings (UTF-8, ``\\x1f``-separated), their float16 weights and a JSON
metadata block (version, Platt calibration, neutral band, validation confusion rates).
It is read on first use and cached; nothing is downloaded.

Score of a text: ``z = intercept + Σ w(f) / sqrt(n)`` over its ``n`` known features
``f`` (:func:`nlp.models.features.features`), then ``p = sigmoid(a·z + b)`` (Platt).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from nlp.errors import ModelArtifactError
from nlp.models.features import features

ARTIFACT = Path(__file__).resolve().parent / "data" / "ngram_lr.npz"
SEP = "\x1f"


def save_artifact(path: Path, vocab: Sequence[str], weights: np.ndarray, meta: Mapping[str, Any]) -> None:
    """Write the model artifact (used by :mod:`nlp.train`)."""
    vocab = [g for g in vocab]
    if any(SEP in g for g in vocab):
        raise ValueError("a feature contains the separator")
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = np.frombuffer(SEP.join(vocab).encode("utf-8"), dtype=np.uint8)
    meta_blob = np.frombuffer(json.dumps(dict(meta), ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
    with open(path, "wb") as fh:
        np.savez_compressed(fh, vocab=blob, weights=np.asarray(weights, dtype=np.float16), meta=meta_blob)


def load_artifact(path: Path = ARTIFACT) -> tuple[list[str], np.ndarray, dict[str, Any]]:
    """(vocabulary, float16 weights, metadata) from an artifact file."""
    try:
        with np.load(path, allow_pickle=False) as z:
            vocab = z["vocab"].tobytes().decode("utf-8").split(SEP)
            weights = z["weights"]
            meta = json.loads(z["meta"].tobytes().decode("utf-8"))
    except (OSError, KeyError, ValueError) as exc:
        raise ModelArtifactError(f"cannot read the sentiment model artifact {path}: {exc}") from exc
    if len(vocab) != len(weights):
        raise ModelArtifactError(f"{path}: {len(vocab)} features but {len(weights)} weights")
    return vocab, weights, meta


class NgramModel:
    """Calibrated logistic regression over character n-grams (see the module docstring)."""

    def __init__(self, path: Path = ARTIFACT) -> None:
        vocab, weights, meta = load_artifact(path)
        self._weights: dict[str, float] = dict(zip(vocab, weights.astype(np.float64).tolist()))
        self.metadata: Mapping[str, Any] = meta
        self.name: str = meta.get("name", "ngram-lr")
        self.version: str = str(meta.get("version", "0"))
        self._intercept = float(meta["intercept"])
        self._a, self._b = float(meta["platt_a"]), float(meta["platt_b"])

    def decision(self, texts: Sequence[str]) -> np.ndarray:
        """The uncalibrated linear score of each text."""
        get = self._weights.get
        out = np.empty(len(texts), dtype=np.float64)
        for i, text in enumerate(texts):
            found = [w for w in map(get, features(text or "")) if w is not None]
            out[i] = math.fsum(found) / math.sqrt(len(found)) if found else 0.0
        return out + self._intercept

    def score(self, texts: Sequence[str]) -> list[float]:
        """Calibrated probability of positive for each text."""
        if not len(texts):
            return []
        z = self._a * self.decision(texts) + self._b
        return (1.0 / (1.0 + np.exp(-z))).tolist()
