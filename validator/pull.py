"""Pulling from miners: each miner's index, then pages round-robin over the curated domains with new records, within
the step's time and byte budgets, each page judged by the cheap rungs of the ladder as it arrives."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from chain.state import Neuron
from schemas.config import ValidatorConfig
from schemas.index import MinerIndex
from schemas.protocol import RecordsRequest
from schemas.record import utcnow
from validator import constants as K
from validator import reasons as R
from validator.client import MinerClient, MinerError
from validator.ladder import Candidate, Ladder, PageVerdict
from validator.store import ValidatorStore
from validator.verification import Check

log = logging.getLogger(__name__)

# A refused page: the next record does not fit in what is left of the budget (the miner's `page_too_small`).
PAGE_REFUSED = R.http_status(422)


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
    waits: bool = False  # its content ties with a batch waiting for evidence: it waits too (validator/outcome.py)
    # contested URIs (validator/versions.py): re-fetches beyond the random sample, records that may not become rows
    # (key -> reason), confirmed versions that supersede their page's current row
    forced: dict[str, Check] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    versions: set[str] = field(default_factory=set)


@dataclass
class _Reading:
    """The state of one miner's pull across its pages: what is left of the budgets, and its time deadline."""

    cursors: dict[str, int]
    records_left: int
    bytes_left: int
    deadline: float
    budget: asyncio.Timeout | None
    queue: deque[str] = field(default_factory=deque)
    seen: set[str] = field(default_factory=set)
    slowest: float = 0.0
    dropped: bool = False

    def has_room(self) -> bool:
        """Domains left to read, and records and bytes left in the budget for another page."""
        return bool(self.queue) and self.records_left > 0 and self.bytes_left >= 1024

    def judging(self, seconds: float) -> None:
        """Time spent judging a page is given back to the miner: a validator short of CPU must not make it slow."""
        self.deadline += seconds
        if self.budget is not None:
            self.budget.reschedule(self.deadline)


