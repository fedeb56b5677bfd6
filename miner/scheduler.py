"""Crawl the configured domains continuously: each source on its cadence, one crawl at a time per domain.

A source whose crawl fails (raises, or fetches nothing but errors) waits exponentially longer before its next
try and is reported (a warning log and the `glean_miner_source_*` metrics); it never stops the miner.

The domains can change while it runs (`set_plans`: a miner following the network's desirability picks up a newly
adopted domain and drops an expired one without a restart): a new domain starts at once, a dropped one stops after
the crawl it has in flight, and a domain whose spec changed restarts with fresh source states once its old loop ended.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from miner.constants import BACKOFF_BASE_SECONDS, BACKOFF_MAX_SECONDS
from miner.crawl_state import CrawlState
from miner.metrics import MinerMetrics
from miner.store import AsyncStore
from schemas.domain import DomainSpec
from schemas.record import Record

log = logging.getLogger(__name__)

CrawlFn = Callable[..., Awaitable]  # scrapers.crawl(domain, *, page_budget, sink, sources, ...) -> CrawlStats


@dataclass(frozen=True)
class DomainPlan:
    """How one domain is crawled: every `cadence` seconds, `page_budget` pages split over its sources."""

    spec: DomainSpec
    cadence: float
    page_budget: int

    def budget_per_source(self) -> int:
        return max(1, self.page_budget // len(self.spec.sources))


@dataclass
class SourceState:
    """Next due time and failure streak of one (domain, source)."""

    next_at: float = 0.0
    failures: int = 0
    last_error: str | None = None

    def backoff(self) -> float:
        return min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, self.failures - 1))


@dataclass(frozen=True)
class _Loop:
    """One domain's crawl loop: the plan it runs, the event that ends it, its task."""

    plan: DomainPlan
    halt: asyncio.Event
    task: asyncio.Task


def _task_name(domain: str) -> str:
    return f"crawl:{domain}"


