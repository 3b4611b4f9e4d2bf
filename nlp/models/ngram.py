"""The shipped n-gram logistic-regression model: numpy-only, vectorised inference.

The artifact (``data/ngram_lr.npz``, written by :mod:`nlp.train`) holds one float16
weight per hash bucket, for tf-idf models one float16 idf per bucket, and a JSON
metadata block (hashing spec, weighting, version, Platt calibration, neutral band,
validation confusion rates). It is read on first use and cached per process; nothing is
downloaded.

Score of a batch: the (text, bucket, count) triples of
:func:`nlp.models.hashing.bucket_counts` give each text's feature values — ``1/sqrt(k)``
for a binary model with ``k`` features, ``(1 + log tf) · idf`` L2-normalised for a
tf-idf one — and ``z = intercept + Σ w·x``; then ``p = sigmoid(a·z + b)`` (Platt
scaling fitted on the calibration split).

A model with a **social head** (metadata ``social``, format 3) holds two more weight
vectors over the same buckets: a head fitted on social posts only (Weibo) and a router
fitted to tell social posts from reviews. Each head's linear score gets its own Platt
scaling, and the text's logit is the router-gated mix of the two (:func:`mix_logits`):
a post that reads like Weibo is scored mostly by the social head, a review by the
general one. The social head is computed only for texts whose gate share is at least
:data:`MIN_SHARE` (below it the share counts as 0), so long reviews pay for two heads, not three.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from nlp.errors import ModelArtifactError
from nlp.models.hashing import HashSpec, bucket_counts, row_weights, tfidf_weights

ARTIFACT = Path(__file__).resolve().parent / "data" / "ngram_lr.npz"
BATCH = 2000  # texts hashed at once: bounds memory on very large calls


HEADS = ("social", "router")  # the extra weight vectors of a model with a social head
MIN_SHARE = 1e-4  # a smaller gate share is 0: the social head moves such a logit by < 1e-3


def save_artifact(path: Path, weights: np.ndarray, meta: Mapping[str, Any], idf: np.ndarray | None = None,
                  heads: Mapping[str, np.ndarray] | None = None) -> None:
    """Write the model artifact (used by :mod:`nlp.train`); ``heads``: the social and router weights, if any."""
    path.parent.mkdir(parents=True, exist_ok=True)
    meta_blob = np.frombuffer(json.dumps(dict(meta), ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
    arrays = {"weights": np.asarray(weights, dtype=np.float16), "meta": meta_blob}
    if idf is not None:
        arrays["idf"] = np.asarray(idf, dtype=np.float16)
    for name, values in (heads or {}).items():
        arrays[f"{name}_weights"] = np.asarray(values, dtype=np.float16)
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)


def spec_of(meta: Mapping[str, Any]) -> HashSpec:
    """The hashing spec recorded in an artifact's metadata."""
    return HashSpec(int(meta["hash_bits"]), int(meta["max_n"]), bool(meta.get("contrast", False)))


def load_artifact(path: Path = ARTIFACT) -> tuple[np.ndarray, dict[str, Any], np.ndarray | None,
                                                 dict[str, np.ndarray]]:
    """(float16 weights, metadata, float16 idf or None, social/router head weights or {}) from an artifact file."""
    try:
        with np.load(path, allow_pickle=False) as z:
            weights = z["weights"]
            meta = json.loads(z["meta"].tobytes().decode("utf-8"))
            idf = z["idf"] if meta.get("weighting", "binary") == "tfidf" else None
            heads = {name: z[f"{name}_weights"] for name in HEADS} if meta.get("social") else {}
        spec = spec_of(meta)
    except (OSError, KeyError, ValueError) as exc:
        raise ModelArtifactError(f"cannot read the sentiment model artifact {path}: {exc}") from exc
    if any(len(a) != spec.size for a in (weights, *([] if idf is None else [idf]), *heads.values())):
        raise ModelArtifactError(f"{path}: {len(weights)} weights for {spec.size} hash buckets")
    return weights, meta, idf, heads


