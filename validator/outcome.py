"""A miner's outcome for a step, from what it delivered and how its sample verified: which records are novel,
which are accepted, the value credited (scaled by the verified fraction of each source: scoring/evidence.py), the
credibility and score that follow (`MinerCommit`), and the log line and metrics that report it. Pure but for the
metrics and the log."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from scoring import NoveltyVerdict, ema, record_value, signature, step_score, update_credibility
from scoring.constants import EVIDENCE_WINDOW, SCORE_EMA_ALPHA
from scoring.evidence import paid_fraction, window_counts
from validator import reasons as R
from validator.delivery import is_delivery
from validator.ladder import Candidate
from validator.metrics import ValidatorMetrics
from validator.precedence import Delivered, later_copy
from validator.pull import MinerPull
from validator.store import Accepted, MinerCommit, MinerState, Pending, pack

log = logging.getLogger(__name__)


def novelty_reason(verdict: NoveltyVerdict) -> str | None:
    """Why a delivery earns nothing for novelty, or None when it is (at least partly) new. A duplicate of another
    delivery of this step is `duplicate_in_batch`; of an accepted record, `duplicate:<kind>`."""
    if verdict.novelty > 0:
        return None
    if verdict.duplicate_of and is_delivery(verdict.duplicate_of):
        return R.DUPLICATE_IN_BATCH
    return R.duplicate(verdict.kind)


def split_novel(pull: MinerPull, verdicts: Mapping[str, NoveltyVerdict]) -> None:
    """Duplicates of accepted data (and a miner's own near-copies) are rejected; the rest go on to verification."""
    for c in pull.candidates:
        reason = novelty_reason(verdicts[c.key])
        if reason:
            pull.rejected[(c.record.domain, reason)] += 1
        else:
            pull.novel.append(c)
    pull.candidates = []


# A batch none of whose records was re-fetched this step (the source's re-fetch budget went to other miners): paid
# on the miner's evidence so far, or waiting for some.
UNCHECKED = "unchecked"
# Batch outcomes judged by their evidence (pay_plan); "fail" and "unknown" (held) are not.
RESOLVED = ("pass", "unverified", UNCHECKED)


@dataclass(frozen=True)
class PayPlan:
    """What a resolved batch's evidence allows: the paid fraction per source, the sampled records nobody could check,
    and the sources whose evidence is too thin to judge yet (no unverified check, but too few passes to reach the
    floor: a new miner, or one the step's re-fetch budget did not reach)."""

    evidence: dict[str, list[bool]]
    fractions: dict[str, float]
    unverified: set[str]
    thin: set[str]
    refused: frozenset[str] = frozenset()  # versions the live page did not confirm (validator/versions.py)

    def contenders(self, novel: Sequence[Candidate]) -> set[str]:
        """Keys of the records that may hold their content this step: paid now, or in a batch waiting for evidence
        (a copy delivered beside a waiting original must not take its place)."""
        out = self.unverified | self.refused
        if self.thin:
            return {c.key for c in novel if c.key not in out}
        return {c.key for c in novel if c.key not in out and self.fractions.get(c.record.source, 0) > 0}


def pay_plan(p: MinerPull, history: Mapping[str, Sequence[bool]]) -> PayPlan:
    """The pay plan of a resolved batch (outcome pass or unverified), from its checks and the miner's history."""
    evidence = batch_evidence(p)
    fractions = paid_fractions(p, evidence, history)
    thin = {s for s, f in fractions.items()
            if f <= 0.0 and all(evidence.get(s, ())) and all(history.get(s, ())[:EVIDENCE_WINDOW])}
    return PayPlan(evidence, fractions, unverified_keys(p), thin, frozenset(p.refused))


def tied_with_waiting(pulls: Sequence[MinerPull], plans: Mapping[int, PayPlan],
                      verdicts: Mapping[str, NoveltyVerdict], also: Collection[int] = (),
                      first: Mapping[str, Delivered] | None = None) -> set[int]:
    """uids whose records share a cluster with a record of a batch waiting for evidence (or for a version's
    re-fetch, or an earlier delivery: the uids `also`). They wait too, so neither side takes the content before both
    can be judged (and the tie is split by precedence as any other); a record whose exact content the waiting ones
    delivered first in a later step (`first`, as in `tied_keys`) does not wait for them."""
    waiting = {key for p in pulls if p.uid in plans and (plans[p.uid].thin or p.uid in also)
               for key in plans[p.uid].contenders(p.novel)}
    tied = tied_keys(waiting, verdicts, first)
    return {p.uid for p in pulls if any(c.key in tied for c in p.novel)}


def tied_with_held(pulls: Sequence[MinerPull], plans: Mapping[int, PayPlan],
                   verdicts: Mapping[str, NoveltyVerdict], held: Mapping[str, int],
                   first: Mapping[str, Delivered] | None = None) -> set[int]:
    """uids whose records that may hold their content share it with a record of another miner's held batch (`held`:
    the held records' keys in `verdicts` -> their miner's uid). They wait too: the held miner delivered it first,
    unless it delivered their exact content in a later step than they did (`first`, as in `tied_keys`)."""
    found = set()
    for p in pulls:
        if p.uid not in plans:
            continue
        others = [key for key, uid in held.items() if uid != p.uid]
        if plans[p.uid].contenders(p.novel) & tied_keys(others, verdicts, first):
            found.add(p.uid)
    return found


def tied_keys(waiting: Collection[str], verdicts: Mapping[str, NoveltyVerdict],
              first: Mapping[str, Delivered] | None = None) -> set[str]:
    """Keys of the deliveries that share a cluster (one content: a kept delivery and its duplicates among the
    step's deliveries) with one of the `waiting` keys, those left out, and with `first` (key -> its content and the
    step its miner first delivered it; missing: now) those whose exact content every waiting key of their cluster
    delivered later left out too: an earlier deliverer does not wait for a later copy."""
    waiting = set(waiting)
    if not waiting:
        return set()
    clusters: dict[str, set[str]] = {}
    for key, verdict in verdicts.items():
        leader = key if verdict.keep else verdict.duplicate_of
        if leader and (verdict.keep or is_delivery(leader)):
            clusters.setdefault(leader, {leader}).add(key)
    tied = set()
    for members in clusters.values():
        if held := members & waiting:
            tied |= {key for key in members - waiting if not all(later_copy(w, [key], first) for w in held)}
    return tied


def commit_for(p: MinerPull, miner: MinerState, step: int, validator_hotkey: str,
               verdicts: Mapping[str, NoveltyVerdict], history: Mapping[str, Sequence[bool]] | None = None,
               *, holding: bool = False) -> MinerCommit:
    """The miner's outcome for the step, computed in a worker thread (signatures cost CPU). `history` is the miner's
    evidence so far by source (newest first); `holding` says it already has a held batch."""
    commit = MinerCommit(uid=p.uid, hotkey=p.hotkey, step=step, validator_hotkey=validator_hotkey,
                         credibility=miner.credibility, score=miner.score, step_score=None, cursors=dict(p.cursors),
                         rejected=Counter(p.rejected), pulled=p.pulled,
                         verification=Counter(c.outcome for c in p.checks),
                         unverified_uris=[p.novel[i].record.uri for i, c in zip(p.sample, p.checks, strict=True)
                                          if c.outcome == "unverified"],
                         delivered=[c.record.content_hash for c in p.novel])
    if p.outcome == "unknown":
        return _hold(commit, p, holding)
    if p.outcome == "fail":
        for c in p.novel:
            commit.rejected[(c.record.domain, R.VERIFICATION_FAILED)] += 1
        commit.credibility = update_credibility(miner.credibility, ["fail"])  # once per batch, not per check
    else:
        plan = pay_plan(p, history or {})
        commit.evidence = plan.evidence
        if plan.thin or p.waits:
            return _wait(commit)
        credit(commit, p.novel, verdicts, plan.fractions, plan.unverified, p.refused)
        verified = p.outcome == "pass" and any(plan.fractions.get(s, 0.0) > 0 and any(flags)
                                               for s, flags in plan.evidence.items())
        commit.credibility = update_credibility(miner.credibility, ["pass" if verified else "unverified"])
    s = step_score(commit.credibility, [commit.value])
    commit.step_score = s
    commit.score = ema(miner.score, s, SCORE_EMA_ALPHA)
    return commit


def _wait(commit: MinerCommit) -> MinerCommit:
    """The batch waits: its cursors stay and nothing of the step is counted but its checks, so the same records are
    pulled (and sampled) again in a later step. Nothing is lost, and nothing is paid before there is evidence."""
    commit.cursors, commit.rejected, commit.pulled, commit.waits = {}, Counter(), 0, True
    return commit


def _hold(commit: MinerCommit, p: MinerPull, holding: bool) -> MinerCommit:
    """Hold an all-unknown batch; a miner already holding one waits instead (one held batch per miner, so what a
    validator in trouble stores stays bounded) and its records are pulled again once the held batch is resolved."""
    if holding:
        return _wait(commit)
    commit.hold = Pending(payload=pack([c.to_json() for c in p.novel]), records=len(p.novel), sample=list(p.sample),
                          domains=dict(Counter(c.record.domain for c in p.novel)))
    return commit


def batch_evidence(p: MinerPull) -> dict[str, list[bool]]:
    """source -> the batch's resolved checks in sample order (pass = True, unverified = False)."""
    found: dict[str, list[bool]] = {}
    for i, check in zip(p.sample, p.checks, strict=True):
        if check.outcome in ("pass", "unverified"):
            found.setdefault(p.novel[i].record.source, []).append(check.outcome == "pass")
    return found


def paid_fractions(p: MinerPull, new: Mapping[str, Sequence[bool]],
                   history: Mapping[str, Sequence[bool]]) -> dict[str, float]:
    """source -> the share of value paid for the batch's records of that source: the bound over the window of the
    miner's checks of the source, this batch's included (scoring/evidence.py)."""
    sources = {c.record.source for c in p.novel}
    return {s: paid_fraction(*window_counts(new.get(s, ()), history.get(s, ()))) for s in sources}


def unverified_keys(p: MinerPull) -> set[str]:
    """Keys of the sampled records nobody could check: never paid, whatever the rest of the batch earns."""
    return {p.novel[i].key for i, c in zip(p.sample, p.checks, strict=True) if c.outcome == "unverified"}


def credit(commit: MinerCommit, novel: Sequence[Candidate], verdicts: Mapping[str, NoveltyVerdict],
           fractions: Mapping[str, float], unverified: set[str], refused: Mapping[str, str] | None = None) -> None:
    """Accept each cluster's representative, credit shares of clusters other miners also delivered; each record's
    value is scaled by its source's paid fraction, and a source below the floor is neither accepted nor paid.
    `refused`: records that may not become rows (key -> reason: an unconfirmed version, another text of a URI)."""
    refused = refused or {}
    for c in novel:
        verdict = verdicts.get(c.key)
        fraction = fractions.get(c.record.source, 0.0)
        if c.key in refused:
            reason = refused[c.key]
        elif c.key in unverified or fraction <= 0.0:
            reason = R.UNVERIFIED  # not in the step's final novelty: nothing else can be said of it
        else:
            reason = novelty_reason(verdict) if verdict else R.DUPLICATE
        if reason:
            commit.rejected[(c.record.domain, reason)] += 1
            continue
        value = fraction * record_value(c.quality, c.relevance, verdict.novelty, c.freshness, c.desirability, c.size)
        commit.value += value
        if not verdict.keep:
            commit.shared += 1
            continue
        commit.accepted.append(Accepted(
            record=c.record, quality=c.quality, relevance=c.relevance, novelty=verdict.novelty,
            freshness=c.freshness, size=c.size, desirability=c.desirability, value=value, signals=c.signals,
            minhash=verdict.signature or signature(c.record.text)))


def observe(metrics: ValidatorMetrics, p: MinerPull, commit: MinerCommit, inserted: Sequence[object]) -> None:
    """The miner's step in the metrics and one log line."""
    metrics.pulled.inc(p.pulled)
    for (_domain, reason), n in commit.rejected.items():
        metrics.rejected.labels(reason=reason).inc(n)
    for outcome, n in commit.verification.items():
        metrics.verifications.labels(outcome=outcome).inc(n)
    for domain, n in Counter(a.record.domain for a in commit.accepted[: len(inserted)]).items():
        metrics.accepted.labels(domain=domain).inc(n)
    metrics.miner_score.labels(uid=str(p.uid)).set(commit.score)
    metrics.miner_credibility.labels(uid=str(p.uid)).set(commit.credibility)
    top = ",".join(f"{r}={n}" for (_d, r), n in Counter(commit.rejected).most_common(3))
    log.info("miner step uid=%d hotkey=%s pulled=%d bytes=%d accepted=%d shared=%d rejected=%d top_rejections=%s "
             "verification=%s checks=%s value=%.4f step_score=%s credibility=%.3f score=%.5f seconds=%.2f",
             p.uid, p.hotkey, p.pulled, p.bytes, len(inserted), commit.shared, sum(commit.rejected.values()),
             top or "-", p.outcome or "none", "/".join(f"{c.outcome}:{c.reason}" for c in p.checks) or "-",
             commit.value, "held" if commit.step_score is None else f"{commit.step_score:.5f}",
             commit.credibility, commit.score, p.seconds)