class CrawlScheduler:
    """Runs `crawl` for every (domain, source) when it is due, writing records through the store."""

    def __init__(self, plans: Sequence[DomainPlan], store: AsyncStore, metrics: MinerMetrics, *, crawl: CrawlFn,
                 user_agent: str | None = None, clock: Callable[[], float] = time.monotonic,
                 crawl_state: CrawlState | None = None) -> None:
        self.plans = list(plans)
        # each source's watermark: crawls after the first ask only for what changed (miner/crawl_state.py)
        self.crawl_state = crawl_state or CrawlState()
        self.store = store
        self.metrics = metrics
        self._crawl = crawl
        self._user_agent = user_agent
        self._clock = clock
        self.sources: dict[tuple[str, str], SourceState] = {
            (p.spec.id, s.source_id): SourceState() for p in self.plans for s in p.spec.sources}
        self._loops: dict[str, _Loop] = {}  # running domain loops by domain id
        self._retiring: set[asyncio.Task] = set()  # loops of dropped domains finishing their crawl in flight
        self._stop: asyncio.Event | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Crawl until `stop` is set; cancelling the task stops the crawls in flight."""
        self._stop = stop
        try:
            self._sync_loops()
            await stop.wait()
            for loop in self._loops.values():
                loop.halt.set()
            await asyncio.gather(*self._tasks())
        finally:
            tasks = self._tasks()
            for task in tasks:
                task.cancel()  # a crawl in flight stops with its child process
            await asyncio.gather(*tasks, return_exceptions=True)

    def set_plans(self, plans: Sequence[DomainPlan]) -> None:
        """Crawl exactly these domains from now on (effective at once when running, else when `run` starts)."""
        self.plans = list(plans)
        for plan in self.plans:
            for source in plan.spec.sources:
                self.sources.setdefault((plan.spec.id, source.source_id), SourceState())
        if self._stop is not None and not self._stop.is_set():
            self._sync_loops()

    def domains(self) -> list[str]:
        """The domain ids being crawled, in plan order."""
        return [plan.spec.id for plan in self.plans]

    def running(self) -> list[str]:
        """The domain ids whose loop is alive, a dropped one's included until its crawl in flight ends."""
        names = {task.get_name() for task in self._tasks() if not task.done()}
        return sorted(name.removeprefix(_task_name("")) for name in names)

    def _tasks(self) -> list[asyncio.Task]:
        return [loop.task for loop in self._loops.values()] + list(self._retiring)

    def _sync_loops(self) -> None:
        wanted = {plan.spec.id: plan for plan in self.plans}
        for domain, loop in list(self._loops.items()):
            if domain not in wanted or wanted[domain] != loop.plan:
                self._retire(self._loops.pop(domain))
        for domain, plan in wanted.items():
            if domain not in self._loops:
                previous = next((t for t in self._retiring if t.get_name() == _task_name(domain)), None)
                halt = asyncio.Event()
                task = asyncio.create_task(self._domain_loop(plan, halt, previous), name=_task_name(domain))
                self._loops[domain] = _Loop(plan, halt, task)
                log.info("domain started domain=%s sources=%d", domain, len(plan.spec.sources))

    def _retire(self, loop: _Loop) -> None:
        loop.halt.set()
        self._retiring.add(loop.task)
        loop.task.add_done_callback(self._retiring.discard)
        log.info("domain stopping domain=%s (after its crawl in flight)", loop.plan.spec.id)

    async def _domain_loop(self, plan: DomainPlan, halt: asyncio.Event, previous: asyncio.Task | None) -> None:
        if previous is not None:  # one crawl at a time per domain: the old spec's loop finishes first
            await asyncio.wait({previous})
            for source in plan.spec.sources:
                self.sources[(plan.spec.id, source.source_id)] = SourceState()
        while not halt.is_set():
            for source in plan.spec.sources:
                if halt.is_set():
                    return
                state = self.sources[(plan.spec.id, source.source_id)]
                if state.next_at <= self._clock():
                    await self.crawl_source(plan, source.source_id)
            due = min(self.sources[(plan.spec.id, s.source_id)].next_at for s in plan.spec.sources)
            try:
                await asyncio.wait_for(halt.wait(), timeout=max(0.05, due - self._clock()))
            except TimeoutError:
                pass

    async def crawl_source(self, plan: DomainPlan, source_id: str) -> None:
        """One crawl of one source; its outcome sets when the source is due again."""
        domain = plan.spec.id
        state = self.sources[(domain, source_id)]
        started = self._clock()
        since = self.crawl_state.since(domain, source_id)
        incremental = {"since": since} if since is not None else {}  # a crawl fn without `since` still works
        try:
            stats = await self._crawl(plan.spec, page_budget=plan.budget_per_source(), sink=self._sink_for(domain),
                                      sources=[source_id], user_agent=self._user_agent, **incremental)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any scraper failure is this source's problem, never the miner's
            self._failed(plan, source_id, started, f"{type(exc).__name__}: {exc}")
            return
        self._count(domain, source_id, stats)
        if stats.pages == 0 and sum(stats.errors.values()) > 0:
            worst = max(stats.errors, key=stats.errors.get)
            self._failed(plan, source_id, started, f"no page fetched; {worst} x{stats.errors[worst]}")
            return
        if state.failures:
            log.info("source recovered domain=%s source=%s after_failures=%d", domain, source_id, state.failures)
        state.failures, state.last_error, state.next_at = 0, None, started + plan.cadence
        self.crawl_state.record(domain, source_id, full=since is None, watermark=getattr(stats, "watermark", None))
        self.metrics.source_backoff.labels(domain=domain, source=source_id).set(0)
        log.info("crawl done domain=%s source=%s since=%s pages=%d records=%d errors=%d seconds=%.1f", domain,
                 source_id, since.isoformat() if since else "full", stats.pages, stats.records,
                 sum(stats.errors.values()), stats.seconds)

    def _failed(self, plan: DomainPlan, source_id: str, started: float, reason: str) -> None:
        domain = plan.spec.id
        state = self.sources[(domain, source_id)]
        state.failures += 1
        state.last_error = reason
        wait = state.backoff()
        state.next_at = self._clock() + wait
        self.metrics.source_failures.labels(domain=domain, source=source_id).inc()
        self.metrics.source_backoff.labels(domain=domain, source=source_id).set(wait)
        log.warning("crawl failed domain=%s source=%s failures=%d retry_in=%.0fs reason=%s", domain, source_id,
                    state.failures, wait, reason)

    def _count(self, domain: str, source_id: str, stats) -> None:
        self.metrics.crawl_pages.labels(domain=domain, source=source_id).inc(stats.pages)
        for reason, n in stats.errors.items():
            self.metrics.crawl_errors.labels(domain=domain, source=source_id, reason=reason).inc(n)

    def _sink_for(self, domain: str) -> Callable[[list[Record]], Awaitable[None]]:
        async def sink(batch: list[Record]) -> None:
            if not batch:
                return
            result = await self.store.add(batch)
            self.metrics.records_ingested.labels(domain=domain).inc(result.inserted)
            self.metrics.records_duplicate.inc(result.duplicates)
            self.metrics.records_pruned.inc(result.pruned)

        return sink