class MinerPuller:
    """Pulls from the miners of one step, concurrently and bounded by the validator's configuration."""

    def __init__(self, *, config: ValidatorConfig, domains: Sequence[str], store: ValidatorStore,
                 client: MinerClient, ladder: Ladder) -> None:
        self.config = config
        self.domains = list(domains)
        self.store = store
        self.client = client
        self.ladder = ladder

    async def pull_all(self, neurons: Sequence[Neuron], deadline: float) -> list[MinerPull]:
        """One MinerPull per neuron (its `error` set when the miner's answer was refused), by `deadline`."""
        gate = asyncio.Semaphore(self.config.concurrency)
        share = max(1024, self.config.step_bytes_budget // max(1, len(neurons)))
        byte_budget = min(self.config.miner_bytes_budget, share)

        async def guarded(neuron: Neuron) -> MinerPull:
            async with gate:
                return await self._guarded(neuron, byte_budget, deadline)

        return list(await asyncio.gather(*(guarded(n) for n in neurons)))

    async def _guarded(self, neuron: Neuron, byte_budget: int, deadline: float) -> MinerPull:
        pull = MinerPull(uid=neuron.uid, hotkey=neuron.hotkey)
        began = time.monotonic()
        timeout = min(self.config.miner_timeout_seconds, deadline - began)
        try:
            if timeout <= 0:  # the pull window closed while the miner waited for a slot: our failure
                raise MinerError("no time left in the step's pull window", reason=R.VALIDATOR_ERROR)
            async with asyncio.timeout(timeout) as budget:
                await self.pull(neuron, pull, byte_budget, began + timeout, budget)
        except TimeoutError:
            pull.error = MinerError("the miner did not finish within its time budget", reason=R.TIMEOUT)
        except MinerError as exc:
            pull.error = exc
        except Exception as exc:  # a bug on our side: skip the miner this step without judging it
            log.exception("validator error while pulling uid=%d", neuron.uid)
            pull.error = MinerError(f"validator error: {exc!r}", reason=R.VALIDATOR_ERROR)
        pull.seconds = time.monotonic() - began
        return pull

    async def pull(self, neuron: Neuron, pull: MinerPull, byte_budget: int, deadline: float,
                   budget: asyncio.Timeout | None = None) -> None:
        """Index, then pages round-robin over the curated domains with new records, within the budgets. The miner's
        time budget (`deadline`, `budget`) counts its answers only: time spent judging them is added back."""
        index = await self.client.index(neuron.axon, neuron.hotkey, deadline=deadline)
        stored = await asyncio.to_thread(self.store.cursors, neuron.uid)
        cursors = self._start_cursors(neuron.uid, index, stored, pull)
        reading = _Reading(cursors=cursors, records_left=self.config.miner_records_budget, bytes_left=byte_budget,
                           deadline=deadline, budget=budget, queue=deque(sorted(cursors)))
        while reading.has_room():
            if reading.slowest and reading.deadline - time.monotonic() < 2 * reading.slowest:
                break  # keep what we have rather than lose the whole miner to the deadline
            await self._page(neuron, pull, reading, reading.queue.popleft())
        pull.drained = not reading.queue and not reading.dropped

    def _start_cursors(self, uid: int, index: MinerIndex, stored: dict[str, int], pull: MinerPull) -> dict[str, int]:
        """The cursor of each curated domain that has records past it (a miner that started over is read again)."""
        newest: dict[str, int] = {}
        for bucket in index.buckets:
            newest[bucket.domain] = max(newest.get(bucket.domain, 0), bucket.newest_seq)
        cursors: dict[str, int] = {}
        for domain in self.domains:
            after = stored.get(domain, 0)
            if after > index.newest_seq:  # the miner started over (a new store): read it again from the start
                log.info("miner cursor reset uid=%d domain=%s cursor=%d newest=%d", uid, domain, after,
                         index.newest_seq)
                after = 0
                pull.cursors[domain] = 0
            if newest.get(domain, 0) > after:
                cursors[domain] = after
        return cursors

    async def _page(self, neuron: Neuron, pull: MinerPull, reading: _Reading, domain: str) -> None:
        """One page of `domain`, judged and added to `pull`; the domain goes back in the queue while more remain."""
        request = RecordsRequest(after_seq=reading.cursors[domain], domain=domain,
                                 limit=min(K.PAGE_RECORDS, reading.records_left),
                                 max_bytes=min(reading.bytes_left, K.PAGE_MAX_BYTES))
        began = time.monotonic()
        try:
            body = await self.client.records(neuron.axon, neuron.hotkey, request, deadline=reading.deadline)
        except MinerError as exc:
            if exc.reason != PAGE_REFUSED:
                raise
            # This domain is done for the step, and what was pulled so far still counts.
            log.debug("page refused uid=%d domain=%s: %s", neuron.uid, domain, exc.message)
            reading.dropped = True
            return
        if reading.budget is not None:
            reading.budget.reschedule(None)  # a validator short of CPU must not make the miner look slow
        judging = time.monotonic()
        verdict = await self.ladder.judge(neuron.uid, body, request, utcnow())
        reading.judging(time.monotonic() - judging)
        reading.slowest = max(reading.slowest, time.monotonic() - began)
        reading.bytes_left -= len(body)
        reading.records_left -= verdict.received
        pull.bytes += len(body)
        _take(pull, verdict, domain, reading.seen)
        reading.cursors[domain] = verdict.next_seq
        if verdict.more and verdict.received:  # "more" with an empty page would only burn the time slot
            reading.queue.append(domain)


def _take(pull: MinerPull, verdict: PageVerdict, domain: str, seen: set[str]) -> None:
    """Add a page's verdict to the pull; a record the miner already delivered this step counts as a duplicate."""
    pull.pulled += verdict.received
    pull.rejected.update(verdict.rejected)
    for candidate in verdict.candidates:
        if candidate.record.content_hash in seen:
            pull.rejected[(domain, R.DUPLICATE_IN_BATCH)] += 1
            continue
        seen.add(candidate.record.content_hash)
        pull.candidates.append(candidate)
    pull.cursors[domain] = verdict.next_seq
