"""Reward: freshness, size, record value, credibility, step score, EMA, weights, and the copier/tie scenarios."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from schemas import hash_text
from scoring import constants as k
from scoring.credibility import update_credibility
from scoring.freshness import freshness
from scoring.novelty import Delivery, NoveltyIndex
from scoring.reward import ema, normalize_weights, record_value, size_factor, step_score

NOW = datetime(2025, 6, 1, tzinfo=UTC)


# ---- freshness and size --------------------------------------------------------------------------------------

def test_freshness_halves_every_half_life() -> None:
    published = NOW - timedelta(days=6)
    assert freshness(published, NOW, 3.0, NOW) == pytest.approx(0.25)
    assert freshness(NOW, NOW, 3.0, NOW) == 1.0


def test_evergreen_domain_never_decays() -> None:
    assert freshness(NOW - timedelta(days=3650), NOW, None, NOW) == 1.0


def test_freshness_falls_back_to_fetch_time_and_ignores_the_future() -> None:
    assert freshness(None, NOW - timedelta(days=90), 90.0, NOW) == pytest.approx(0.5)
    assert freshness(NOW + timedelta(hours=2), NOW, 3.0, NOW) == 1.0


def test_size_factor_is_capped() -> None:
    assert [size_factor(w, 1000) for w in (0, 250, 1000, 50_000)] == [0.0, 0.25, 1.0, 1.0]
    with pytest.raises(ValueError):
        size_factor(10, 0)


def test_record_value_is_the_product_of_its_factors() -> None:
    assert record_value(0.9, 0.5, 1.0, 0.5, 1.2, 0.25) == pytest.approx(0.9 * 0.5 * 0.5 * 1.2 * 0.25)
    assert record_value(0.9, 0.5, 0.0, 1.0, 1.0, 1.0) == 0.0


@pytest.mark.parametrize("bad", [{"quality": 1.5}, {"novelty": -0.1}, {"desirability": 0.0}, {"size": 2.0}])
def test_record_value_refuses_out_of_range_factors(bad: dict) -> None:
    factors = {"quality": 1.0, "relevance": 1.0, "novelty": 1.0, "freshness": 1.0, "desirability": 1.0,
               "size": 1.0} | bad
    with pytest.raises(ValueError):
        record_value(**factors)


# ---- credibility ---------------------------------------------------------------------------------------------

def test_new_miner_starts_low() -> None:
    assert k.INITIAL_CREDIBILITY <= 0.2
    assert step_score(k.INITIAL_CREDIBILITY, [10.0]) < 0.1


def test_verified_passes_raise_credibility_towards_one() -> None:
    c = k.INITIAL_CREDIBILITY
    history = [c := update_credibility(c, ["pass"]) for _ in range(40)]
    assert all(b > a for a, b in zip(history, history[1:], strict=False))
    assert 0.95 < history[-1] < 1.0


def test_a_failed_verification_cuts_credibility_hard() -> None:
    assert update_credibility(0.9, ["fail"]) == pytest.approx(0.9 * (1 - k.FAIL_PENALTY))
    assert 0.9 - update_credibility(0.9, ["fail"]) >= 0.3


def test_unknown_outcomes_leave_credibility_untouched() -> None:
    assert update_credibility(0.42, ["unknown"] * 10) == 0.42
    assert update_credibility(0.42, ["pass", "unknown", "fail"]) == update_credibility(0.42, ["pass", "fail"])


def test_a_miner_only_ever_unknown_never_rises() -> None:
    assert update_credibility(k.INITIAL_CREDIBILITY, ["unknown"] * 1000) == k.INITIAL_CREDIBILITY


def test_one_fail_undoes_many_passes() -> None:
    c = update_credibility(k.INITIAL_CREDIBILITY, ["pass"] * 10)
    assert update_credibility(c, ["fail"]) < update_credibility(k.INITIAL_CREDIBILITY, ["pass"] * 5)


def test_unexpected_outcome_is_an_error() -> None:
    with pytest.raises(ValueError, match="outcome"):
        update_credibility(0.5, ["timeout"])


# ---- step score, EMA, weights --------------------------------------------------------------------------------

def test_step_score_is_credibility_to_the_2_5_times_total_value() -> None:
    assert step_score(0.8, [1.0, 0.5, 0.25]) == pytest.approx(0.8 ** 2.5 * 1.75)
    assert step_score(1.0, []) == 0.0


def test_step_score_refuses_negative_values() -> None:
    with pytest.raises(ValueError):
        step_score(0.5, [1.0, -0.1])


def test_ema_moves_towards_the_new_value() -> None:
    assert ema(0.0, 1.0, 0.1) == pytest.approx(0.1)
    assert ema(2.0, 2.0, k.SCORE_EMA_ALPHA) == pytest.approx(2.0)
    with pytest.raises(ValueError):
        ema(1.0, 1.0, 0.0)


def test_weights_sum_to_one() -> None:
    weights = normalize_weights({0: 3.0, 1: 1.0, 5: 0.0, 7: 4.0})
    assert math.fsum(weights.values()) == pytest.approx(1.0)
    assert weights == {0: 0.375, 1: 0.125, 5: 0.0, 7: 0.5}


def test_all_zero_scores_give_no_weights() -> None:
    assert normalize_weights({0: 0.0, 1: 0.0}) == {}
    assert normalize_weights({}) == {}


def test_negative_or_nan_scores_count_as_zero() -> None:
    assert normalize_weights({0: -5.0, 1: float("nan"), 2: 2.0}) == {0: 0.0, 1: 0.0, 2: 1.0}


# ---- the scenarios the reward exists for ---------------------------------------------------------------------

def _value(novelty: float) -> float:
    return record_value(0.9, 0.6, novelty, 1.0, 1.0, 0.5)


def test_copier_delivering_accepted_content_earns_nothing_for_it(corpus) -> None:
    original = next(d for d in corpus if d.good).text
    index = NoveltyIndex()
    [first] = index.assess_step([Delivery("honest", 1, hash_text(original), original)])
    index.add("honest", hash_text(original), first.signature)
    copied = original.replace("\n\n", "\n")
    [copy] = index.assess_step([Delivery("copier", 2, hash_text(copied), copied)])
    assert copy.novelty == 0.0 and not copy.keep
    assert step_score(1.0, [_value(copy.novelty)]) == 0.0


def test_tied_miners_split_the_value_of_the_same_new_record(corpus) -> None:
    text = next(d for d in corpus if d.good).text
    verdicts = NoveltyIndex().assess_step([Delivery(f"m{uid}", uid, hash_text(text), text) for uid in (1, 2)])
    values = [_value(v.novelty) for v in verdicts]
    assert values[0] == values[1] == pytest.approx(_value(1.0) / 2)


def test_weights_from_scored_miners_sum_to_one() -> None:
    scores = {}
    for uid, (c, values) in enumerate([(0.9, [0.5, 0.4]), (0.5, [2.0]), (0.1, [1.0]), (0.0, [3.0])]):
        scores[uid] = ema(0.0, step_score(c, values), k.SCORE_EMA_ALPHA)
    weights = normalize_weights(scores)
    assert math.fsum(weights.values()) == pytest.approx(1.0)
    assert weights[3] == 0.0 and weights[0] > weights[1] > weights[2]
