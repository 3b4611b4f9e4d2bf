"""nlp.consistency: a store really below the chain is flagged; a small noisy one is not."""

import random

import pytest

from nlp.consistency import benjamini_hochberg, below_standard, touchpoints_below_standard


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


# each touchpoint has its own chain-wide negative share and its own volume (配送 and 数字渠道 are rarer)
TOUCHPOINT_PROFILE = {"product": (0.15, 150), "service": (0.30, 70), "environment": (0.10, 45),
                      "price": (0.25, 40), "delivery": (0.35, 30), "digital": (0.30, 18)}


def _touchpoint_chain(seed: int, stores: int = 30, spread: float = 0.03) -> dict[str, dict[str, tuple[int, int]]]:
    rng = random.Random(seed)
    out: dict[str, dict[str, tuple[int, int]]] = {tp: {} for tp in TOUCHPOINT_PROFILE}
    for i in range(stores):
        for tp, (share, n) in TOUCHPOINT_PROFILE.items():
            own = min(0.9, max(0.02, rng.gauss(share, spread)))
            size = max(3, int(rng.gauss(n, n / 4)))
            out[tp][f"s{i}"] = (sum(rng.random() < own for _ in range(size)), size)
    return out


def test_a_store_with_a_service_problem_is_flagged_on_service_only():
    false_flags = 0
    for seed in range(20):
        counts = _touchpoint_chain(seed)
        rng = random.Random(1000 + seed)
        for tp, (share, n) in TOUCHPOINT_PROFILE.items():  # ordinary everywhere …
            counts[tp]["bad"] = (sum(rng.random() < share for _ in range(n)), n)
        counts["service"]["bad"] = (60, 100)  # … but 60% negative on 服务 where the chain is at ~30%
        res = touchpoints_below_standard(counts, min_n=20)
        assert res["service"]["bad"].flagged and res["service"]["bad"].touchpoint == "service"
        assert res["service"]["bad"].z > 3
        false_flags += sum(r.flagged for tp, rows in res.items() for k, r in rows.items()
                           if (tp, k) != ("service", "bad"))
    assert false_flags <= 3  # over 20 × 31 stores × 6 touchpoints ≈ 3,700 ordinary tests: precision first


def test_a_homogeneous_chain_has_almost_no_flag_across_seeds():
    flagged_chains = tested = 0
    for seed in range(60):
        res = touchpoints_below_standard(_touchpoint_chain(500 + seed, spread=0.04), min_n=20)
        flagged_chains += any(r.flagged for rows in res.values() for r in rows.values())
        tested += sum(r.p_value is not None for rows in res.values() for r in rows.values())
    assert tested > 60 * 30 * 5  # 数字渠道 is mostly below 20 mentions: left out, the rest tested
    # on a chain whose stores differ only by noise every flag is false: Benjamini–Hochberg at 5% lets
    # about 1 chain in 20 show one (3 of 60); at most twice that, over ~9,400 store × touchpoint tests
    assert flagged_chains <= 6


def test_small_touchpoint_samples_are_left_out_and_each_touchpoint_has_its_own_standard():
    counts = _touchpoint_chain(7)
    counts["environment"]["quiet"] = (9, 12)  # 75% on 环境, 12 mentions: not tested
    counts["product"]["quiet"] = (30, 200)  # 15%: ordinary for 出品 …
    counts["service"]["quiet"] = (60, 200)  # 30%: ordinary for 服务, though twice its 出品 share
    res = touchpoints_below_standard(counts, min_n=20)
    env = res["environment"]["quiet"]
    assert env.small_sample and env.z is None and env.p_value is None and not env.flagged
    assert not res["product"]["quiet"].flagged and not res["service"]["quiet"].flagged
    assert res["service"]["quiet"].chain_share > 2 * res["environment"]["quiet"].chain_share


def test_one_family_of_tests_holds_the_fdr_across_touchpoints():
    # a store past Benjamini–Hochberg's line among 10 tests (p ≤ 0.005) but not among 60 (p ≤ 0.05/60):
    # flagged when its one touchpoint is tested alone, not when six touchpoints are tested together
    base = {f"s{i}": (18 + i % 5, 100) for i in range(9)}
    alone = below_standard({**base, "edge": (39, 100)}, min_n=20)["edge"]
    assert alone.flagged and 0.05 / 60 < alone.p_value < 0.005
    many = {tp: {**base, "edge": (20, 100)} for tp in TOUCHPOINT_PROFILE}
    many["service"]["edge"] = (39, 100)
    res = touchpoints_below_standard(many, min_n=20)
    assert res["service"]["edge"].p_value == pytest.approx(alone.p_value)
    assert not any(r.flagged for rows in res.values() for r in rows.values())
