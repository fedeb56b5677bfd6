"""The rules of new versions without a network (validator/versions.py, validator/sampling.py `plan_forced`): which
records are contested, what a re-fetch beyond the random sample decides (and that it never fails the batch), how long
a batch waits for a version, and that one record per page comes out of a step."""

from __future__ import annotations

from dataclasses import replace

from scoring.constants import EVIDENCE_WINDOW
from scoring.novelty import NoveltyVerdict
from tests.validator.test_commit_pay import MINER, _candidate, _pull, _verdicts
from validator import constants as K
from validator import reasons as R
from validator.outcome import commit_for
from validator.pull import MinerPull
from validator.sampling import plan_forced, used_budget
from validator.verification import Check
from validator.versions import (
    RIVAL,
    VERSION,
    Contest,
    VersionBook,
    closest_represents,
    contested,
    one_per_page,
    page_of,
)

HISTORY = {"web": [True] * EVIDENCE_WINDOW}


def _check(pull: MinerPull, i: int, outcome: str, similarity: float | None = None, reason: str = "test") -> Check:
    return Check(pull.novel[i].record.uri, outcome, reason, similarity)


def test_other_texts_of_a_current_uri_are_versions_and_of_a_new_uri_rivals():
    a = _pull(3, ["pass"])
    other_text = replace(_candidate(7), key="4:7", record=_candidate(7).record.model_copy(
        update={"uri": a.novel[2].record.uri}))  # another text under a's third URI
    b = MinerPull(uid=4, hotkey="hk4", novel=[other_text])
    current = {page_of(a.novel[0]): (1, "another hash"), page_of(a.novel[1]): (2, a.novel[1].record.content_hash)}
    found = contested([a, b], current)
    assert found == {"3:0": Contest(page_of(a.novel[0]), VERSION), "3:2": Contest(page_of(a.novel[2]), RIVAL),
                     "4:7": Contest(page_of(a.novel[2]), RIVAL)}


def test_forced_refetches_take_only_what_the_random_sample_left_of_the_budget(monkeypatch):
    from validator import sampling

    monkeypatch.setattr(sampling, "refetch_budget", lambda _source: 6)
    groups = {1: {"web": ["1:1", "1:2", "1:3", "1:4"]}, 2: {"web": ["2:1", "2:2"]}}
    used = used_budget({1: ["1:1", "1:2"], 2: ["2:1"]}, groups)
    assert used == {"web": 3}
    forced = plan_forced({1: {"web": ["1:3", "1:4"]}, 2: {"web": ["2:2"]}}, used)
    assert forced == {1: ["1:3", "1:4"], 2: ["2:2"]}  # 3 left: the smaller demand first, then the rest
    assert plan_forced({1: {"web": ["1:3", "1:4"]}, 2: {"web": ["2:2"]}}, {"web": 4}) == {1: ["1:3"], 2: ["2:2"]}
    assert plan_forced({1: {"web": ["1:3"]}}, {"web": 6}) == {1: []}  # the random sample took the whole budget
    wanted = {1: {"web": ["1:1", "1:2", "1:3", "1:4"]}, 2: {"web": ["2:1"]}}
    assert plan_forced(wanted, {}, share=0.5) == {1: ["1:1", "1:2"], 2: ["2:1"]}  # before the sample: half at most


def test_a_refuted_forced_refetch_rejects_the_version_but_never_fails_the_batch():
    pull = _pull(10, ["pass"] * 5)
    contests = {pull.novel[7].key: Contest(page_of(pull.novel[7]), VERSION)}
    pull.forced = {pull.novel[7].key: _check(pull, 7, "fail", 0.1)}
    assert not VersionBook().settle(pull, contests, pull.forced, step=1)
    commit = commit_for(pull, MINER, 1, "v", _verdicts(pull), HISTORY)
    assert commit.rejected == {("python-language", R.UNCONFIRMED_VERSION): 1}
    assert len(commit.accepted) == 9 and commit.credibility > MINER.credibility


def test_an_unchecked_version_waits_a_bounded_number_of_steps_then_is_rejected():
    book = VersionBook()
    contests = {"3:0": Contest(("python-language", "u"), VERSION)}
    for step in range(K.VERSION_MAX_WAITS):
        pull = _pull(3, ["pass"] * 2)
        assert book.settle(pull, contests, {}, step) and not pull.refused
    pull = _pull(3, ["pass"] * 2)
    assert not book.settle(pull, contests, {}, K.VERSION_MAX_WAITS)
    assert pull.refused == {"3:0": R.UNCONFIRMED_VERSION} and book.waits == {}


def test_an_edit_the_budget_did_not_reach_never_holds_the_batch():
    """A near copy of its page's current row (an edit) that no re-fetch reached is refused at once: the miner's new
    pages do not wait behind a small change, as they do for a rewritten page's version."""
    book = VersionBook()
    book.edits = {"3:0": 0.93}
    pull = _pull(3, ["pass"] * 2)
    assert not book.settle(pull, {"3:0": Contest(("python-language", "u"), VERSION)}, {}, step=1)
    assert pull.refused == {"3:0": R.UNCONFIRMED_VERSION} and book.waits == {}


