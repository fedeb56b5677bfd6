"""The multi-epoch adversarial run (scenario.py): honest miners crawling, every hostile miner beside them, the
validator and an honest miner SIGKILLed at seeded random points. Cheats earn nothing, honest miners are paid by the
pay rule for the value they were credited, nothing is lost or doubled, and the published dataset is clean."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections import Counter
from contextlib import closing
from datetime import UTC, datetime

import pytest

from schemas.domain import DomainCatalog
from scoring.constants import CREDIBILITY_EXPONENT, INITIAL_CREDIBILITY, SCORE_EMA_ALPHA
from tests.adversarial.oracle import best_match, shingles, similar_pairs
from tests.adversarial.scenario import EARLY, LATE, Outcome, Run
from validator.ladder import judge_record

pytestmark = pytest.mark.slow

HOSTILE_SHARE = 0.01  # of miner emission, each
HONEST_SHARE = 0.95  # of miner emission, together
NEAR_DUP = 0.8  # word 5-gram Jaccard
EXPLAINED = 0.7  # an honest record not accepted itself must have an accepted record at least this similar

# Why each hostile miner's records or answers are turned away (at least one of these reasons, and nothing accepted).
REASONS = {
    "fabricator": {"verification_failed"},
    "keyword-stuffer": {"keyword_stuffing"},
    "low-quality": {"quality:"},
    "oversized": {"protocol:too_large"},
    "endless": {"protocol:too_large", "protocol:timeout"},
    "slowloris": {"protocol:timeout"},
    "malformed-json": {"protocol:malformed_json"},
    "live-copier": {"duplicate:exact"},
    "sybil": {"duplicate:exact"},
    "relabeler": {"duplicate:exact", "duplicate:folded"},
    # a near copy under the page's own URI is an edit of the page: refused unless the live page is closer to it
    "near-dup": {"duplicate:near", "unconfirmed_version"},
    "stale-copier": {"duplicate:exact"},
    "cursor-replayer": {"duplicate:exact"},
    # pay for evidence (issue 16): what only a re-fetch can tell is unverified (never paid), a contradicted claim
    # fails the batch, a record the source's rules refuse never reaches sampling
    "padder": {"unverified"},
    "spinner": {"unverified"},
    "self-publisher": {"unknown_source", "source_constraint:", "unverified"},
    "freshness-liar": {"verification_failed", "duplicate:"},
    "title-stuffer": {"relevance:"},
    "disguised-copier": {"duplicate:folded"},
}
COPIERS = ("live-copier", "sybil", "relabeler", "near-dup", "padder", "spinner", "self-publisher", "freshness-liar",
           "title-stuffer", "disguised-copier")


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Outcome:
    root = tmp_path_factory.mktemp("adversarial")
    outcome = asyncio.run(Run(root / "net")())
    (root / "report.json").write_text(json.dumps(_report(outcome), indent=1))
    print("\n" + json.dumps(_report(outcome), indent=1))
    return outcome


def _report(o: Outcome) -> dict:
    total = sum(o.emission.values()) or 1.0
    return {"seconds": round(o.seconds, 1), "epochs": o.epochs, "kills": o.kills, "source_faults": o.source_faults,
            "edits": len(o.edits), "accepted": len(o.accepted), "release_rows": len(o.release),
            "miners": {n: {"role": o.role(n), "share": round(o.emission[n] / total, 5),
                           "value": round(o.miners[n].value_total, 4) if n in o.miners else None,
                           "accepted": o.miners[n].accepted if n in o.miners else None,
                           "credibility": round(o.miners[n].credibility, 3) if n in o.miners else None,
                           "top_rejections": Counter(o.rejections.get(n, {})).most_common(3)}
                       for n in o.names}}


def _share(run: Outcome, names) -> float:
    return sum(run.emission[n] for n in names) / sum(run.emission.values())


def test_the_run_spans_many_epochs_with_both_kills(run):
    assert run.epochs >= 10 and sum(run.emission.values()) > 0
    assert sorted(name for _t, name in run.kills) == ["honest3", "validator"]
    assert run.edits and run.source_faults


@pytest.mark.parametrize("name", [name for _kind, name, _source, _lag in EARLY + LATE])
def test_a_hostile_miner_earns_at_most_one_percent_of_miner_emission(run, name):
    assert _share(run, [name]) <= HOSTILE_SHARE


def test_honest_miners_together_earn_at_least_95_percent(run):
    assert _share(run, run.honest()) >= HONEST_SHARE


def _replayed_pay(run: Outcome) -> tuple[list[str], list[tuple[int, dict[int, float]]]]:
    """The pay rule replayed over the validator's log, line by line: every honest miner step's score from the
    previous one and what the step credited, (1 - a) * score + a * credibility^2.5 * value (unchanged while held;
    a refused answer scores 0), checked against the score it logged; and each weights setting's block with the
    honest miners' latest logged scores. A restart starts the replay afresh (the first line of each miner then gives
    its score: a SIGKILL may fall between a commit and its line)."""
    uids = {run.miners[n].uid for n in run.honest()}
    mismatches: list[str] = []
    settings: list[tuple[int, dict[int, float]]] = []
    scores: dict[int, float] = {}
    for line in (run.log_dir / "validator.log").read_text().splitlines():
        if line.startswith("--- ") and " starting " in line:
            scores = {}
        elif (step := STEP_LINE.search(line) or REFUSED_LINE.search(line)) and int(step["uid"]) in uids:
            uid, logged = int(step["uid"]), float(step["score"])
            if uid in scores:
                before = scores[uid]
                if step.re is REFUSED_LINE:
                    expected = (1 - SCORE_EMA_ALPHA) * before
                elif step["step_score"] == "held":
                    expected = before
                else:
                    paid = float(step["credibility"]) ** CREDIBILITY_EXPONENT * float(step["value"])
                    expected = (1 - SCORE_EMA_ALPHA) * before + SCORE_EMA_ALPHA * paid
                if abs(expected - logged) > 2e-5 + 0.02 * expected:
                    mismatches.append(f"uid {uid}: {before:.5f} -> {logged:.5f}, the rule gives {expected:.5f}: {line}")
            scores[uid] = logged
        elif (weights := WEIGHTS_LINE.search(line)) and set(scores) == uids:
            settings.append((int(weights["block"]), dict(scores)))
    return mismatches, settings


STEP_LINE = re.compile(r"miner step uid=(?P<uid>\d+) .* value=(?P<value>[\d.]+) step_score=(?P<step_score>\S+) "
                       r"credibility=(?P<credibility>[\d.]+) score=(?P<score>[\d.]+)")
REFUSED_LINE = re.compile(r"miner step refused step=\d+ uid=(?P<uid>\d+) .* score=(?P<score>[\d.]+)$")
WEIGHTS_LINE = re.compile(r"validator\.weights weights set block=(?P<block>\d+)")


def _honest_shares(weights: dict[int, float], uids: set[int]) -> dict[int, float]:
    total = sum(weights.get(u, 0.0) for u in uids)
    return {u: weights.get(u, 0.0) / total for u in uids}


def test_honest_miners_are_paid_by_the_pay_rule_for_the_value_they_were_credited(run):
    """What pays is evidence-weighted value: each step's credited value times credibility^2.5, an EMA over steps,
    normalised into the weights, and the chain pays each epoch by the weights in force. Checked link by link over the
    run. (An honest miner's emission share is not its share of value in a run this short: credibility is still low
    and grows by verified batch, and recent steps weigh more; the report prints both.)"""
    mismatches, settings = _replayed_pay(run)
    assert not mismatches, mismatches[:5]
    uids = {run.miners[n].uid for n in run.honest()}
    net = run.log_dir.parent
    with closing(sqlite3.connect(net / "validator" / "validator" / "validator.sqlite")) as db:
        stored = [(block, {int(u): w for u, w in json.loads(vector).items()}) for block, vector in
                  db.execute("SELECT block, weights FROM validator_weights WHERE ok ORDER BY id")]
    # the weights set give honest miners the shares of the scores the rule gave them
    by_block = dict(stored)
    assert settings and all(block in by_block for block, _ in settings)
    for block, scores in settings:
        want, got = _honest_shares(scores, uids), _honest_shares(by_block[block], uids)
        assert all(abs(got[u] - want[u]) <= 0.02 * want[u] for u in uids), (block, want, got)
    # the chain paid each epoch by the weights in force (set at an earlier block)
    with closing(sqlite3.connect(net / "chain.sqlite")) as chain:
        epochs = chain.execute("SELECT block, miners FROM epochs ORDER BY epoch").fetchall()
    expected = dict.fromkeys(uids, 0.0)
    for block, miners in epochs:
        if in_force := [w for b, w in stored if b < block]:
            for u, share in _honest_shares(in_force[-1], uids).items():
                expected[u] += miners * share
    emission = {run.miners[n].uid: run.emission[n] for n in run.honest()}
    for u in uids:
        want, got = expected[u] / sum(expected.values()), emission[u] / sum(emission.values())
        assert abs(got - want) <= 0.01 * want, (u, want, got)


@pytest.mark.parametrize("kind", COPIERS)
def test_copiers_and_sybil_groups_are_credited_under_one_percent(run, kind):
    """Stronger than emission (a copier's credibility is still low in a short run): what the validator credited."""
    group = [n for n in run.hostile() if run.role(n) == f"hostile:{kind}"]
    total = sum(m.value_total for m in run.miners.values())
    assert sum(run.miners[n].value_total for n in group) <= 0.01 * total


def test_no_copy_is_the_record_kept_in_the_dataset(run):
    """Every record a hostile miner copied, relabelled, replayed or made up lost to the original or was rejected:
    none of those miners contributed a row of the release."""
    copiers = {run.miners[n].hotkey for n in run.hostile() if run.role(n) != "hostile:near-dup"}
    assert not copiers & {row["contributor_hotkey"] for row in run.release}
    assert all(run.miners[n].accepted == 0 for n in run.hostile() if run.role(n) != "hostile:near-dup")


def test_a_spun_page_enters_the_dataset_only_where_the_original_was_rejected(run):
    """The known residual (docs/adversarial.md): a spinner's copy of a page passes verification as "similar" and can
    pass a quality rule the page's exact text narrowly failed. Such a row only exists where no honest version of the
    page was accepted, and there are few of them."""
    spinner = run.miners["near-dup"].hotkey
    spun = [row for row in run.release if row["contributor_hotkey"] == spinner]
    catalog = DomainCatalog.load([run.log_dir.parent / "domains"])
    accepted_uris = {row["uri"] for row in run.accepted if row["miner_hotkey"] != spinner}
    now = datetime.now(UTC)
    for row in spun:
        assert row["uri"] not in accepted_uris
        originals = [r for rs in run.honest_records.values() for r in rs if r.uri == row["uri"]]
        assert originals and all(judge_record(0, 1, r.model_dump(mode="json"), catalog.get(r.domain), now)[0] is None
                                 for r in originals)
    assert len(spun) <= 0.01 * len(run.release)


@pytest.mark.parametrize("kind", sorted(REASONS))
def test_each_hostile_miner_is_turned_away_for_its_own_reason(run, kind):
    for name in (n for n in run.hostile() if run.role(n) == f"hostile:{kind}"):
        reasons = set(run.rejections.get(name, {}))
        assert any(r.startswith(expected) for r in reasons for expected in REASONS[kind]), (name, reasons)


def test_the_index_liar_is_never_paid_for_what_it_claims(run):
    assert run.miners["index-liar"].value_total == 0 and run.miners["index-liar"].pulled == 0


def test_honest_miners_never_lose_credibility(run):
    for name in run.honest():
        samples = run.credibility[name]
        assert samples and all(b >= a for a, b in zip(samples, samples[1:], strict=False)), name
        miner = run.miners[name]
        assert miner.verify_fail == 0 and miner.credibility > INITIAL_CREDIBILITY


def test_no_accepted_record_is_accepted_twice(run):
    hashes = [row["content_hash"] for row in run.accepted]
    assert len(hashes) == len(set(hashes))
    by_miner = Counter(row["miner_hotkey"] for row in run.accepted)
    assert all(by_miner[m.hotkey] == m.accepted for m in run.miners.values())


def test_no_honest_record_is_lost_across_the_kills(run):
    """Every record an honest miner stored was read (cursor at its newest seq, nothing held) and is accepted, or
    rejected by the ladder's quality and relevance rungs, or has an accepted record at least EXPLAINED similar."""
    catalog = DomainCatalog.load([run.log_dir.parent / "domains"])
    accepted = {row["content_hash"] for row in run.accepted}
    corpus = [shingles(row["text"]) for row in run.accepted]
    now = datetime.now(UTC)
    lost = []
    for name, records in run.honest_records.items():
        assert run.cursors[name] and max(run.cursors[name].values()) == run.newest_seq[name], name
        assert not run.pending.get(name), name
        for record in records:
            if record.content_hash in accepted:
                continue
            candidate, _reason = judge_record(0, 1, record.model_dump(mode="json"), catalog.get(record.domain), now)
            if candidate is not None and best_match(record.text, corpus) < EXPLAINED:
                lost.append((name, record.uri))
    assert not lost


def test_the_release_holds_every_accepted_record_once(run):
    assert len(run.release) == len(run.accepted)
    assert sorted(r["content_hash"] for r in run.release) == sorted(r["content_hash"] for r in run.accepted)


def test_the_release_has_no_exact_duplicates(run):
    texts = [" ".join(r["text"].casefold().split()) for r in run.release]
    assert len(texts) == len(set(texts))


def test_the_release_has_no_near_duplicates(run):
    pairs = similar_pairs([r["text"] for r in run.release], NEAR_DUP)
    assert not pairs, [(run.release[i]["uri"], run.release[j]["uri"], round(s, 3)) for i, j, s in pairs]
