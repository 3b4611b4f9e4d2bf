"""storage.shares: corrected shares, their intervals, 样本不足, and the rates of the model in force."""

from datetime import datetime, timezone

import pytest

from storage.models import ModelRecord
from storage.shares import (
    MIN_N, SMALL_SAMPLE, Rates, adjust, classifier_rates, honest_shares, sentiment_shares, share, wilson,
)

SHIPPED = Rates(tpr=0.8917, fpr=0.0615, tnr=0.8878, fnr=0.0601)


def test_the_correction_recovers_the_true_share_of_a_classifier_with_known_errors():
    # 1000 mentions, 300 truly negative: labelled negative = 0.8878*300 + 0.0601*700 = 308.41
    s = sentiment_shares(positive=0.8917 * 700 + 0.0615 * 300, negative=0.8878 * 300 + 0.0601 * 700, total=1000, rates=SHIPPED)
    assert s.negative.estimate == pytest.approx(0.30, abs=1e-6)
    assert s.positive.estimate == pytest.approx(0.70, abs=1e-6)
    assert s.negative.observed == pytest.approx(0.30841)
    assert s.negative.low < 0.30 < s.negative.high and not s.small_sample


def test_a_store_with_no_unhappy_customer_is_not_shown_the_classifiers_false_alarms():
    # every truly positive: 6% of them are labelled negative anyway
    s = sentiment_shares(positive=89, negative=6, total=100, rates=SHIPPED)
    assert s.negative.observed == pytest.approx(0.06) and s.negative.estimate == 0.0


def test_the_interval_is_the_wilson_interval_mapped_through_the_correction_and_narrows_with_n():
    lo, hi = wilson(30, 100)
    s = share(30, 100, 0.9, 0.1)
    assert (s.low, s.high) == (pytest.approx(adjust(lo, 0.9, 0.1)), pytest.approx(adjust(hi, 0.9, 0.1)))
    assert share(300, 1000, 0.9, 0.1).high - share(300, 1000, 0.9, 0.1).low < s.high - s.low


@pytest.mark.parametrize("n, small", [(0, True), (1, True), (MIN_N - 1, True), (MIN_N, False), (500, False)])
def test_fewer_than_the_threshold_says_small_sample_instead_of_a_percentage(n, small):
    s = sentiment_shares(n // 2, n // 4, n, SHIPPED)
    assert s.small_sample is small and s.negative.small_sample is small
    assert (s.positive.shown is None) is small
    assert s.positive.display().startswith(SMALL_SAMPLE) is small
    if small:
        assert s.positive.display() == f"{SMALL_SAMPLE} (n={n})"
    else:
        assert "%" in s.positive.display()


def test_without_a_promoted_model_nothing_is_corrected(db):
    rates, [s] = honest_shares(db, [(6, 3, 10)], min_n=5)
    assert rates == Rates() and not rates.corrected
    assert s.positive.estimate == pytest.approx(0.6) and s.negative.estimate == pytest.approx(0.3)


def test_the_rates_of_the_promoted_model_are_used(db):
    at = datetime(2026, 12, 1, tzinfo=timezone.utc)
    with db.session() as s:
        s.add(ModelRecord(name="old", version="1", created_at=at, promoted_at=at,
                          figures={"rates": {"tpr": 0.5, "fpr": 0.4, "tnr": 0.5, "fnr": 0.4}}))
        s.add(ModelRecord(name="ngram-lr", version="2.x", created_at=at, promoted_at=at.replace(day=2),
                          figures={"rates": {"tpr": 0.9, "fpr": 0.1, "tnr": 0.8, "fnr": 0.05}}))
        s.add(ModelRecord(name="candidate", version="3", created_at=at, figures={"rates": {"tpr": 0.99}}))
    with db.session() as s:
        assert classifier_rates(s) == Rates(0.9, 0.1, 0.8, 0.05, "ngram-lr 2.x")
        rates, shares = honest_shares(s, [(30, 20, 100), (1, 1, 3)])
    assert rates.corrected and rates.model == "ngram-lr 2.x"
    assert shares[0].positive.estimate == pytest.approx(0.25) and shares[0].negative.estimate == pytest.approx(0.2)
    assert shares[1].small_sample