def test_a_confirmation_is_remembered_while_the_batch_waits():
    book = VersionBook()
    pull = _pull(3, ["pass"] * 2)
    contests = {"3:2": Contest(page_of(pull.novel[2]), VERSION), "3:0": Contest(("python-language", "x"), VERSION)}
    assert book.settle(pull, contests, {"3:2": _check(pull, 2, "pass", 1.0, "same_hash")}, step=1)  # 3:0 undecided
    again = _pull(3, ["pass"] * 2)
    assert book.remembers(again.novel[2])
    elsewhere = replace(again.novel[2], record=again.novel[2].record.model_copy(update={"uri": "https://x.example/"}))
    assert not book.remembers(elsewhere)  # the same text under another URI was never confirmed there
    book.settle(again, {"3:2": contests["3:2"]}, {}, step=2)
    assert again.versions == {"3:2"}
    book.forget(1 + K.VERSION_CONFIRMED_STEPS)
    assert not book.remembers(again.novel[2])


def test_a_version_the_live_page_is_only_similar_to_waits_a_step_and_is_fetched_again():
    """A rewritten page's new text that its re-fetch finds similar, not identical: the batch waits, nothing is
    remembered (the next step fetches it again, beside any exact copy of the page delivered meanwhile), and the
    second similar re-fetch, a step later, confirms it."""
    book = VersionBook()
    pull = _pull(3, ["pass"])
    contests = {"3:0": Contest(page_of(pull.novel[0]), VERSION)}
    similar = _check(pull, 0, "pass", 0.9, "similar")
    assert book.settle(pull, contests, {"3:0": similar}, step=1) and not pull.versions and not pull.refused
    assert not book.remembers(pull.novel[0])
    again = _pull(3, ["pass"])
    assert not book.settle(again, contests, {"3:0": similar}, step=2) and again.versions == {"3:0"}


def test_a_near_copy_tie_of_a_page_is_represented_by_the_text_closest_to_the_live_page():
    """Two miners' texts of one rewritten page tie as near copies; the tie's order made the copy the cluster's
    representative. The honest text, identical to the live page, represents it; the credit split stays."""
    page, uri = page_of(_candidate(0)), _candidate(0).record.uri
    ck, hk = "2:0", "5:0"  # the copier's key sorts first: the tie's order keeps it
    contests = {ck: Contest(page, VERSION), hk: Contest(page, VERSION)}
    verdicts = {ck: NoveltyVerdict(ck, 0.5, True, None, None, b"s"),
                hk: NoveltyVerdict(hk, 0.5, False, ck, "near", b"s")}
    checks = {ck: Check(uri, "pass", "similar", 0.9), hk: Check(uri, "pass", "same_hash", 1.0)}
    out = closest_represents(verdicts, contests, checks)
    assert (out[hk].keep, out[hk].duplicate_of, out[ck].keep, out[ck].duplicate_of) == (True, None, False, hk)
    assert out[ck].novelty == out[hk].novelty == 0.5 and out[ck].kind == "near"
    unchanged = closest_represents(verdicts, contests, {**checks, hk: Check(uri, "unknown", "timeout")})
    assert unchanged == verdicts


def test_one_record_per_page_comes_out_of_a_step():
    a, b, c, failed = (MinerPull(uid=u, hotkey=f"hk{u}", novel=[_candidate(u)], outcome="pass") for u in (1, 2, 5, 6))
    failed.outcome = "fail"  # its record is rejected whatever it is: it takes no page
    page = page_of(a.novel[0])
    everyone = (a, b, c, failed)
    contests = {p.novel[0].key: Contest(page, RIVAL) for p in everyone}
    verdicts = {p.novel[0].key: NoveltyVerdict(p.novel[0].key, 1.0, True, None, None, b"s") for p in everyone}
    checks = {a.novel[0].key: _check(a, 0, "pass", 0.85), b.novel[0].key: _check(b, 0, "pass", 0.97),
              failed.novel[0].key: _check(failed, 0, "pass", 1.0)}
    one_per_page(list(everyone), contests, verdicts, checks, seed="s")
    assert (a.refused, b.refused, c.refused) == ({a.novel[0].key: R.DUPLICATE_URI}, {},
                                                 {c.novel[0].key: R.DUPLICATE_URI})


def test_a_miner_has_at_most_three_edits_judged_a_step_and_its_other_near_copies_stay_duplicates():
    """Each edit of an accepted page costs a re-fetch: a miner delivering many near copies under the pages' own
    URIs gets EDITS_PER_MINER_STEP of them judged as edits (worth their new share), the rest stay `duplicate:near`."""
    from schemas.record import Record
    from scoring import NoveltyVerdict
    from validator import constants as VK
    from validator.ladder import Candidate
    from validator.versions import edits_of_own_page

    old = " ".join(f"word{i}" for i in range(300))
    candidates, verdicts, current, texts = [], {}, {}, {}
    for i in range(5):
        uri = f"https://site.example/page-{i}.html"
        record = Record.build(uri=uri, text=old + f" and one more sentence number {i}.", source="web",
                              domain="python-language", title=f"Page {i}")
        key = f"7:{i}"
        candidates.append(Candidate(key=key, seq=i, record=record, quality=1.0, relevance=1.0, freshness=1.0,
                                    size=1.0, desirability=1.0, signals={}))
        verdicts[key] = NoveltyVerdict(key=key, novelty=0.0, keep=False, duplicate_of=str(100 + i), kind="near")
        current[("python-language", record.uri)] = (100 + i, "0" * 64)
        texts[str(100 + i)] = old
    edited, similar = edits_of_own_page(candidates, verdicts, current, texts)
    edits = [k for k, v in edited.items() if v.kind is None]
    assert len(edits) == VK.EDITS_PER_MINER_STEP == len(similar)
    assert all(0 < edited[k].novelty < 0.2 and edited[k].keep for k in edits)
    assert all(edited[k].kind == "near" and edited[k].novelty == 0 for k in set(edited) - set(edits))
