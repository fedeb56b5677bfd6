"""A miner's step outcome under the pay rule (validator.outcome.commit_for): value times the verified fraction of
each source, sampled unverified records never paid, credibility moved once per batch, one held batch per miner."""

from __future__ import annotations

from schemas.record import Record
from scoring import update_credibility
from scoring.constants import EVIDENCE_WINDOW
from scoring.novelty import NoveltyVerdict
from validator.ladder import Candidate
from validator.outcome import commit_for
from validator.pull import MinerPull
from validator.store import MinerState
from validator.verification import Check

MINER = MinerState(uid=3, hotkey="hk3", credibility=0.5, score=0.0)


def _candidate(i: int, source: str = "web") -> Candidate:
    record = Record.build(uri=f"https://site.example/{source}/{i}", text=f"Page {i} says something of its own.",
                          source=source, domain="python-language", title=f"Page {i}")
    return Candidate(key=f"3:{i}", seq=i, record=record, quality=1.0, relevance=1.0, freshness=1.0, size=1.0,
                     desirability=1.0, signals={})


def _pull(n: int, outcomes: list[str], source: str = "web") -> MinerPull:
    novel = [_candidate(i, source) for i in range(n)]
    checks = [Check(novel[i].record.uri, o, "test") for i, o in enumerate(outcomes)]
    outcome = ("fail" if "fail" in outcomes else "unknown" if set(outcomes) == {"unknown"}
               else "pass" if "pass" in outcomes else "unverified")
    return MinerPull(uid=3, hotkey="hk3", novel=novel, sample=list(range(len(outcomes))), checks=checks,
                     outcome=outcome, cursors={"python-language": n})


def _verdicts(pull: MinerPull) -> dict[str, NoveltyVerdict]:
    return {c.key: NoveltyVerdict(c.key, 1.0, True, None, None, b"s") for c in pull.novel}


def test_many_passes_raise_credibility_once_and_pay_by_the_bound():
    pull = _pull(100, ["pass"] * 10)
    commit = commit_for(pull, MINER, 1, "v", _verdicts(pull), {"web": [True] * EVIDENCE_WINDOW})
    assert commit.credibility == update_credibility(0.5, ["pass"])
    assert len(commit.accepted) == 100 and commit.value == 100.0  # a full clean window pays in full
    assert commit.evidence == {"web": [True] * 10}


def test_a_sampled_unverified_record_is_not_paid_and_the_rest_earn_the_bound():
    pull = _pull(100, ["pass"] * 9 + ["unverified"])
    commit = commit_for(pull, MINER, 1, "v", _verdicts(pull), {"web": [True] * 100})
    assert commit.rejected[("python-language", "unverified")] == 1
    assert len(commit.accepted) == 99 and 0.9 * 99 < commit.value < 99


def test_a_source_below_the_floor_is_neither_accepted_nor_paid_and_credibility_stays():
    pull = _pull(10, ["pass", "unverified", "unverified", "unverified", "unverified"])
    commit = commit_for(pull, MINER, 1, "v", _verdicts(pull), {})
    assert commit.accepted == [] and commit.value == 0.0
    assert commit.rejected[("python-language", "unverified")] == 10
    assert commit.credibility == 0.5


def test_one_failure_rejects_the_batch_and_cuts_credibility_once():
    pull = _pull(50, ["pass"] * 4 + ["fail"] * 3)
    commit = commit_for(pull, MINER, 1, "v", {}, {})
    assert commit.credibility == update_credibility(0.5, ["fail"])
    assert commit.rejected[("python-language", "verification_failed")] == 50 and commit.accepted == []


def test_unknown_checks_are_ignored_when_few():
    pull = _pull(30, ["pass"] * 5 + ["unknown"])
    pull.outcome = "pass"
    commit = commit_for(pull, MINER, 1, "v", _verdicts(pull), {"web": [True] * EVIDENCE_WINDOW})
    assert len(commit.accepted) == 30 and commit.evidence == {"web": [True] * 5}


def test_an_all_unknown_batch_is_held_with_its_records_by_domain():
    pull = _pull(8, ["unknown"] * 5)
    commit = commit_for(pull, MINER, 1, "v", {}, {})
    assert commit.hold is not None and commit.hold.domains == {"python-language": 8}
    assert commit.cursors == {"python-language": 8} and commit.credibility == 0.5


def test_a_miner_already_holding_a_batch_waits_its_cursors_stay():
    pull = _pull(8, ["unknown"] * 5)
    pull.rejected[("python-language", "quality:x")] = 2
    commit = commit_for(pull, MINER, 1, "v", {}, {}, holding=True)
    assert commit.hold is None and commit.cursors == {} and not commit.rejected and commit.pulled == 0
    assert commit.step_score is None


def test_a_batch_with_too_little_evidence_yet_waits_instead_of_losing_its_records():
    """Two passes cannot reach the floor and nothing speaks against the miner: its cursors stay, its checks count,
    and the same records are pulled and sampled again later (a new miner, or one the re-fetch budget missed)."""
    pull = _pull(10, ["pass", "pass"])
    commit = commit_for(pull, MINER, 1, "v", _verdicts(pull), {})
    assert commit.waits and commit.cursors == {} and not commit.rejected and commit.accepted == []
    assert commit.evidence == {"web": [True, True]} and commit.credibility == 0.5 and commit.step_score is None
    unchecked = _pull(10, [])
    unchecked.outcome = "pass"
    assert commit_for(unchecked, MINER, 1, "v", _verdicts(unchecked), {}).waits
    padder = _pull(10, ["pass", "unverified"])
    assert not commit_for(padder, MINER, 1, "v", _verdicts(padder), {}).waits  # evidence against it: judged now


def test_a_batch_the_budget_did_not_reach_is_paid_on_its_evidence_so_far():
    from validator.outcome import UNCHECKED

    pull = _pull(10, [])
    pull.outcome = UNCHECKED
    commit = commit_for(pull, MINER, 1, "v", _verdicts(pull), {"web": [True] * EVIDENCE_WINDOW})
    assert len(commit.accepted) == 10 and commit.value == 10.0 and commit.credibility == 0.5
