"""Star ratings decide a rated mention's label where they are clear (nlp.ratings)."""

from __future__ import annotations

import pytest

from nlp.ratings import label_with_rating


@pytest.mark.parametrize(("model_label", "rating", "counted"), [
    ("positive", 1.0, "negative"),  # a 1-star review is a complaint, however politely worded
    ("neutral", 2.0, "negative"),
    ("negative", 4.0, "positive"),  # 4 stars: the customer's verdict beats the model's misreading
    ("neutral", 5.0, "positive"),
    ("negative", 3.0, "negative"),  # 3 stars say neither: the model decides
    ("positive", 2.5, "positive"),
    ("negative", None, "negative"),  # unrated
    ("positive", 0.0, "positive"),  # 0 = the platform's "no rating"
])
def test_clear_stars_decide_and_the_model_decides_the_rest(model_label, rating, counted):
    assert label_with_rating(model_label, rating) == counted
