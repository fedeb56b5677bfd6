"""Tie shares by observed precedence (scoring/precedence.py, used by the validator to split same-step ties)."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from scoring import constants as k
from scoring.precedence import pair_weight, tie_shares


def _firsts(counts: dict[tuple[str, str], int]):
    table = Counter(counts)
    return lambda a, b: table[(a, b)]


def test_without_evidence_a_tie_splits_evenly() -> None:
    shares = tie_shares(["a", "b", "c"], _firsts({}))
    assert shares == {m: pytest.approx(1 / 3) for m in "abc"}


def test_shares_sum_to_one() -> None:
    shares = tie_shares(["a", "b", "c"], _firsts({("a", "b"): 5, ("b", "c"): 2, ("c", "a"): 1}))
    assert math.fsum(shares.values()) == pytest.approx(1.0)


def test_a_miner_that_was_never_first_gets_almost_nothing() -> None:
    shares = tie_shares(["honest", "copier"], _firsts({("honest", "copier"): 10}))
    assert shares["copier"] < 0.01 < 0.99 < shares["honest"]
    assert shares["copier"] == pytest.approx(k.PRECEDENCE_PRIOR / (10 + 2 * k.PRECEDENCE_PRIOR))


def test_a_group_of_copier_hotkeys_gets_no_more_than_one_copier() -> None:
    evidence = {("honest", f"sybil{i}"): 10 for i in range(4)}
    alone = tie_shares(["honest", "sybil0"], _firsts(evidence))["sybil0"]
    group = tie_shares(["honest", *(f"sybil{i}" for i in range(4))], _firsts(evidence))
    assert sum(v for m, v in group.items() if m != "honest") <= alone + 1e-12


def test_a_single_miner_takes_the_whole_cluster() -> None:
    assert tie_shares(["a", "a"], _firsts({})) == {"a": 1.0}


def test_pair_weight_refuses_negative_counts() -> None:
    assert pair_weight(0, 0) == 0.5
    with pytest.raises(ValueError):
        pair_weight(-1, 2)
