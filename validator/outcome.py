"""A miner's outcome for a step, from what it delivered and how its sample verified: which records are novel,
which are accepted, the value credited, the credibility and score that follow (`MinerCommit`), and the log line and
metrics that report it. Pure but for the metrics and the log."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence

from scoring import NoveltyVerdict, ema, record_value, signature, step_score, update_credibility
from scoring.constants import SCORE_EMA_ALPHA
from validator import reasons as R
from validator.delivery import is_delivery
from validator.ladder import Candidate
from validator.metrics import ValidatorMetrics
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


def commit_for(p: MinerPull, miner: MinerState, step: int, validator_hotkey: str,
               verdicts: Mapping[str, NoveltyVerdict]) -> MinerCommit:
    """The miner's outcome for the step, computed in a worker thread (signatures cost CPU)."""
    outcomes = [c.outcome for c in p.checks]
    credibility = update_credibility(miner.credibility, outcomes) if outcomes else miner.credibility
    commit = MinerCommit(uid=p.uid, hotkey=p.hotkey, step=step, validator_hotkey=validator_hotkey,
                         credibility=credibility, score=miner.score, step_score=None, cursors=dict(p.cursors),
                         rejected=Counter(p.rejected), pulled=p.pulled, verification=Counter(outcomes))
    if p.outcome == "unknown":
        commit.hold = Pending(payload=pack([c.to_json() for c in p.novel]), records=len(p.novel),
                              sample=list(p.sample))
        return commit
    if p.outcome == "fail":
        for c in p.novel:
            commit.rejected[(c.record.domain, R.VERIFICATION_FAILED)] += 1
    else:
        credit(commit, p.novel, verdicts)
    s = step_score(credibility, [commit.value])
    commit.step_score = s
    commit.score = ema(miner.score, s, SCORE_EMA_ALPHA)
    return commit


def credit(commit: MinerCommit, novel: Sequence[Candidate], verdicts: Mapping[str, NoveltyVerdict]) -> None:
    """Accept each cluster's representative, credit shares of clusters other miners also delivered."""
    for c in novel:
        verdict = verdicts.get(c.key)
        reason = novelty_reason(verdict) if verdict else R.DUPLICATE
        if reason:
            commit.rejected[(c.record.domain, reason)] += 1
            continue
        value = record_value(c.quality, c.relevance, verdict.novelty, c.freshness, c.desirability, c.size)
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
