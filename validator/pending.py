"""Held batches: a miner's records whose sample could not be checked (outcome unknown) wait in the store (one batch
per miner) and their sampled records only are verified again in later steps. The validator held the batch, so a
page that is gone or disagrees now proves nothing against the miner (unknown); a batch that resolves is paid as any
other (scoring/evidence.py), one still unknown waits again, and batches out of attempts or too old expire in SQL.
A held batch's new versions of accepted pages are judged when it resolves, by its sample's re-fetch only (it has
waited already): a version that did not pass then is rejected, and one page gives one row (validator/versions.py)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
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
from validator.pull import MinerPull
from validator.store import PendingBatch, ValidatorStore, unpack
from validator.verification import Check, Verifier, batch_outcome
from validator.versions import contested, one_per_page, page_of, settle_held

log = logging.getLogger(__name__)

Novelty = Callable[[Sequence[MinerPull]], Awaitable[dict[str, NoveltyVerdict]]]


class PendingResolver:
    """Re-verifies held batches that are due, within what is left of a step."""

    def __init__(self, *, hotkey: str, store: ValidatorStore, corpus: Corpus, verifier: Verifier,
                 metrics: ValidatorMetrics, novelty: Novelty, catalog: DomainCatalog) -> None:
        self.hotkey = hotkey
        self.store = store
        self.corpus = corpus
        self.verifier = verifier
        self.metrics = metrics
        self.novelty = novelty  # the step's novelty of the pulls' novel records, against the corpus
        self.catalog = catalog

    async def retry_due(self, step: int, deadline: float) -> None:
        """Expire what is out of attempts or too old, then re-verify held batches that are due."""
        cutoff = utcnow() - timedelta(seconds=K.PENDING_MAX_AGE_SECONDS)
        for uid, records in await asyncio.to_thread(self.store.expire_pending, step, K.PENDING_MAX_ATTEMPTS, cutoff):
            log.info("pending batch expired uid=%d records=%d", uid, records)
        batches = await asyncio.to_thread(self.store.due_pending, K.PENDING_PER_STEP, step)
        for batch in batches:
            if deadline - time.monotonic() <= 0:
                return
            await self.resolve(batch, step, deadline)

    async def resolve(self, batch: PendingBatch, step: int, deadline: float) -> None:
        """Check one held batch's sampled records again and commit or postpone it."""
        novel = [Candidate.from_json(x) for x in await asyncio.to_thread(unpack, batch.payload)]
        sample = [i for i in batch.sample if i < len(novel)]
        checks = await self.verifier.check_all([novel[i].record for i in sample], deadline - time.monotonic())
        checks, outcome = _held_outcome(checks)
        if outcome in (None, "unknown"):
            await self._postpone(batch, len(checks))
            return
        miner = (await asyncio.to_thread(self.store.miners)).get(batch.uid)
        if miner is None or miner.hotkey != batch.hotkey:
            return  # the slot changed hands; sync_miners already dropped the batch
        pull = MinerPull(uid=batch.uid, hotkey=batch.hotkey, novel=novel, checks=checks, outcome=outcome,
                         sample=sample)
        verdicts = await self.novelty([pull]) if outcome != "fail" else {}
        current = await asyncio.to_thread(self.store.current_versions, [page_of(c) for c in novel])
        contests = contested([pull], current)
        settle_held(pull, contests)
        one_per_page([pull], contests, verdicts, sampled_checks(pull), f"held-{batch.id}")
        history = (await asyncio.to_thread(self.store.evidence, [batch.uid])).get(batch.uid, {})
        commit = await asyncio.to_thread(commit_for, pull, miner, step, self.hotkey, verdicts, history)
        await asyncio.to_thread(attach, commit, pull, self.catalog, held=True)
        if commit.waits:  # too little evidence yet: keep its checks, hold the batch for another attempt
            await asyncio.to_thread(self.store.commit_miner, commit)
            await self._postpone(batch, 0)
            return
        commit.resolved_pending = batch.id
        inserted = await asyncio.to_thread(self.store.commit_miner, commit)
        self.corpus.add(inserted)
        log.info("pending batch resolved id=%d uid=%d held_at_step=%d outcome=%s records=%d", batch.id, batch.uid,
                 batch.step, outcome, len(novel))
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
