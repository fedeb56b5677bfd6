"""Held batches: a miner's records whose sample could not be checked (outcome unknown) wait in the store and are
verified again in later steps; a pass accepts them, a fail cannot be held against the miner, unknown waits again
until the batch expires."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import timedelta

from schemas.record import utcnow
from scoring import NoveltyVerdict
from validator import constants as K
from validator import reasons as R
from validator.corpus import Corpus
from validator.ladder import Candidate
from validator.metrics import ValidatorMetrics
from validator.outcome import commit_for, observe
from validator.pull import MinerPull
from validator.store import PendingBatch, ValidatorStore, unpack
from validator.verification import Check, Verifier, batch_outcome

log = logging.getLogger(__name__)

Novelty = Callable[[Sequence[MinerPull]], Awaitable[dict[str, NoveltyVerdict]]]


class PendingResolver:
    """Re-verifies held batches that are due, within what is left of a step."""

    def __init__(self, *, hotkey: str, store: ValidatorStore, corpus: Corpus, verifier: Verifier,
                 metrics: ValidatorMetrics, novelty: Novelty) -> None:
        self.hotkey = hotkey
        self.store = store
        self.corpus = corpus
        self.verifier = verifier
        self.metrics = metrics
        self.novelty = novelty  # the step's novelty of the pulls' novel records, against the corpus

    async def retry_due(self, step: int, deadline: float) -> None:
        """Re-verify held batches that are due; a pass accepts them, a fail rejects them, unknown waits again."""
        batches = await asyncio.to_thread(self.store.due_pending, K.PENDING_PER_STEP, step)
        for batch in batches:
            if deadline - time.monotonic() <= 0:
                return
            await self.resolve(batch, step, deadline)

    async def resolve(self, batch: PendingBatch, step: int, deadline: float) -> None:
        """Check one held batch's sample again and commit, postpone or expire it."""
        novel = [Candidate.from_json(x) for x in await asyncio.to_thread(unpack, batch.payload)]
        sample = [novel[i] for i in batch.sample if i < len(novel)]
        checks = await self.verifier.check_all([c.record for c in sample], deadline - time.monotonic())
        checks, outcome = _held_outcome(checks)
        if outcome in (None, "unknown"):
            await self._wait_again(batch, step, novel, len(checks))
            return
        miner = (await asyncio.to_thread(self.store.miners)).get(batch.uid)
        if miner is None or miner.hotkey != batch.hotkey:
            return  # the slot changed hands; sync_miners already dropped the batch
        pull = MinerPull(uid=batch.uid, hotkey=batch.hotkey, novel=novel, checks=checks, outcome=outcome,
                         sample=batch.sample)
        verdicts = await self.novelty([pull]) if outcome == "pass" else {}
        commit = await asyncio.to_thread(commit_for, pull, miner, step, self.hotkey, verdicts)
        commit.resolved_pending = batch.id
        inserted = await asyncio.to_thread(self.store.commit_miner, commit)
        self.corpus.add(inserted)
        log.info("pending batch resolved id=%d uid=%d held_at_step=%d outcome=%s records=%d", batch.id, batch.uid,
                 batch.step, outcome, len(novel))
        observe(self.metrics, pull, commit, inserted)

    async def _wait_again(self, batch: PendingBatch, step: int, novel: Sequence[Candidate], checked: int) -> None:
        """Postpone a batch still unknown, or expire it after its last attempt or its age limit."""
        now = utcnow()
        expired = (batch.attempts + 1 >= K.PENDING_MAX_ATTEMPTS
                   or now - batch.created_at >= timedelta(seconds=K.PENDING_MAX_AGE_SECONDS))
        if expired:
            domains = Counter(c.record.domain for c in novel)
            await asyncio.to_thread(self.store.expire_pending, batch, step, domains)
            log.info("pending batch expired id=%d uid=%d records=%d", batch.id, batch.uid, len(novel))
        else:
            retry_at = now + timedelta(seconds=K.PENDING_RETRY_SECONDS * batch.attempts)
            await asyncio.to_thread(self.store.postpone_pending, batch.id, retry_at, checked)
        self.metrics.verifications.labels(outcome="unknown").inc(checked)


def _held_outcome(checks: list[Check]) -> tuple[list[Check], str | None]:
    """The batch outcome of a held batch's checks. The validator held this batch, so its pages may have changed
    since the miner delivered them: a page that disagrees now proves nothing against the miner, and the batch
    cannot pass on this sample either."""
    outcome = batch_outcome(checks)
    if outcome != "fail":
        return checks, outcome
    return [replace(c, outcome="unknown", reason=f"{R.CHANGED_WHILE_HELD}:{c.reason}") if c.outcome == "fail"
            else c for c in checks], "unknown"
