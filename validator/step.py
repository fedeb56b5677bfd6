"""One validator step: choose miners, pull and judge concurrently within the step's time and byte budget, assess
novelty across the accepted corpus and the step, verify a sample per miner by re-fetch, then commit each miner's
outcome (records, rejections, cursors, credibility, score) in its own transaction.

The parts live beside it: pulling from one miner (validator/pull.py), a miner's outcome (validator/outcome.py),
held batches (validator/pending.py), which records are re-fetched (validator/sampling.py), new versions of accepted
pages (validator/versions.py: decided after the re-fetches, before the final novelty), the facts kept per row
(validator/facts.py)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from chain.protocol import Chain
from chain.state import Neuron, SubnetState
from schemas.config import ValidatorConfig
from schemas.domain import DomainCatalog
from schemas.errors import ChainError
from scoring import Delivery, NoveltyVerdict, ema
from scoring.constants import INITIAL_CREDIBILITY, SCORE_EMA_ALPHA
from validator import constants as K
from validator import reasons as R
from validator.client import MinerClient
from validator.corpus import Corpus
from validator.delivery import SEPARATOR
from validator.facts import attach, sampled_checks
from validator.ladder import Candidate, Ladder
from validator.metrics import ValidatorMetrics
from validator.outcome import (
    RESOLVED,
    UNCHECKED,
    PayPlan,
    commit_for,
    observe,
    pay_plan,
    split_novel,
    tied_with_held,
    tied_with_waiting,
)
from validator.pending import PendingResolver
from validator.precedence import Delivered, FirstDeliveries, Precedence, late_duplicates
from validator.pull import MinerPull, MinerPuller
from validator.sampling import plan, plan_forced, used_budget
from validator.selection import Round
from validator.store import MinerState, ValidatorStore, unpack
from validator.verification import Verifier, batch_outcome
from validator.versions import (
    VERSION,
    Contest,
    VersionBook,
    closest_represents,
    contested,
    edits_of_own_page,
    near_own_pages,
    one_per_page,
    page_of,
)

log = logging.getLogger(__name__)


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
    checks: dict[int, dict[str, int]] = field(default_factory=dict)  # uid -> check outcome -> count
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    weights_set: bool = False

    @property
    def unverified(self) -> int:
        """Sampled records of the step nobody could check (gone, not of their source's shape, changed)."""
        return sum(c.get("unverified", 0) for c in self.checks.values())


class StepRunner:
    """Runs steps for one validator hotkey; all durable state goes through `store` and `corpus`."""

    def __init__(self, *, chain: Chain, hotkey: str, config: ValidatorConfig, catalog: DomainCatalog,
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
        self.puller = MinerPuller(config=config, domains=self.domains, store=store, client=client, ladder=ladder)
        self.pending = PendingResolver(hotkey=hotkey, store=store, corpus=corpus, verifier=verifier,
                                       metrics=metrics, novelty=lambda pulls: self._novelty(pulls, novel_only=True),
                                       catalog=catalog, split_ties=self._split_ties)
        self.versions = VersionBook()
        self._indexing: asyncio.Task | None = None  # indexing of the last step's accepted rows, in the background
        self._evidence: dict[int, dict[str, list[bool]]] = {}  # the step's miners' checks so far, by source

    def use_catalog(self, catalog: DomainCatalog, domains: Sequence[str]) -> None:
        """From the next step on, pull and score `domains` (the network's list), judged by `catalog`."""
        self.catalog = catalog
        self.domains = list(domains)
        self.puller.domains = list(domains)
        self.pending.catalog = catalog
        self.verifier.catalog = catalog
        self.ladder.use_catalog(catalog)

    async def settle(self) -> None:
        """Wait for background indexing (before a snapshot or shutdown)."""
        if self._indexing is not None:
            await self._indexing
            self._indexing = None

    def _split_ties(self, verdicts: Mapping[str, NoveltyVerdict], hotkeys: Mapping[int, str],
                    first: Mapping[str, Delivered]) -> dict[str, NoveltyVerdict]:
        """Ties split as a step splits them: to the earliest deliverer, then by precedence (read from the store)."""
        self.precedence.load()
        return self.precedence.split_ties(verdicts, hotkeys, first)

    # -- the step ---------------------------------------------------------------------------------------------------

    async def run(self, state: SubnetState) -> StepReport:
        """One step over the miners chosen from `state` (read just before)."""
        started = time.monotonic()
        budget = self.config.step_seconds
        miners = {n.uid: n for n in state.miners()}
        known = await asyncio.to_thread(self.store.sync_miners, {u: n.hotkey for u, n in miners.items()},
                                        INITIAL_CREDIBILITY)
        visiting, chosen = await self._choose(miners, state.block_hash)
        step = await asyncio.to_thread(self.store.next_step, state.block)
        report = StepReport(step=step, block=state.block, miners=chosen)
        log.info("step start step=%d block=%d miners=%s", step, state.block, chosen)

        phases = _Phases()
        pulls = await self.puller.pull_all([miners[u] for u in chosen], started + budget * K.PULL_SHARE)
        ok = await self._refuse_failed(pulls, known, step, report)
        phases.mark("pull")
        verdicts = await self._judge(ok, state, step, started + budget * (K.PULL_SHARE + K.VERIFY_SHARE), phases)
        await self._commit_all(ok, known, step, verdicts, report)
        await asyncio.to_thread(self.precedence.finish, step, [p.hotkey for p in ok if p.drained],
                                [n.hotkey for n in miners.values()])
        await asyncio.to_thread(self.store.forget_first_deliveries_except, [n.hotkey for n in miners.values()])
        report.pulled = sum(p.pulled for p in pulls)
        await asyncio.to_thread(self.store.set_state, "round", visiting.to_json())
        phases.mark("commit")
        await self.pending.retry_due(step, max(started + budget, time.monotonic() + K.PENDING_MIN_SECONDS))
        phases.mark("pending")
        await self._finish(report, started, phases)
        return report

    async def _judge(self, ok: Sequence[MinerPull], state: SubnetState, step: int, verify_deadline: float,
                     phases: _Phases) -> dict[str, NoveltyVerdict]:
        """Novelty across the corpus and the step, verification of each miner's sample, then the final verdicts
        (novelty again without the batches that did not pass; ties split by precedence)."""
        raw = await self._novelty(ok)
        # Precedence learns from every near copy of accepted data, edits of a page included: a copier re-serving
        # pages under their own URIs is late however its copies are judged.
        late = late_duplicates(((p.hotkey, c.key) for p in ok for c in p.candidates), raw)
        first = await self._edits([c for p in ok for c in p.candidates], raw)
        for p in ok:
            split_novel(p, first)
        firsts = await asyncio.to_thread(FirstDeliveries.load, self.store, step,
                                         (c.record.content_hash for p in ok for c in p.novel), K.FIRST_DELIVERY_STEPS)
        delivered = {c.key: firsts.of(p.hotkey, c.record.content_hash) for p in ok for c in p.novel}
        phases.mark("novelty")
        seed_hash = await self._seed_hash(state.block, verify_deadline)
        contests = await self._verify_all(ok, seed_hash, step, verify_deadline)
        version_waits = {p.uid for p in ok
                         if p.outcome in RESOLVED and self.versions.settle(p, contests, sampled_checks(p), step)}
        plans = {p.uid: pay_plan(p, self._evidence.get(p.uid, {})) for p in ok if p.outcome in RESOLVED}
        contenders = {p.uid: plans[p.uid].contenders(p.novel) if p.uid in plans else set() for p in ok}
        final = first
        if any(len(contenders[p.uid]) < len(p.novel) for p in ok):  # what will not be paid cannot take a record
            final = await self._novelty(ok, keys=set().union(*contenders.values()))
        final = await self._edits([c for p in ok for c in p.novel], final)
        await asyncio.to_thread(self.precedence.load)
        await asyncio.to_thread(self.precedence.observe, late)
        # a tie goes to who was first: to the earliest deliverer, then by precedence
        final = self.precedence.split_ties(final, {p.uid: p.hotkey for p in ok}, delivered)
        final = closest_represents(final, contests, self.versions.checks)  # a page's row is its closest text
        # a record whose exact content another miner delivered in an earlier step, still undecided and not judged
        # here (its batch waits or is held, or it was not visited), waits for it; one that failed decides nothing
        earlier = firsts.waiting_for(
            ((p.uid, p.hotkey, delivered[c.key]) for p in ok for c in p.novel if c.key in contenders[p.uid]),
            judged={(p.hotkey, c.record.content_hash) for p in ok for c in p.novel
                    if c.key in contenders[p.uid] or p.outcome == "fail"})
        if earlier:
            log.info("batches wait for earlier deliveries of their content uids=%s first=%s", sorted(earlier),
                     sorted(set(earlier.values())))
        blocked = set(earlier)
        tied = tied_with_waiting(ok, plans, final, version_waits | blocked, delivered) \
            | await self._tied_with_held(ok, plans, step, delivered)
        for p in ok:
            p.waits = p.uid in tied or p.uid in version_waits or p.uid in blocked
        one_per_page(ok, contests, final, self.versions.checks, seed_hash)
        phases.mark("verify")
        return final

    async def _finish(self, report: StepReport, started: float, phases: _Phases) -> None:
        report.seconds = time.monotonic() - started
        report.phases = dict(phases.seconds)
        await asyncio.to_thread(self.store.finish_step, report.step, miners=len(report.miners), pulled=report.pulled,
                                accepted=report.accepted, rejected=report.rejected, seconds=report.seconds)
        self.metrics.step_seconds.observe(report.seconds)
        self.metrics.steps.inc()
        log.info("step done step=%d miners=%d pulled=%d accepted=%d rejected=%d unverified=%d failures=%d "
                 "seconds=%.2f %s", report.step, len(report.miners), report.pulled, report.accepted, report.rejected,
                 report.unverified, len(report.failures), report.seconds, phases)

    async def _choose(self, miners: Mapping[int, Neuron], block_hash: str) -> tuple[Round, list[int]]:
        """The uids of this step; the round is saved when the step ends, so a crash visits the same uids again."""
        visiting = Round.from_json(await asyncio.to_thread(self.store.get_state, "round"))
        return visiting, visiting.take(miners.keys(), self.config.miners_per_step, block_hash)

    # -- refused answers --------------------------------------------------------------------------------------------

    async def _refuse_failed(self, pulls: Sequence[MinerPull], known: Mapping[int, MinerState], step: int,
                             report: StepReport) -> list[MinerPull]:
        """Record each refused answer; the pulls that succeeded go on."""
        for p in pulls:
            if p.error is not None:
                report.failures[p.uid] = p.error.reason
                await self._refuse(p, known[p.uid], step)
        return [p for p in pulls if p.error is None]

    async def _refuse(self, pull: MinerPull, miner: MinerState, step: int) -> None:
        """A refused answer scores 0 for the step; the cursor stays, so an honest miner's records are pulled again."""
        if pull.error.reason == R.VALIDATOR_ERROR:
            return
        score = ema(miner.score, 0.0, SCORE_EMA_ALPHA)
        stored = R.protocol(pull.error.reason)
        await asyncio.to_thread(self.store.record_miner_failure, pull.uid, step, stored, score)
        self.metrics.miner_failures.labels(reason=pull.error.reason).inc()
        self.metrics.rejected.labels(reason=stored).inc()
        log.warning("miner step refused step=%d uid=%d hotkey=%s reason=%s detail=%s seconds=%.2f score=%.5f", step,
                    pull.uid, pull.hotkey, pull.error.reason, pull.error.message, pull.seconds, score)

    # -- novelty ------------------------------------------------------------------------------------------------------

    async def _novelty(self, pulls: Sequence[MinerPull], *, novel_only: bool = False,
                       keys: set[str] | None = None) -> dict[str, NoveltyVerdict]:
        """Novelty of the pulls' candidates (`novel_only`: their novel records; `keys`: only those novel records)."""
        deliveries = [Delivery(key=c.key, miner_uid=p.uid, content_hash=c.record.content_hash, text=c.record.text)
                      for p in pulls for c in (p.novel if novel_only or keys is not None else p.candidates)
                      if keys is None or c.key in keys]
        verdicts = await asyncio.to_thread(self.corpus.assess, deliveries)
        return {v.key: v for v in verdicts}

    async def _tied_with_held(self, pulls: Sequence[MinerPull], plans: Mapping[int, PayPlan], step: int,
                              delivered: Mapping[str, Delivered]) -> set[int]:
        """uids whose records share their content with a record of another miner's batch held in the last
        K.HELD_TIE_STEPS steps (K.HELD_TIE_STEPS says why), unless they delivered its exact content in an earlier step
        (`delivered`): judged by the step's novelty check over both."""
        batches = await asyncio.to_thread(self.store.held_since, step - K.HELD_TIE_STEPS)
        if not batches or not plans:
            return set()
        held: dict[str, int] = {}
        deliveries = [Delivery(key=c.key, miner_uid=p.uid, content_hash=c.record.content_hash, text=c.record.text)
                      for p in pulls if p.uid in plans for c in p.novel if c.key in plans[p.uid].contenders(p.novel)]
        unpacked = [(batch, [Candidate.from_json(data) for data in await asyncio.to_thread(unpack, batch.payload)])
                    for batch in batches]
        firsts = await asyncio.to_thread(FirstDeliveries.load, self.store, step,
                                         (c.record.content_hash for _, candidates in unpacked for c in candidates),
                                         K.FIRST_DELIVERY_STEPS)
        first = dict(delivered)
        for batch, candidates in unpacked:
            for c in candidates:
                key = f"held{batch.id}{SEPARATOR}{c.key}"
                held[key] = batch.uid
                first[key] = firsts.of(batch.hotkey, c.record.content_hash, batch.step)
                deliveries.append(Delivery(key=key, miner_uid=batch.uid, content_hash=c.record.content_hash,
                                           text=c.record.text))
        verdicts = {v.key: v for v in await asyncio.to_thread(self.corpus.assess, deliveries)}
        tied = tied_with_held(pulls, plans, verdicts, held, first)
        if tied:
            log.info("batches wait for held ones they share content with uids=%s held=%s", sorted(tied),
                     sorted({batch.uid for batch in batches}))
        return tied

    async def _edits(self, candidates: Sequence[Candidate], verdicts: dict[str, NoveltyVerdict],
                     ) -> dict[str, NoveltyVerdict]:
        """Near duplicates of their own page's current row become edits of it (validator/versions.py)."""
        pages = near_own_pages(candidates, verdicts)
        if not pages:
            return verdicts
        current = await asyncio.to_thread(self.store.current_versions, pages)
        held = [str(current[page][0]) for page in pages if page in current]
        texts = await asyncio.to_thread(self.corpus.texts, held) if held else {}
        edited, similar = edits_of_own_page(candidates, verdicts, current, texts)
        self.versions.edits.update(similar)
        return edited

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

    async def _verify_all(self, pulls: Sequence[MinerPull], seed_hash: str, step: int,
                          deadline: float) -> dict[str, Contest]:
        """Re-fetch each miner's contested records (new versions of accepted pages, rivals) within a share of each
        kind's budget, its random sample (per source, √n of its novel records) within the rest, then contested
        records still unplanned within what is left. A record both contested and sampled is fetched once."""
        self._evidence = await asyncio.to_thread(self.store.evidence, [p.uid for p in pulls])
        groups = {p.uid: _keys_by_source(p) for p in pulls if p.novel}
        current = await asyncio.to_thread(self.store.current_versions, [page_of(c) for p in pulls for c in p.novel])
        contests = contested(pulls, current)
        first = plan_forced(self._contested_by_source(pulls, contests, {}), {}, K.VERSION_BUDGET_SHARE)
        spent = used_budget(first, groups)
        chosen = plan(groups, seed_hash, step, self.config.sample_size, {p.uid: p.hotkey for p in pulls},
                      self._evidence, spent)
        used = Counter(spent) + Counter(used_budget(chosen, groups))
        taken = _joined(first, chosen)
        later = plan_forced(self._contested_by_source(pulls, contests, taken), used)
        # Edits of accepted pages last, from what versions, rivals and the sample left: near copies under accepted
        # URIs (a spammer's) can never take a re-fetch from a rewritten page's version.
        used += Counter(used_budget(later, groups))
        edits = plan_forced(self._contested_by_source(pulls, contests, _joined(taken, later), edits=True), used)
        forced = _joined(first, later, edits)

        async def verify(p: MinerPull) -> None:
            wanted = set(chosen.get(p.uid, ()))
            extra = set(forced.get(p.uid, ())) - wanted
            p.sample = [i for i, c in enumerate(p.novel) if c.key in wanted]
            more = [c for c in p.novel if c.key in extra]
            checks = await self.verifier.check_all([p.novel[i].record for i in p.sample] + [c.record for c in more],
                                                   deadline - time.monotonic())
            p.checks = checks[:len(p.sample)]
            p.forced = {c.key: check for c, check in zip(more, checks[len(p.sample):], strict=True)}
            # no record re-fetched (the step's re-fetch budget went to other miners): judged on its evidence so far
            p.outcome = batch_outcome(p.checks) or UNCHECKED

        self.verifier.forget()
        await asyncio.gather(*(verify(p) for p in pulls if p.novel))
        for p in pulls:  # a contested text no re-fetch of its own reached is judged by its page's re-fetch, if any
            sampled = {p.novel[i].key for i in p.sample}
            for c in p.novel:
                if c.key in contests and c.key not in p.forced and c.key not in sampled:
                    if (seen := self.verifier.judged_by_seen(c.record)) is not None:
                        p.forced[c.key] = seen
        return contests

    def _contested_by_source(self, pulls: Sequence[MinerPull], contests: dict[str, Contest],
                             chosen: dict[int, list[str]], *, edits: bool = False) -> dict[int, dict[str, list[str]]]:
        """uid -> source -> its contested keys the random sample did not take and no earlier re-fetch confirmed:
        versions first (a batch waits for them), then rivals, oldest first; with `edits`, the edits of accepted pages
        (near copies of their page's current row) instead, which the other calls leave out."""
        wanted: dict[int, dict[str, list[str]]] = {}
        for p in pulls:
            taken = set(chosen.get(p.uid, ()))
            keys = [c for c in p.novel if c.key in contests and c.key not in taken
                    and (c.key in self.versions.edits) == edits and not self.versions.remembers(c)]
            for c in sorted(keys, key=lambda c: (contests[c.key].kind != VERSION, c.seq)):
                wanted.setdefault(p.uid, {}).setdefault(c.record.source, []).append(c.key)
        return wanted

    # -- commit -------------------------------------------------------------------------------------------------------

    async def _commit_all(self, pulls: Sequence[MinerPull], known: Mapping[int, MinerState], step: int,
                          verdicts: dict[str, NoveltyVerdict], report: StepReport) -> None:
        """One transaction per miner (`Corpus.commit`): the memory index hears of rows once they are committed (it
        indexes them in the background between steps, and before any lookup); the shared one claims them in the
        transaction, and a row another process took meanwhile is rejected as a duplicate."""
        holding = await asyncio.to_thread(self.store.pending_records)
        for p in pulls:
            commit = await asyncio.to_thread(self._commit_of, p, known[p.uid], step, verdicts, p.uid in holding)
            if commit.waits:
                p.drained = False  # its records come again: no evidence yet that it delivered them late
            inserted = await asyncio.to_thread(self.corpus.commit, commit)
            observe(self.metrics, p, commit, inserted)
            report.outcomes[p.uid] = p.outcome
            report.checks[p.uid] = dict(commit.verification)
            report.accepted += len(inserted)
            report.rejected += sum(commit.rejected.values())
        self.versions.forget(step)
        self._indexing = asyncio.create_task(asyncio.to_thread(self.corpus.flush))
        self._indexing.add_done_callback(_log_failure)

    def _commit_of(self, p: MinerPull, miner: MinerState, step: int, verdicts: dict[str, NoveltyVerdict],
                   holding: bool):
        """The miner's outcome with the facts of its rows (in a worker thread: signatures and licences cost CPU)."""
        commit = commit_for(p, miner, step, self.hotkey, verdicts, self._evidence.get(p.uid, {}), holding=holding)
        attach(commit, p, self.catalog, remembered=self.versions.checks)
        return commit


def _keys_by_source(p: MinerPull) -> dict[str, list[str]]:
    """source -> the keys of the miner's novel records of that source."""
    found: dict[str, list[str]] = {}
    for c in p.novel:
        found.setdefault(c.record.source, []).append(c.key)
    return found


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


def _joined(*plans: Mapping[int, Sequence[str]]) -> dict[int, list[str]]:
    """uid -> the keys of every plan, in the plans' order."""
    out: dict[int, list[str]] = defaultdict(list)
    for chosen in plans:
        for uid, keys in chosen.items():
            out[uid].extend(keys)
    return dict(out)
