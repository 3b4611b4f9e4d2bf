"""Star ratings as the customer's own verdict.

A review with 1–2 stars is a complaint and one with 4–5 stars is praise, whatever the
model reads in its words; 3 stars (and anything between 2 and 4) says neither, so the
model decides. The same reading serves two jobs: the label a rated mention is counted
with (:func:`label_with_rating`, what the dashboard, the rollups and the spike detector
count) and the weak labels ``nlp adapt`` learns from (:func:`rating_label`). A
correction from the dashboard wins over both.
"""

from __future__ import annotations

from nlp.models.base import NEGATIVE, POSITIVE


def rating_label(rating: float | None) -> int | None:
    """1 for 4–5 stars, 0 for 1–2 stars, None otherwise (3 stars, no rating, 0 = unrated)."""
    if rating is None or rating < 1:
        return None
    if rating <= 2:
        return 0
    if rating >= 4:
        return 1
    return None


def label_with_rating(model_label: str, rating: float | None) -> str:
    """The label a mention is counted with: its stars' where they are clear, else the model's."""
    verdict = rating_label(rating)
    if verdict is None:
        return model_label
    return POSITIVE if verdict else NEGATIVE
