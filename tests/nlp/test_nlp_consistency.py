"""nlp.consistency: a store really below the chain is flagged; a small noisy one is not."""

import random

from nlp.consistency import benjamini_hochberg, below_standard


def _chain(seed: int, stores: int = 30, n: int = 120, share: float = 0.2) -> dict[str, tuple[int, int]]:
    rng = random.Random(seed)
    out = {}
    for i in range(stores):
        own = min(0.9, max(0.02, rng.gauss(share, 0.03)))  # stores differ a little, as real ones do
        size = max(20, int(rng.gauss(n, 30)))
        out[f"s{i}"] = (sum(rng.random() < own for _ in range(size)), size)
    return out


def test_a_planted_bad_store_is_flagged_and_nothing_else_on_most_chains():
    false_flags = 0
    for seed in range(20):
        counts = _chain(seed)
        counts["bad"] = (45, 100)  # 45% negative in a chain at ~20%
        res = below_standard(counts, min_n=20)
        assert res["bad"].flagged and res["bad"].z > 3
        false_flags += sum(r.flagged for k, r in res.items() if k != "bad")
    assert false_flags <= 3  # over 600 ordinary stores: precision first


def test_a_small_noisy_store_is_not_flagged():
    counts = _chain(1)
    counts["tiny"] = (4, 6)  # 67% negative, but 6 mentions: below the threshold, not tested
    counts["small"] = (9, 22)  # 41%: worse than the chain, yet 22 mentions cannot show it past the noise
    res = below_standard(counts, min_n=20)
    assert res["tiny"].small_sample and not res["tiny"].flagged and res["tiny"].z is None
    assert not res["small"].flagged and res["small"].p_value > 0.001


def test_benjamini_hochberg_step_up():
    assert benjamini_hochberg({"a": 0.001, "b": 0.02, "c": 0.04, "d": 0.5}, 0.05) == {"a", "b"}
    assert benjamini_hochberg({"a": 0.2}, 0.05) == set()