def mix_logits(general: np.ndarray, social: np.ndarray, router: np.ndarray, meta: Mapping[str, Any]) -> np.ndarray:
    """The calibrated logit of a model with a social head, from the three heads' linear scores (intercepts in).

    :func:`gate_share` of the router score is how much the text reads like a social post;
    each head's score gets its own Platt scaling before they are mixed. Where the share is
    0 the social score is not used (it may be any finite number).
    """
    general = meta["platt_a"] * general + meta["platt_b"]
    share = gate_share(router, meta)
    return general + share * (meta["social"]["platt_a"] * social + meta["social"]["platt_b"] - general)


def gate_share(router: np.ndarray, meta: Mapping[str, Any]) -> np.ndarray:
    """How much of each text the social head scores: ``sigmoid(k · (router − t))``, 0 below :data:`MIN_SHARE`."""
    head = meta["social"]
    share = 1.0 / (1.0 + np.exp(-head["gate_k"] * (router - head["gate_t"])))
    return np.where(share < MIN_SHARE, 0.0, share)


class NgramModel:
    """Calibrated logistic regression over hashed character n-grams (see the module docstring)."""

    def __init__(self, path: Path = ARTIFACT) -> None:
        weights, meta, idf, heads = load_artifact(path)
        self._w = [weights.astype(np.float32), *(heads[n].astype(np.float32) for n in HEADS if heads)]
        self._social = meta.get("social") or None
        self._intercepts = np.array([float(meta["intercept"])]
                                    + ([self._social["intercept"], self._social["router_intercept"]]
                                       if self._social else []))
        self._idf = None if idf is None else idf.astype(np.float64)
        self._spec = spec_of(meta)
        self.metadata: Mapping[str, Any] = meta
        self.name: str = meta.get("name", "ngram-lr")
        self.version: str = str(meta.get("version", "0"))
        self._a, self._b = float(meta["platt_a"]), float(meta["platt_b"])

    def linear(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(linear score of each head with its intercept, one column per head; number of features) of each text.

        Columns: general, then social and router for a model with a social head; the social
        score is 0 where the gate share is 0 (not computed, :func:`mix_logits` ignores it).
        """
        out = np.zeros((len(texts), len(self._w)), dtype=np.float64)
        counts = np.empty(len(texts), dtype=np.int64)
        for start in range(0, len(texts), BATCH):
            chunk = list(texts[start:start + BATCH])
            n = len(chunk)
            rows, cols, tf = bucket_counts(chunk, self._spec)
            x = (row_weights(rows, n) if self._idf is None else tfidf_weights(rows, cols, tf, self._idf, n))
            part = out[start:start + n]
            part[:, 0] = np.bincount(rows, weights=self._w[0][cols] * x, minlength=n) + self._intercepts[0]
            if self._social:
                part[:, 2] = np.bincount(rows, weights=self._w[2][cols] * x, minlength=n) + self._intercepts[2]
                used = (gate_share(part[:, 2], self.metadata) > 0)[rows]
                part[:, 1] = (np.bincount(rows[used], weights=self._w[1][cols[used]] * x[used], minlength=n)
                              + self._intercepts[1])
            counts[start:start + n] = np.bincount(rows, minlength=n)
        return out, counts

    def decision(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(uncalibrated linear score of the general head, number of features) of each text."""
        z, counts = self.linear(texts)
        return z[:, 0], counts

    def score(self, texts: Sequence[str]) -> list[float]:
        """Calibrated probability of positive for each text; 0.5 for a text with nothing to go on."""
        if not len(texts):
            return []
        z, counts = self.linear(texts)
        logit = (mix_logits(z[:, 0], z[:, 1], z[:, 2], self.metadata) if self._social
                 else self._a * z[:, 0] + self._b)
        p = 1.0 / (1.0 + np.exp(-logit))
        return np.where(counts > 0, p, 0.5).tolist()
