"""Held batches: a miner's records whose sample could not be checked (outcome unknown) wait in the store (one batch
per miner) and their sampled records only are verified again in later steps. The validator held the batch, so a
page that is gone or disagrees now proves nothing against the miner (unknown); a batch that resolves is paid as any
other (scoring/evidence.py), one still unknown waits again, and batches out of attempts or too old expire in SQL.
A held batch's new versions of accepted pages are judged when it resolves, by a re-fetch then (its sample's, or
one of their own: at most K.HELD_VERSION_REFETCHES a batch, which never enter the miner's evidence): a version that
did not pass then is rejected (it has waited already), and one page gives one row (validator/versions.py)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta

from schemas.domain import DomainCatalog
from schemas.record import utcnow
from scoring import NoveltyVerdict
from validator import constants as K
from validator import reasons as R
from validator.corpus import Corpus
from validator.facts import attach, sampled_checks
from validator.ladder import Candidate
from validator.metrics import ValidatorMetrics
from validator.outcome import commit_for, observe
from validator.precedence import Delivered, FirstDeliveries
from validator.pull import MinerPull
from validator.store import MinerState, PendingBatch, ValidatorStore, unpack
from validator.verification import Check, Verifier, batch_outcome
from validator.versions import Contest, contested, one_per_page, page_of, settle_held

log = logging.getLogger(__name__)

Novelty = Callable[[Sequence[MinerPull]], Awaitable[dict[str, NoveltyVerdict]]]
SplitTies = Callable[[Mapping[str, NoveltyVerdict], Mapping[int, str], Mapping[str, Delivered]],
                     dict[str, NoveltyVerdict]]


class PendingResolver:
    """Re-verifies held batches that are due, within what is left of a step."""

    def __init__(self, *, hotkey: str, store: ValidatorStore, corpus: Corpus, verifier: Verifier,
                 metrics: ValidatorMetrics, novelty: Novelty, catalog: DomainCatalog,
                 split_ties: SplitTies = lambda verdicts, _hotkeys, _first: dict(verdicts)) -> None:
        self.hotkey = hotkey
        self.store = store
        self.corpus = corpus
        self.verifier = verifier
        self.metrics = metrics
        self.novelty = novelty  # the step's novelty of the pulls' novel records, against the corpus
        self.catalog = catalog
        self.split_ties = split_ties  # the step's precedence (validator/precedence.py): a tie goes to who was first

    async def retry_due(self, step: int, deadline: float) -> None:
        """Expire what is out of attempts or too old, then re-verify held batches that are due, those held in one
        step together."""
        cutoff = utcnow() - timedelta(seconds=K.PENDING_MAX_AGE_SECONDS)
        for uid, records in await asyncio.to_thread(self.store.expire_pending, step, K.PENDING_MAX_ATTEMPTS, cutoff):
            log.info("pending batch expired uid=%d records=%d", uid, records)
        batches = await asyncio.to_thread(self.store.due_pending, K.PENDING_PER_STEP, step)
        for held_at in sorted({b.step for b in batches}):
            if deadline - time.monotonic() <= 0:
                return
            await self.resolve_group([b for b in batches if b.step == held_at], step, deadline)

    async def resolve(self, batch: PendingBatch, step: int, deadline: float) -> None:
        """Check one held batch's sampled records again and commit or postpone it."""
        await self.resolve_group([batch], step, deadline)

    async def resolve_group(self, batches: Sequence[PendingBatch], step: int, deadline: float) -> None:
        """Check held batches of one step again; those that resolve are judged together, so content they share is
        split by precedence as it was in their own step (a copier's batch held beside the original's gains nothing
        by resolving alone), then each is committed, or postponed: a batch with exact content another miner delivered
        in an earlier step and is still undecided (a batch waiting in this very step, say) waits for it."""
        ready = [r for r in [await self._recheck(b, deadline) for b in batches] if r is not None]
        if not ready:
            return
        firsts = await asyncio.to_thread(
            FirstDeliveries.load, self.store, step,
            [c.record.content_hash for _, pull, _ in ready for c in pull.novel], K.FIRST_DELIVERY_STEPS)
        delivered = {c.key: firsts.of(batch.hotkey, c.record.content_hash, batch.step)
                     for batch, pull, _ in ready for c in pull.novel}
        late = firsts.waiting_for(
            ((p.uid, p.hotkey, delivered[c.key]) for _, p, _ in ready if p.outcome != "fail" for c in p.novel),
            judged={(p.hotkey, c.record.content_hash) for _, p, _ in ready for c in p.novel})
        for batch, _, _ in ready:
            if batch.uid in late:
                log.info("pending batch waits for an earlier delivery of its content id=%d uid=%d first=%s",
                         batch.id, batch.uid, late[batch.uid])
                await self._postpone(batch, 0)
        ready = [r for r in ready if r[0].uid not in late]
        if not ready:
            return
        pulls = [pull for _, pull, _ in ready]
        judged = [p for p in pulls if p.outcome != "fail"]
        verdicts: dict[str, NoveltyVerdict] = {}
        if judged:
            verdicts = await asyncio.to_thread(self.split_ties, await self.novelty(judged),
                                               {p.uid: p.hotkey for p in pulls}, delivered)
        current = await asyncio.to_thread(self.store.current_versions, [page_of(c) for p in pulls for c in p.novel])
        contests = contested(pulls, current)
        await self._refetch_contested(pulls, contests, deadline)
        for pull in pulls:
            settle_held(pull, contests)
        checks = {key: check for pull in pulls for key, check in sampled_checks(pull).items()}
        one_per_page(pulls, contests, verdicts, checks, f"held-{ready[0][0].id}")
        for batch, pull, miner in ready:
            await self._commit(batch, pull, miner, step, verdicts)

    async def _refetch_contested(self, pulls: Sequence[MinerPull], contests: Mapping[str, Contest],
                                 deadline: float) -> None:
        """The contested records of resolving batches that their samples did not cover, checked as in a step
        (`pull.forced`): against a re-fetch of their page made this step, else fetched now."""
        for pull in pulls:
            sampled = {pull.novel[i].key for i in pull.sample}
            wanted = []
            for c in pull.novel:
                if c.key not in contests or c.key in sampled:
                    continue
                if (seen := self.verifier.judged_by_seen(c.record)) is not None:
                    pull.forced[c.key] = seen
                elif len(wanted) < K.HELD_VERSION_REFETCHES:
                    wanted.append(c)
            checks = await self.verifier.check_all([c.record for c in wanted], deadline - time.monotonic())
            pull.forced.update({c.key: check for c, check in zip(wanted, checks, strict=True)})

    async def _recheck(self, batch: PendingBatch, deadline: float) -> tuple[PendingBatch, MinerPull, MinerState] | None:
        """The batch's sampled records fetched again: its pull when the checks resolve it, else None (postponed)."""
        novel = [Candidate.from_json(x) for x in await asyncio.to_thread(unpack, batch.payload)]
        sample = [i for i in batch.sample if i < len(novel)]
        checks = await self.verifier.check_all([novel[i].record for i in sample], deadline - time.monotonic())
        checks, outcome = _held_outcome(checks)
        if outcome in (None, "unknown"):
            await self._postpone(batch, len(checks))
            return None
        miner = (await asyncio.to_thread(self.store.miners)).get(batch.uid)
        if miner is None or miner.hotkey != batch.hotkey:
            return None  # the slot changed hands; sync_miners already dropped the batch
        pull = MinerPull(uid=batch.uid, hotkey=batch.hotkey, novel=novel, checks=checks, outcome=outcome,
                         sample=sample)
        return batch, pull, miner

    async def _commit(self, batch: PendingBatch, pull: MinerPull, miner: MinerState, step: int,
                      verdicts: Mapping[str, NoveltyVerdict]) -> None:
        history = (await asyncio.to_thread(self.store.evidence, [batch.uid])).get(batch.uid, {})
        commit = await asyncio.to_thread(commit_for, pull, miner, step, self.hotkey, verdicts, history)
        await asyncio.to_thread(attach, commit, pull, self.catalog, held=True)
        if commit.waits:  # too little evidence yet: keep its checks, hold the batch for another attempt
            await asyncio.to_thread(self.store.commit_miner, commit)
            await self._postpone(batch, 0)
            return
        commit.resolved_pending = batch.id
        inserted = await asyncio.to_thread(self.corpus.commit, commit)  # claimed on the shared index
        log.info("pending batch resolved id=%d uid=%d held_at_step=%d outcome=%s records=%d", batch.id, batch.uid,
                 batch.step, pull.outcome, len(pull.novel))
        observe(self.metrics, pull, commit, inserted)

    async def _postpone(self, batch: PendingBatch, unknown: int) -> None:
        """Another attempt later (backing off with the attempts); `unknown` checks are counted for the miner."""
        retry_at = utcnow() + timedelta(seconds=K.PENDING_RETRY_SECONDS * batch.attempts)
        await asyncio.to_thread(self.store.postpone_pending, batch.id, retry_at, unknown)
        self.metrics.verifications.labels(outcome="unknown").inc(unknown)


def _held_outcome(checks: list[Check]) -> tuple[list[Check], str | None]:
    """The outcome of a held batch's checks. The validator held this batch, so its pages may have changed or gone
    since the miner delivered them: a page that disagrees or is gone now proves nothing against the miner (unknown),
    and the batch cannot pass on that check either."""
    held = [replace(c, outcome="unknown", reason=f"{R.CHANGED_WHILE_HELD}:{c.reason}") if _changed(c) else c
            for c in checks]
    return held, batch_outcome(held)


def _changed(check: Check) -> bool:
    return check.outcome == "fail" or (check.outcome == "unverified" and check.reason.startswith("gone:"))
