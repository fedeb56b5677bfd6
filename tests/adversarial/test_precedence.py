"""Ties go to whoever was first: the split of scoring.precedence and how the validator applies it to a step's
novelty verdicts (validator.precedence), on hand-made verdicts and an in-memory store."""

from __future__ import annotations

from collections import Counter

import pytest

from scoring import NoveltyVerdict
from scoring.constants import PRECEDENCE_PRIOR
from scoring.precedence import pair_weight, tie_shares
from validator.precedence import Delivered, FirstDeliveries, Precedence, late_duplicates
from validator.store import ValidatorStore


def _counts(pairs: dict[tuple[str, str], int]):
    return lambda a, b: pairs.get((a, b), 0)


def test_without_evidence_a_tie_splits_evenly():
    assert tie_shares(["a", "b", "c"], _counts({})) == pytest.approx({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})


def test_a_miner_that_was_always_later_gets_almost_nothing_of_a_tie():
    shares = tie_shares(["honest", "copier"], _counts({("honest", "copier"): 20}))
    assert shares["copier"] == pytest.approx(PRECEDENCE_PRIOR / (20 + 2 * PRECEDENCE_PRIOR))
    assert shares["copier"] < 0.01 and shares["honest"] > 0.99


def test_a_sybil_group_copying_a_miner_cannot_outvote_it():
    later = {("honest", f"sybil{i}"): 10 for i in range(5)}
    shares = tie_shares(["honest", *(f"sybil{i}" for i in range(5))], _counts(later))
    assert sum(v for k, v in shares.items() if k.startswith("sybil")) < 0.01


def test_a_sybil_group_on_its_own_stream_earns_what_one_miner_would():
    shares = tie_shares(["s1", "s2", "s3"], _counts({}))
    assert sum(shares.values()) == pytest.approx(1.0)


def test_two_independent_miners_split_by_how_often_each_was_first():
    shares = tie_shares(["a", "b"], _counts({("a", "b"): 3, ("b", "a"): 1}))
    assert shares["a"] == pytest.approx(pair_weight(3, 1)) and shares["a"] > shares["b"] > 0.2


def test_precedence_counts_must_be_non_negative():
    with pytest.raises(ValueError):
        pair_weight(-1, 0)


def _verdict(key: str, novelty: float, keep: bool, duplicate_of: str | None, kind: str | None = None):
    return NoveltyVerdict(key, novelty, keep, duplicate_of, kind, b"")


@pytest.fixture
def store(tmp_path):
    s = ValidatorStore.open(f"sqlite:///{tmp_path / 'v.sqlite'}")
    yield s
    s.close()


def test_the_first_miner_gets_the_tie_and_keeps_the_representative(store):
    precedence = Precedence(store)
    precedence.load()
    precedence.firsts = Counter({("H", "C"): 30})
    # the copier's delivery (uid 2) came first in the step's order and led the cluster
    verdicts = {"2:7": _verdict("2:7", 0.5, True, None), "1:3": _verdict("1:3", 0.5, False, "2:7", "exact"),
                "1:4": _verdict("1:4", 1.0, True, None)}
    split = precedence.split_ties(verdicts, {1: "H", 2: "C"})
    assert split["1:3"].keep and split["1:3"].duplicate_of is None and split["1:3"].novelty > 0.99
    assert not split["2:7"].keep and split["2:7"].duplicate_of == "1:3" and split["2:7"].novelty < 0.01
    assert split["1:4"] == verdicts["1:4"]  # a record nobody else delivered is untouched


def test_a_late_duplicate_is_evidence_only_when_the_later_miner_was_seen_without_it(store):
    precedence = Precedence(store)
    precedence.load()
    verdicts = {"2:1": _verdict("2:1", 0.0, False, "17", "exact"), "2:2": _verdict("2:2", 0.0, False, "1:5", "near"),
                "2:3": _verdict("2:3", 1.0, True, None)}
    late = late_duplicates([("C", "2:1"), ("C", "2:2"), ("C", "2:3")], verdicts)
    assert late == [("C", 17)]  # duplicates of accepted records only (not of this step's deliveries)


def test_an_exact_copy_first_delivered_a_step_later_gets_nothing_of_the_tie_however_the_counts_stand(store):
    """The original's batch waited a step (first delivered in step 3); the copier, with precedence counts in its
    favour, delivers the same content in step 4: the content is the original's. A near copy delivered later is left
    to precedence (its re-fetch, for a page's versions, tells the texts apart)."""
    precedence = Precedence(store)
    precedence.load()
    precedence.firsts = Counter({("C", "H"): 30})
    verdicts = {"2:7": _verdict("2:7", 0.5, True, None), "1:3": _verdict("1:3", 0.5, False, "2:7", "exact"),
                "2:8": _verdict("2:8", 0.5, True, None), "1:4": _verdict("1:4", 0.5, False, "2:8", "near")}
    first = {"1:3": Delivered("aa", 3), "2:7": Delivered("aa", 4), "1:4": Delivered("bb", 3),
             "2:8": Delivered("cc", 4)}
    split = precedence.split_ties(verdicts, {1: "H", 2: "C"}, first)
    assert split["1:3"].keep and split["1:3"].novelty == 1.0
    assert not split["2:7"].keep and split["2:7"].novelty == 0.0 and split["2:7"].duplicate_of == "1:3"
    assert split["2:8"].keep and split["2:8"].novelty > 0.99  # near: precedence decides, as without `first`
    assert precedence.split_ties(verdicts, {1: "H", 2: "C"})["2:7"].keep  # without it, the counts decide


def test_a_content_delivered_earlier_elsewhere_makes_a_later_delivery_wait_unless_judged_beside_it():
    firsts = FirstDeliveries(5, {("H", "aa"): 2, ("C", "aa"): 4, ("C", "bb"): 3})
    assert firsts.of("C", "aa") == Delivered("aa", 4) and firsts.of("X", "aa") == Delivered("aa", 5)
    assert firsts.waiting_for([(2, "C", firsts.of("C", "aa")), (7, "X", firsts.of("X", "aa"))], judged=()) \
        == {2: "H", 7: "H"}
    assert firsts.waiting_for([(2, "C", firsts.of("C", "aa"))], judged={("H", "aa")}) == {}  # its tie decides
    assert firsts.waiting_for([(1, "H", firsts.of("H", "aa"))], judged=()) == {}  # the first is never late
    assert firsts.waiting_for([(3, "C", firsts.of("C", "bb"))], judged=()) == {}  # nobody else delivered it
