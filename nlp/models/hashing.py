"""Hashed, negation-aware character n-gram features, computed for a whole batch in numpy.

Used both by training (:mod:`nlp.train`) and inference (:mod:`nlp.models.ngram`), so
the two can never disagree.

A batch of texts is normalised (lower case, full → half width, traditional →
simplified by character, digits → 0), joined with a newline and turned into one array
of code points. Every n-gram (1 ≤ n ≤ ``max_n``) not crossing a space or a text
boundary is hashed into ``2**bits`` buckets. Negation is made visible: a character
after a negator (不 没 别 无 未 非 莫 勿) up to the end of its clause is *in scope*, and
an n-gram wholly in scope is hashed a second time with another salt ("不好吃" yields
好吃 and ¬好吃). Each text's features are the *set* of its buckets (binary), so a text
is a sparse 0/1 row, L2-normalised: every in-text feature weighs ``1/sqrt(k)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from nlp.text import traditional_chars

NEGATORS = "不没别无未非莫勿"
CLAUSE_END = ",.!?;:~，。！？；：、…\n "
_MUL = np.uint64(0x9E3779B97F4A7C15)  # golden-ratio multiplier: a cheap, good 64-bit mix
_ROLL = np.uint64(0x100000001B3)
_SALT_NEG = np.uint64(0x5BD1E995)


@dataclass(frozen=True)
class HashSpec:
    """How texts become buckets; stored in the artifact's metadata.

    ``contrast``: n-grams of the clauses after a contrast word (但, 却, 不过, 可是, 然而,
    只是) up to the end of the sentence are hashed a second time with their own salt, so
    the verdict that follows "but" can weigh more than what it overrides.
    """

    bits: int = 21
    max_n: int = 3
    contrast: bool = False

    @property
    def size(self) -> int:
        """Number of buckets."""
        return 1 << self.bits


@lru_cache(maxsize=1)
def _table() -> dict[int, int]:
    table = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
    table[0x3000] = 0x20
    table.update(str.maketrans("0123456789", "0000000000"))
    table.update(traditional_chars())
    table[0x0A] = 0x20  # a newline inside a text is a space: "\n" separates texts
    table[0x0D] = 0x20
    return table


def normalise(text: str) -> str:
    """Lower case, half width, simplified characters, digits folded to 0, no newlines."""
    return text.lower().translate(_table())


def _codes(chars: str) -> np.ndarray:
    return np.array(sorted({ord(c) for c in chars}), dtype=np.uint32)


_NEG_CODES = _codes(NEGATORS)
_END_CODES = _codes(CLAUSE_END)
_BREAK_CODES = _codes(" \n")
_SENTENCE_END_CODES = _codes(".!?;。！？；\n")
_CONTRAST_ONE = _codes("但却")
_CONTRAST_TWO = [(ord(a), ord(b)) for a, b in ("不过", "可是", "然而", "只是")]
_SALT_CONTRAST = np.uint64(0x27D4EB2F165667C5)


def _mix(h: np.ndarray, bits: int) -> np.ndarray:
    h = h * _MUL
    return (h >> np.uint64(64 - bits)).astype(np.int64)


def _contrast_scope(cp: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """True after a contrast word up to the end of its sentence."""
    starts = np.isin(cp, _CONTRAST_ONE)
    for a, b in _CONTRAST_TWO:
        starts[:-1] |= (cp[:-1] == a) & (cp[1:] == b)
    is_end = np.isin(cp, _SENTENCE_END_CODES)
    last_start = np.maximum.accumulate(np.where(starts, idx, -1))
    last_end = np.maximum.accumulate(np.where(is_end, idx, -1))
    return (last_start > last_end) & ~is_end


def buckets(texts: Sequence[str], spec: HashSpec) -> tuple[np.ndarray, np.ndarray]:
    """(row, bucket) pairs, unique per row and sorted, for a batch of texts."""
    rows, cols, _ = bucket_counts(texts, spec)
    return rows, cols


def bucket_counts(texts: Sequence[str], spec: HashSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, bucket, count) triples, unique per (row, bucket) and sorted, for a batch of texts."""
    if not texts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    norm = [normalise(t or "") for t in texts]
    joined = "\n".join(norm) + "\n"
    cp = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    lengths = np.fromiter((len(t) + 1 for t in norm), dtype=np.int64, count=len(norm))
    row = np.repeat(np.arange(len(norm), dtype=np.int64), lengths)
    n = len(cp)
    idx = np.arange(n, dtype=np.int64)
    is_neg = np.isin(cp, _NEG_CODES)
    is_end = np.isin(cp, _END_CODES)
    valid = ~np.isin(cp, _BREAK_CODES)
    last_neg = np.maximum.accumulate(np.where(is_neg, idx, -1))
    last_end = np.maximum.accumulate(np.where(is_end, idx, -1))
    scope = (last_neg > last_end) & ~is_neg & ~is_end
    contrast = _contrast_scope(cp, idx) & valid if spec.contrast else None

    c = cp.astype(np.uint64) + np.uint64(1)
    rows, keys = [], []
    h = np.zeros(n, dtype=np.uint64)
    ok = np.ones(n, dtype=bool)
    neg_ok = np.ones(n, dtype=bool)
    con_ok = np.ones(n, dtype=bool)
    for size in range(1, spec.max_n + 1):
        m = n - size + 1
        if m <= 0:
            break
        h = h[:m] * _ROLL + c[size - 1:]
        ok = ok[:m] & valid[size - 1:]
        neg_ok = neg_ok[:m] & scope[size - 1:]
        salted = h + np.uint64(size)
        rows.append(row[:m][ok])
        keys.append(_mix(salted[ok], spec.bits))
        rows.append(row[:m][neg_ok])
        keys.append(_mix(salted[neg_ok] ^ _SALT_NEG, spec.bits))
        if contrast is not None:
            con_ok = con_ok[:m] & contrast[size - 1:]
            rows.append(row[:m][con_ok])
            keys.append(_mix(salted[con_ok] ^ _SALT_CONTRAST, spec.bits))
    flat = np.sort(np.concatenate(rows) * spec.size + np.concatenate(keys))
    if not len(flat):
        return flat, flat, flat
    # sort-based unique with counts: numpy's hash-based np.unique is far slower here
    first = np.flatnonzero(np.concatenate(([True], flat[1:] != flat[:-1])))
    counts = np.diff(np.append(first, len(flat)))
    flat = flat[first]
    return flat // spec.size, flat % spec.size, counts


def row_weights(rows: np.ndarray, n_rows: int) -> np.ndarray:
    """The value of each (row, bucket) entry: ``1/sqrt(k)`` for a row of ``k`` features."""
    counts = np.bincount(rows, minlength=n_rows)
    norm = 1.0 / np.sqrt(np.maximum(counts, 1))
    return norm[rows]


def tfidf_weights(rows: np.ndarray, cols: np.ndarray, counts: np.ndarray, idf: np.ndarray,
                  n_rows: int) -> np.ndarray:
    """The value of each (row, bucket) entry: ``(1 + log tf) · idf``, each row L2-normalised."""
    v = (1.0 + np.log(counts)) * idf[cols]
    norm = np.sqrt(np.bincount(rows, weights=v * v, minlength=n_rows))
    return v / np.maximum(norm, 1e-12)[rows]
