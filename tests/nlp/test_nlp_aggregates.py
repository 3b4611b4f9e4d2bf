import pytest

from nlp.aggregates import SMALL_SAMPLE, adjust, positive_share, share_of_labels, wilson


def test_adjusted_classify_and_count_inverts_known_error_rates():
    # 200 truly positive of 400: labelled positive = 0.9*200 + 0.1*200 = 200 (50%); 100 truly positive: 0.9*100+0.1*300=120
    assert adjust(120 / 400, 0.9, 0.1) == pytest.approx(0.25)
    assert adjust(0.05, 0.9, 0.1) == 0.0 and adjust(0.99, 0.9, 0.1) == 1.0


def test_interval_contains_estimate_and_narrows_with_n():
    small, big = positive_share(6, 10, 0.9, 0.1), positive_share(600, 1000, 0.9, 0.1)
    assert small.low <= small.estimate <= small.high
    assert big.high - big.low < small.high - small.low
    lo, hi = wilson(0, 20)
    assert lo == 0.0 and 0 < hi < 0.2


def test_small_samples_say_so():
    s = share_of_labels(["positive"] * 3, {"tpr": 0.9, "fpr": 0.05})
    assert s.small_sample and s.display() == f"{SMALL_SAMPLE} (n=3)"
    assert positive_share(0, 0).display() == f"{SMALL_SAMPLE} (n=0)"
    assert share_of_labels(["positive"] * 9 + ["negative"] * 3 + ["neutral"], min_n=10).display() == "69% (42%–87%)"
    assert share_of_labels(["positive"] * 9 + ["negative"] * 3 + ["neutral"]).small_sample  # below storage.shares.MIN_N
