"""One validator step: choose miners, pull and judge concurrently within the step's time and byte budget, assess
novelty across the accepted corpus and the step, verify a sample per miner by re-fetch, then commit each miner's
outcome (records, rejections, cursors, credibility, score) in its own transaction."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from schemas.config import ValidatorConfig
from schemas.domain import DomainCatalog
from schemas.errors import ChainError
from schemas.protocol import RecordsRequest
from schemas.record import utcnow
from scoring import Delivery, NoveltyVerdict, ema, record_value, signature, step_score, update_credibility
from scoring.constants import INITIAL_CREDIBILITY, SCORE_EMA_ALPHA
from validator import constants as K
from validator.client import MinerClient, MinerError
from validator.corpus import Corpus
from validator.ladder import Candidate, Ladder
from validator.metrics import ValidatorMetrics
from validator.precedence import Precedence, late_duplicates
from validator.selection import Round
from validator.store import Accepted, MinerCommit, MinerState, Pending, PendingBatch, ValidatorStore, pack, unpack
from validator.verification import Check, Verifier, batch_outcome, choose_sample, sample_seed

log = logging.getLogger(__name__)

VALIDATOR_ERROR = "validator_error"  # our own failure: the miner is not judged for the step


@dataclass
class MinerPull:
    """What one miner gave in this step, after the cheap rungs of the ladder."""

    uid: int
    hotkey: str
    candidates: list[Candidate] = field(default_factory=list)
    rejected: Counter[tuple[str, str]] = field(default_factory=Counter)
    cursors: dict[str, int] = field(default_factory=dict)
    pulled: int = 0
    bytes: int = 0
    error: MinerError | None = None
    seconds: float = 0.0
    drained: bool = False  # every curated domain was read to the miner's newest record (precedence evidence)
    # filled by the later rungs
    novel: list[Candidate] = field(default_factory=list)
    sample: list[int] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    outcome: str | None = None


@dataclass
class StepReport:
    step: int
    block: int
    miners: list[int]
    pulled: int = 0
    accepted: int = 0
    rejected: int = 0
    failures: dict[int, str] = field(default_factory=dict)
    outcomes: dict[int, str | None] = field(default_factory=dict)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    weights_set: bool = False


class StepRunner:
    """Runs steps for one validator hotkey; all durable state goes through `store` and `corpus`."""

    def __init__(self, *, chain: Any, hotkey: str, config: ValidatorConfig, catalog: DomainCatalog,
                 store: ValidatorStore, corpus: Corpus, client: MinerClient, verifier: Verifier,
                 ladder: Ladder, metrics: ValidatorMetrics, block_time: float = 1.0) -> None:
        self.chain = chain
        self.hotkey = hotkey
        self.config = config
        self.catalog = catalog
        self.domains = [catalog.get(d).id for d in config.domains] if config.domains else catalog.ids()
        self.store = store
        self.corpus = corpus
        self.client = client
        self.verifier = verifier
        self.ladder = ladder
        self.metrics = metrics
        self.block_time = block_time
        self.precedence = Precedence(store)
        self._indexing: asyncio.Task | None = None  # indexing of the last step's accepted rows, in the background

    async def settle(self) -> None:
        """Wait for background indexing (before a snapshot or shutdown)."""
        if self._indexing is not None:
            await self._indexing
            self._indexing = None

    # -- the step ---------------------------------------------------------------------------------------------------

    async def run(self, state: Any) -> StepReport:
        """One step over the miners chosen from `state` (a SubnetState read just before)."""
        started = time.monotonic()
        budget = self.config.step_seconds
        pull_deadline = started + budget * K.PULL_SHARE
        verify_deadline = started + budget * (K.PULL_SHARE + K.VERIFY_SHARE)
        miners = {n.uid: n for n in state.miners()}
        known = await asyncio.to_thread(self.store.sync_miners, {u: n.hotkey for u, n in miners.items()},
                                        INITIAL_CREDIBILITY)
        visiting, chosen = await self._choose(miners, state.block_hash)
        step = await asyncio.to_thread(self.store.next_step, state.block)
        report = StepReport(step=step, block=state.block, miners=chosen)
        log.info("step start step=%d block=%d miners=%s", step, state.block, chosen)

        phases = _Phases()
        pulls = await self._pull_all([miners[u] for u in chosen], step, pull_deadline)
        ok = [p for p in pulls if p.error is None]
        for p in pulls:
            if p.error is not None:
                report.failures[p.uid] = p.error.reason
                await self._refuse(p, known[p.uid], step)
        phases.mark("pull")
        first = await self._novelty(ok)
        late = late_duplicates(((p.hotkey, c.key) for p in ok for c in p.candidates), first)
        for p in ok:
            self._split_novel(p, first)
        phases.mark("novelty")
        seed_hash = await self._seed_hash(state.block, verify_deadline)
        await self._verify_all(ok, seed_hash, step, verify_deadline)
        final = first
        if any(p.novel and p.outcome != "pass" for p in ok):
            final = await self._novelty([p for p in ok if p.outcome == "pass"], novel_only=True)
        await asyncio.to_thread(self.precedence.load)
        await asyncio.to_thread(self.precedence.observe, late)
        final = self.precedence.split_ties(final, {p.uid: p.hotkey for p in ok})  # a tie goes to who was first
        phases.mark("verify")
        await self._commit_all(ok, known, step, final, report)
        await asyncio.to_thread(self.precedence.finish, step, [p.hotkey for p in ok if p.drained],
                                [n.hotkey for n in miners.values()])
        report.pulled = sum(p.pulled for p in pulls)
        await asyncio.to_thread(self.store.set_state, "round", visiting.to_json())
        phases.mark("commit")
        await self._retry_pending(step, max(started + budget, time.monotonic() + K.PENDING_MIN_SECONDS))
        phases.mark("pending")
        report.seconds = time.monotonic() - started
        report.phases = dict(phases.seconds)
        await asyncio.to_thread(self.store.finish_step, step, miners=len(chosen), pulled=report.pulled,
                                accepted=report.accepted, rejected=report.rejected, seconds=report.seconds)
        self.metrics.step_seconds.observe(report.seconds)
        self.metrics.steps.inc()
        log.info("step done step=%d miners=%d pulled=%d accepted=%d rejected=%d failures=%d seconds=%.2f %s", step,
                 len(chosen), report.pulled, report.accepted, report.rejected, len(report.failures), report.seconds,
                 phases)
        return report

    async def _choose(self, miners: dict[int, Any], block_hash: str) -> tuple[Round, list[int]]:
        """The uids of this step; the round is saved when the step ends, so a crash visits the same uids again."""
        visiting = Round.from_json(await asyncio.to_thread(self.store.get_state, "round"))
        return visiting, visiting.take(miners.keys(), self.config.miners_per_step, block_hash)

    # -- pulling ----------------------------------------------------------------------------------------------------

    async def _pull_all(self, neurons: Sequence[Any], step: int, deadline: float) -> list[MinerPull]:
        gate = asyncio.Semaphore(self.config.concurrency)
        share = max(1024, self.config.step_bytes_budget // max(1, len(neurons)))
        byte_budget = min(self.config.miner_bytes_budget, share)

        async def guarded(neuron) -> MinerPull:
            pull = MinerPull(uid=neuron.uid, hotkey=neuron.hotkey)
            async with gate:
                began = time.monotonic()
                timeout = min(self.config.miner_timeout_seconds, deadline - began)
                try:
                    if timeout <= 0:  # the pull window closed while the miner waited for a slot: our failure
                        raise MinerError("no time left in the step's pull window", reason=VALIDATOR_ERROR)
                    async with asyncio.timeout(timeout) as budget:
                        await self._pull(neuron, pull, byte_budget, began + timeout, budget)
                except TimeoutError:
                    pull.error = MinerError("the miner did not finish within its time budget", reason="timeout")
                except MinerError as exc:
                    pull.error = exc
                except Exception as exc:  # a bug on our side: skip the miner this step without judging it
                    log.exception("validator error while pulling uid=%d", neuron.uid)
                    pull.error = MinerError(f"validator error: {exc!r}", reason=VALIDATOR_ERROR)
                pull.seconds = time.monotonic() - began
            return pull

        return list(await asyncio.gather(*(guarded(n) for n in neurons)))

    async def _pull(self, neuron: Any, pull: MinerPull, byte_budget: int, deadline: float,
                    budget: asyncio.Timeout | None = None) -> None:
        """Index, then pages round-robin over the curated domains with new records, within the budgets. The miner's
        time budget (`deadline`, `budget`) counts its answers only: time spent judging them is added back."""
        index = await self.client.index(neuron.axon, neuron.hotkey, deadline=deadline)
        stored = await asyncio.to_thread(self.store.cursors, neuron.uid)
        newest: dict[str, int] = {}
        for bucket in index.buckets:
            newest[bucket.domain] = max(newest.get(bucket.domain, 0), bucket.newest_seq)
        cursors: dict[str, int] = {}
        for domain in self.domains:
            after = stored.get(domain, 0)
            if after > index.newest_seq:  # the miner started over (a new store): read it again from the start
                log.info("miner cursor reset uid=%d domain=%s cursor=%d newest=%d", neuron.uid, domain, after,
                         index.newest_seq)
                after = 0
                pull.cursors[domain] = 0
            if newest.get(domain, 0) > after:
                cursors[domain] = after
        queue = deque(sorted(cursors))
        records_left = self.config.miner_records_budget
        bytes_left = byte_budget
        seen: set[str] = set()
        slowest = 0.0
        dropped = False
        while queue and records_left > 0 and bytes_left >= 1024:
            if slowest and deadline - time.monotonic() < 2 * slowest:
                break  # keep what we have rather than lose the whole miner to the deadline
            domain = queue.popleft()
            request = RecordsRequest(after_seq=cursors[domain], domain=domain,
                                     limit=min(K.PAGE_RECORDS, records_left),
                                     max_bytes=min(bytes_left, K.PAGE_MAX_BYTES))
            began = time.monotonic()
            try:
                body = await self.client.records(neuron.axon, neuron.hotkey, request, deadline=deadline)
            except MinerError as exc:
                if exc.reason != "http_422":
                    raise
                # The next record does not fit in what is left of the budget (`page_too_small`): this domain is
                # done for the step, and what was pulled so far still counts.
                log.debug("page refused uid=%d domain=%s: %s", neuron.uid, domain, exc.message)
                dropped = True
                continue
            if budget is not None:
                budget.reschedule(None)  # a validator short of CPU must not make the miner look slow
            judging = time.monotonic()
            verdict = await self.ladder.judge(neuron.uid, body, request, utcnow())
            deadline += time.monotonic() - judging
            if budget is not None:
                budget.reschedule(deadline)
            slowest = max(slowest, time.monotonic() - began)
            bytes_left -= len(body)
            records_left -= verdict.received
            pull.bytes += len(body)
            pull.pulled += verdict.received
            pull.rejected.update(verdict.rejected)
            for candidate in verdict.candidates:
                if candidate.record.content_hash in seen:
                    pull.rejected[(domain, "duplicate_in_batch")] += 1
                    continue
                seen.add(candidate.record.content_hash)
                pull.candidates.append(candidate)
            cursors[domain] = verdict.next_seq
            pull.cursors[domain] = verdict.next_seq
            if verdict.more and verdict.received:  # "more" with an empty page would only burn the time slot
                queue.append(domain)
        pull.drained = not queue and not dropped

    async def _refuse(self, pull: MinerPull, miner: MinerState, step: int) -> None:
        """A refused answer scores 0 for the step; the cursor stays, so an honest miner's records are pulled again."""
        if pull.error.reason == VALIDATOR_ERROR:
            return
        score = ema(miner.score, 0.0, SCORE_EMA_ALPHA)
        await asyncio.to_thread(self.store.record_miner_failure, pull.uid, step, f"protocol:{pull.error.reason}",
                                score)
        self.metrics.miner_failures.labels(reason=pull.error.reason).inc()
        self.metrics.rejected.labels(reason=f"protocol:{pull.error.reason}").inc()
        log.warning("miner step refused step=%d uid=%d hotkey=%s reason=%s detail=%s seconds=%.2f score=%.5f", step,
                    pull.uid, pull.hotkey, pull.error.reason, pull.error.message, pull.seconds, score)

    # -- novelty ------------------------------------------------------------------------------------------------------

    async def _novelty(self, pulls: Sequence[MinerPull], *, novel_only: bool = False) -> dict[str, NoveltyVerdict]:
        deliveries = [Delivery(key=c.key, miner_uid=p.uid, content_hash=c.record.content_hash, text=c.record.text)
                      for p in pulls for c in (p.novel if novel_only else p.candidates)]
        verdicts = await asyncio.to_thread(self.corpus.assess, deliveries)
        return {v.key: v for v in verdicts}

    def _split_novel(self, pull: MinerPull, verdicts: dict[str, NoveltyVerdict]) -> None:
        """Duplicates of accepted data (and a miner's own near-copies) are rejected; the rest go on to verification."""
        for c in pull.candidates:
            reason = novelty_reason(verdicts[c.key])
            if reason:
                pull.rejected[(c.record.domain, reason)] += 1
            else:
                pull.novel.append(c)
        pull.candidates = []

    # -- verification -----------------------------------------------------------------------------------------------

    async def _seed_hash(self, start_block: int, deadline: float) -> str:
        """The hash of a block produced after every miner answered; if none comes in time, add local entropy."""
        wait_until = min(time.monotonic() + K.SEED_BLOCK_WAIT_BLOCKS * self.block_time,
                         time.monotonic() + max(0.0, (deadline - time.monotonic()) / 4))
        try:
            after = await self.chain.block()
            while True:
                block = await self.chain.block()
                if block > after:
                    return await self.chain.block_hash(block)
                if time.monotonic() >= wait_until:
                    break
                await asyncio.sleep(min(0.1, self.block_time / 4))
            seed = await self.chain.block_hash(after)
        except ChainError as exc:  # the chain is down: the sample must still be unpredictable, so use our own
            log.warning("no block hash for the sample seed (%s); using local entropy", exc)
            seed = f"block-{start_block}"
        log.debug("no new block for the sample seed after the pulls; mixing local entropy")
        return seed + os.urandom(16).hex()

    async def _verify_all(self, pulls: Sequence[MinerPull], seed_hash: str, step: int, deadline: float) -> None:
        async def verify(p: MinerPull) -> None:
            if not p.novel:
                return
            p.sample = choose_sample([c.key for c in p.novel], self.config.sample_size,
                                     sample_seed(seed_hash, p.hotkey, step))
            p.checks = await self.verifier.check_all([p.novel[i].record for i in p.sample],
                                                     deadline - time.monotonic())
            p.outcome = batch_outcome(p.checks)

        await asyncio.gather(*(verify(p) for p in pulls))

    # -- commit -------------------------------------------------------------------------------------------------------

    async def _commit_all(self, pulls: Sequence[MinerPull], known: dict[int, MinerState], step: int,
                          verdicts: dict[str, NoveltyVerdict], report: StepReport) -> None:
        """One transaction per miner; the novelty index hears of rows only once they are committed (it indexes them
        in the background between steps, and before any lookup)."""
        for p in pulls:
            commit = await asyncio.to_thread(self._commit_for, p, known[p.uid], step, verdicts)
            inserted = await asyncio.to_thread(self.store.commit_miner, commit)
            self.corpus.add(inserted)
            self._observe(p, commit, inserted)
            report.outcomes[p.uid] = p.outcome
            report.accepted += len(inserted)
            report.rejected += sum(commit.rejected.values())
        self._indexing = asyncio.create_task(asyncio.to_thread(self.corpus.flush))
        self._indexing.add_done_callback(_log_failure)

    def _commit_for(self, p: MinerPull, miner: MinerState, step: int,
                    verdicts: dict[str, NoveltyVerdict]) -> MinerCommit:
        """The miner's outcome for the step, computed in a worker thread (signatures cost CPU)."""
        outcomes = [c.outcome for c in p.checks]
        credibility = update_credibility(miner.credibility, outcomes) if outcomes else miner.credibility
        commit = MinerCommit(uid=p.uid, hotkey=p.hotkey, step=step, validator_hotkey=self.hotkey,
                             credibility=credibility, score=miner.score, step_score=None, cursors=dict(p.cursors),
                             rejected=Counter(p.rejected), pulled=p.pulled, verification=Counter(outcomes))
        if p.outcome == "unknown":
            commit.hold = Pending(payload=pack([c.to_json() for c in p.novel]), records=len(p.novel),
                                  sample=list(p.sample))
            return commit
        if p.outcome == "fail":
            for c in p.novel:
                commit.rejected[(c.record.domain, "verification_failed")] += 1
        else:
            self._credit(commit, p.novel, verdicts)
        s = step_score(credibility, [commit.value])
        commit.step_score = s
        commit.score = ema(miner.score, s, SCORE_EMA_ALPHA)
        return commit

    def _credit(self, commit: MinerCommit, novel: Sequence[Candidate], verdicts: dict[str, NoveltyVerdict]) -> None:
        """Accept each cluster's representative, credit shares of clusters other miners also delivered."""
        for c in novel:
            verdict = verdicts.get(c.key)
            reason = novelty_reason(verdict) if verdict else "duplicate"
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

    def _observe(self, p: MinerPull, commit: MinerCommit, inserted: list) -> None:
        self.metrics.pulled.inc(p.pulled)
        for (_domain, reason), n in commit.rejected.items():
            self.metrics.rejected.labels(reason=reason).inc(n)
        for outcome, n in commit.verification.items():
            self.metrics.verifications.labels(outcome=outcome).inc(n)
        for domain, n in Counter(a.record.domain for a in commit.accepted[: len(inserted)]).items():
            self.metrics.accepted.labels(domain=domain).inc(n)
        self.metrics.miner_score.labels(uid=str(p.uid)).set(commit.score)
        self.metrics.miner_credibility.labels(uid=str(p.uid)).set(commit.credibility)
        top = ",".join(f"{r}={n}" for (_d, r), n in Counter(commit.rejected).most_common(3))
        log.info("miner step uid=%d hotkey=%s pulled=%d bytes=%d accepted=%d shared=%d rejected=%d top_rejections=%s "
                 "verification=%s checks=%s value=%.4f step_score=%s credibility=%.3f score=%.5f seconds=%.2f",
                 p.uid, p.hotkey, p.pulled, p.bytes, len(inserted), commit.shared, sum(commit.rejected.values()),
                 top or "-", p.outcome or "none", "/".join(f"{c.outcome}:{c.reason}" for c in p.checks) or "-",
                 commit.value, "held" if commit.step_score is None else f"{commit.step_score:.5f}",
                 commit.credibility, commit.score, p.seconds)

    # -- pending verifications ----------------------------------------------------------------------------------------

    async def _retry_pending(self, step: int, deadline: float) -> None:
        """Re-verify held batches that are due; a pass accepts them, a fail rejects them, unknown waits again."""
        batches = await asyncio.to_thread(self.store.due_pending, K.PENDING_PER_STEP, step)
        for batch in batches:
            if deadline - time.monotonic() <= 0:
                return
            await self._resolve(batch, step, deadline)

    async def _resolve(self, batch: PendingBatch, step: int, deadline: float) -> None:
        novel = [Candidate.from_json(x) for x in await asyncio.to_thread(unpack, batch.payload)]
        sample = [novel[i] for i in batch.sample if i < len(novel)]
        checks = await self.verifier.check_all([c.record for c in sample], deadline - time.monotonic())
        outcome = batch_outcome(checks)
        if outcome == "fail":
            # The validator held this batch, so its pages may have changed since the miner delivered them: a page
            # that disagrees now proves nothing against the miner, and the batch cannot pass on this sample either.
            checks = [replace(c, outcome="unknown", reason=f"changed_while_held:{c.reason}") if c.outcome == "fail"
                      else c for c in checks]
            outcome = "unknown"
        now = utcnow()
        if outcome in (None, "unknown"):
            expired = (batch.attempts + 1 >= K.PENDING_MAX_ATTEMPTS
                       or now - batch.created_at >= timedelta(seconds=K.PENDING_MAX_AGE_SECONDS))
            if expired:
                domains = Counter(c.record.domain for c in novel)
                await asyncio.to_thread(self.store.expire_pending, batch, step, domains)
                log.info("pending batch expired id=%d uid=%d records=%d", batch.id, batch.uid, len(novel))
            else:
                retry_at = now + timedelta(seconds=K.PENDING_RETRY_SECONDS * batch.attempts)
                await asyncio.to_thread(self.store.postpone_pending, batch.id, retry_at, len(checks))
            self.metrics.verifications.labels(outcome="unknown").inc(len(checks))
            return
        miner = (await asyncio.to_thread(self.store.miners)).get(batch.uid)
        if miner is None or miner.hotkey != batch.hotkey:
            return  # the slot changed hands; sync_miners already dropped the batch
        pull = MinerPull(uid=batch.uid, hotkey=batch.hotkey, novel=novel, checks=checks, outcome=outcome,
                         sample=batch.sample)
        verdicts = await self._novelty([pull], novel_only=True) if outcome == "pass" else {}
        commit = await asyncio.to_thread(self._commit_for, pull, miner, step, verdicts)
        commit.resolved_pending = batch.id
        inserted = await asyncio.to_thread(self.store.commit_miner, commit)
        self.corpus.add(inserted)
        log.info("pending batch resolved id=%d uid=%d held_at_step=%d outcome=%s records=%d", batch.id, batch.uid,
                 batch.step, outcome, len(novel))
        self._observe(pull, commit, inserted)


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("indexing accepted records failed (kept queued; the next lookup tries again): %r", task.exception())


class _Phases:
    """Wall time of the step's phases, for the step's log line."""

    def __init__(self) -> None:
        self._last = time.monotonic()
        self.seconds: dict[str, float] = {}

    def mark(self, name: str) -> None:
        now = time.monotonic()
        self.seconds[name] = now - self._last
        self._last = now

    def __str__(self) -> str:
        return " ".join(f"{name}_s={s:.2f}" for name, s in self.seconds.items())


def novelty_reason(verdict: NoveltyVerdict) -> str | None:
    """Why a delivery earns nothing for novelty, or None when it is (at least partly) new. Keys with a colon are
    deliveries of this step ("<uid>:<seq>"); the others are accepted records."""
    if verdict.novelty > 0:
        return None
    if verdict.duplicate_of and ":" in verdict.duplicate_of:
        return "duplicate_in_batch"
    return f"duplicate:{verdict.kind}" if verdict.kind else "duplicate"
