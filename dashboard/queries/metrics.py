"""Sentiment metrics: positive share, net sentiment and Wilson intervals."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def positive_share(positive: float, total: float) -> float | None:
    """Positive mentions / all mentions, None without data."""
    return positive / total if total else None


def net_sentiment(positive: float, negative: float) -> float | None:
    """(pos − neg) / (pos + neg), in [−1, 1]; None when there is no opinion at all."""
    return (positive - negative) / (positive + negative) if positive + negative else None


def wilson_interval(successes: float, n: float, z: float = 1.96) -> tuple[float | None, float | None]:
    """95 % Wilson score interval of a proportion (honest for small stores)."""
    if not n:
        return None, None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _add_rates(df: pd.DataFrame) -> pd.DataFrame:
    """Add positive share (+ CI) and net sentiment columns to a frame of counts."""
    df = df.copy()
    pos, neg, tot = df["positive"].astype(float), df["negative"].astype(float), df["total"].astype(float)
    df["pos_share"] = (pos / tot).where(tot > 0)
    df["net"] = ((pos - neg) / (pos + neg)).where((pos + neg) > 0)
    df["ci_low"], df["ci_high"] = _wilson_columns(pos.to_numpy(), tot.to_numpy())
    return df


def _wilson_columns(pos: np.ndarray, n: np.ndarray, z: float = 1.96) -> tuple[np.ndarray, np.ndarray]:
    """:func:`wilson_interval` over arrays (NaN where ``n`` is 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = pos / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo, hi = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    return np.where(n > 0, lo, np.nan), np.where(n > 0, hi, np.nan)
