"""Sentiment metrics: net sentiment, and the honest shares of a frame of counts.

Every share the dashboard shows is :func:`storage.shares.honest_shares` (corrected for
the classifier's error, with its 95% interval, 样本不足 below ``storage.shares.MIN_N``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from storage import Database
from storage.shares import (MIN_N, SMALL_SAMPLE, Rates, SentimentShares, honest_shares, share_note,
                            stored_display)

__all__ = ["MIN_N", "SMALL_SAMPLE", "SentimentShares", "net_sentiment", "scope_shares", "share_columns",
           "share_note", "stored_display"]

SHARE_COLUMNS = ("pos_share", "ci_low", "ci_high", "neg_share", "neg_low", "neg_high", "small_sample", "pos_text",
                 "neg_text")


def net_sentiment(positive: float, negative: float) -> float | None:
    """(pos − neg) / (pos + neg), in [−1, 1]; None when there is no opinion at all."""
    return (positive - negative) / (positive + negative) if positive + negative else None


def scope_shares(db: Database, positive: float, negative: float, total: float) -> SentimentShares:
    """The honest shares of one scope's counts (the Overview cards)."""
    return honest_shares(db, [(positive, negative, total)])[1][0]


def share_columns(db: Database, df: pd.DataFrame) -> tuple[Rates, pd.DataFrame]:
    """``df`` (positive, negative, total columns) with the honest shares added: ``pos_share``,
    ``ci_low``, ``ci_high``, ``neg_share``, ``neg_low``, ``neg_high`` (NaN for a small sample:
    no number to show), ``small_sample`` and the shown texts ``pos_text`` / ``neg_text``; and the rates that corrected them."""
    df = df.copy()
    rates, shares = honest_shares(db, zip(df["positive"].astype(float), df["negative"].astype(float),
                                          df["total"].astype(float)))

    def col(values: list[float | None]) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in values], dtype=float)

    shown = [not s.small_sample for s in shares]
    for prefix, side in (("pos", "positive"), ("neg", "negative")):
        parts = [getattr(s, side) for s in shares]
        df[f"{prefix}_share"] = col([p.estimate if ok else None for p, ok in zip(parts, shown)])
        low, high = ("ci_low", "ci_high") if prefix == "pos" else ("neg_low", "neg_high")
        df[low] = col([p.low if ok else None for p, ok in zip(parts, shown)])
        df[high] = col([p.high if ok else None for p, ok in zip(parts, shown)])
    df["small_sample"] = [s.small_sample for s in shares]
    df["pos_text"] = [s.positive.display() for s in shares]  # ``72% (65%–79%)`` or ``样本不足 (n=8)``
    df["neg_text"] = [s.negative.display() for s in shares]
    return rates, df


def _add_rates(db: Database, df: pd.DataFrame) -> pd.DataFrame:
    """:func:`share_columns` and net sentiment added to a frame of counts."""
    _, df = share_columns(db, df)
    pos, neg = df["positive"].astype(float), df["negative"].astype(float)
    df["net"] = ((pos - neg) / (pos + neg)).where((pos + neg) > 0)
    return df
