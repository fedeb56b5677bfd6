"""The crawl scheduler: cadence, exponential backoff of a failing source, metrics, records into the store."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from miner.constants import BACKOFF_BASE_SECONDS
from miner.metrics import MinerMetrics
from miner.scheduler import CrawlScheduler, DomainPlan
from miner.store import AsyncStore, Store
from schemas import DomainSpec
from tests.miner.support import make_record

SPEC = DomainSpec.model_validate({
    "id": "test-domain", "title": "Test", "relevance": {"keywords": {"data": 1.0}},
    "sources": [{"kind": "web", "id": "pages"}, {"kind": "feed", "id": "news"}],
})


def _stats(pages: int = 1, records: int = 0, errors: dict | None = None):
    return SimpleNamespace(pages=pages, records=records, errors=errors or {}, robots_disallowed=0, seconds=0.01)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def store(tmp_path):
    s = AsyncStore(Store.open(f"sqlite:///{tmp_path / 'm.sqlite'}"))
    yield s
    await s.close()


def _scheduler(store, crawl, clock=None, cadence=60.0):
    return CrawlScheduler([DomainPlan(SPEC, cadence, 10)], store, MinerMetrics(), crawl=crawl,
                          clock=clock or FakeClock())


async def test_a_failing_source_waits_twice_as_long_after_each_failure(store):
    async def broken(*_args, **_kwargs):
        raise ConnectionError("site down")

    clock = FakeClock()
    scheduler = _scheduler(store, broken, clock)
    waits = []
    for _ in range(4):
        await scheduler.crawl_source(scheduler.plans[0], "pages")
        waits.append(scheduler.sources[("test-domain", "pages")].next_at - clock.now)
    assert waits == [BACKOFF_BASE_SECONDS * f for f in (1, 2, 4, 8)]
    assert scheduler.metrics.source_failures.labels(domain="test-domain", source="pages")._value.get() == 4


async def test_a_recovered_source_returns_to_its_cadence(store):
    outcomes = [ConnectionError("down"), _stats()]

    async def flaky(*_args, **_kwargs):
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    clock = FakeClock()
    scheduler = _scheduler(store, flaky, clock, cadence=600.0)
    await scheduler.crawl_source(scheduler.plans[0], "pages")
    await scheduler.crawl_source(scheduler.plans[0], "pages")
    state = scheduler.sources[("test-domain", "pages")]
    assert (state.failures, state.next_at - clock.now) == (0, 600.0)


async def test_a_crawl_that_fetches_nothing_but_errors_counts_as_a_failure(store):
    async def unreachable(*_args, **_kwargs):
        return _stats(pages=0, errors={"connection": 3, "dns": 1})

    scheduler = _scheduler(store, unreachable)
    await scheduler.crawl_source(scheduler.plans[0], "news")
    state = scheduler.sources[("test-domain", "news")]
    assert state.failures == 1 and "connection" in state.last_error
    errors = scheduler.metrics.crawl_errors.labels(domain="test-domain", source="news", reason="connection")
    assert errors._value.get() == 3


async def test_crawled_batches_are_stored_and_counted(store):
    calls = []

    async def crawl(spec, *, page_budget, sink, sources, user_agent):
        calls.append((spec.id, sources, page_budget))
        await sink([make_record(1, domain="test-domain"), make_record(2, domain="test-domain")])
        await sink([make_record(2, domain="test-domain")])
        return _stats(pages=3, records=3, errors={"http_404": 1})

    scheduler = _scheduler(store, crawl)
    await scheduler.crawl_source(scheduler.plans[0], "pages")
    assert calls == [("test-domain", ["pages"], 5)]
    assert store.store.total_count == 2
    assert scheduler.metrics.records_ingested.labels(domain="test-domain")._value.get() == 2
    assert scheduler.metrics.records_duplicate._value.get() == 1


async def test_one_failing_source_does_not_stop_the_others(store):
    healthy_runs = []
    stop = asyncio.Event()

    async def crawl(spec, *, page_budget, sink, sources, user_agent):
        if sources == ["news"]:
            raise RuntimeError("feed parser crashed")
        healthy_runs.append(sources)
        if len(healthy_runs) == 3:
            stop.set()
        return _stats()

    scheduler = CrawlScheduler([DomainPlan(SPEC, 0.01, 10)], store, MinerMetrics(), crawl=crawl)
    await asyncio.wait_for(scheduler.run(stop), timeout=20)
    assert healthy_runs == [["pages"]] * 3
    assert scheduler.sources[("test-domain", "news")].failures == 1


async def test_a_changed_spec_waits_for_the_crawl_in_flight_then_runs_with_fresh_source_states(store):
    changed = SPEC.model_copy(update={"sources": [SPEC.sources[0]], "title": "Test, narrowed"})
    release, started = asyncio.Event(), asyncio.Event()
    calls = []

    async def crawl(spec, *, page_budget, sink, sources, user_agent):
        calls.append((spec.title, sources[0]))
        started.set()
        if spec is SPEC:
            await release.wait()
            raise ConnectionError("site down")  # the old spec's source backs off for minutes...
        return _stats()

    stop = asyncio.Event()
    scheduler = CrawlScheduler([DomainPlan(SPEC, 3600.0, 10)], store, MinerMetrics(), crawl=crawl)
    running = asyncio.create_task(scheduler.run(stop))
    await asyncio.wait_for(started.wait(), timeout=10)
    scheduler.set_plans([DomainPlan(changed, 3600.0, 10)])
    await asyncio.sleep(0)
    assert calls == [("Test", "pages")]  # the new spec's loop waits for the old crawl
    started.clear()
    release.set()
    await asyncio.wait_for(started.wait(), timeout=10)  # ...but the new spec's starts afresh at once
    stop.set()
    await asyncio.wait_for(running, timeout=10)
    assert calls == [("Test", "pages"), ("Test, narrowed", "pages")]
    assert scheduler.running() == []
