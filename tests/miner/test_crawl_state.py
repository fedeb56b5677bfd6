"""The miner's crawl state: the first crawl of a source is full, the next ones ask for changes since its watermark,
a full re-crawl comes back on its long cadence, and all of it survives a restart (a JSON file beside the store)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from miner.crawl_state import CrawlState
from miner.metrics import MinerMetrics
from miner.scheduler import CrawlScheduler, DomainPlan
from miner.store import AsyncStore, Store
from schemas import DomainSpec

SPEC = DomainSpec.model_validate({
    "id": "test-domain", "title": "Test", "relevance": {"keywords": {"data": 1.0}},
    "sources": [{"kind": "feed", "id": "news"}],
})
MARK = "2030-01-01T12:00:00+00:00"


class WallClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def store(tmp_path: Path):
    s = AsyncStore(Store.open(f"sqlite:///{tmp_path / 'm.sqlite'}"))
    yield s
    await s.close()


def _recording_crawl(calls: list, watermark: str | None = MARK):
    async def crawl(_spec, **kwargs):
        calls.append(kwargs.get("since"))
        return SimpleNamespace(pages=1, records=0, errors={}, robots_disallowed=0, seconds=0.01, watermark=watermark)

    return crawl


def _scheduler(store, crawl, state: CrawlState) -> CrawlScheduler:
    return CrawlScheduler([DomainPlan(SPEC, 10.0, 10)], store, MinerMetrics(), crawl=crawl, crawl_state=state)


async def test_the_first_crawl_is_full_and_the_next_asks_since_the_watermark(store, tmp_path: Path) -> None:
    calls: list = []
    scheduler = _scheduler(store, _recording_crawl(calls), CrawlState(tmp_path / "state.json"))
    await scheduler.crawl_source(scheduler.plans[0], "news")
    await scheduler.crawl_source(scheduler.plans[0], "news")
    assert calls == [None, datetime(2030, 1, 1, 12, tzinfo=UTC)]


async def test_the_crawl_state_survives_a_restart(store, tmp_path: Path) -> None:
    path = tmp_path / "miner" / "crawl_state.json"
    await _scheduler(store, _recording_crawl([]), CrawlState(path)).crawl_source(
        _scheduler(store, None, CrawlState()).plans[0], "news")
    calls: list = []
    restarted = _scheduler(store, _recording_crawl(calls), CrawlState(path))
    await restarted.crawl_source(restarted.plans[0], "news")
    assert calls == [datetime(2030, 1, 1, 12, tzinfo=UTC)]


def test_a_full_recrawl_comes_back_on_its_cadence(tmp_path: Path) -> None:
    clock = WallClock()
    state = CrawlState(tmp_path / "state.json", full_every=3600, clock=clock)
    state.record("d", "s", full=True, watermark=MARK)
    clock.now += 3599
    assert state.since("d", "s") is not None
    clock.now += 1
    assert state.since("d", "s") is None


def test_the_watermark_never_moves_back_and_a_source_without_one_stays_full(tmp_path: Path) -> None:
    state = CrawlState(tmp_path / "state.json")
    state.record("d", "s", full=True, watermark=MARK)
    state.record("d", "s", full=False, watermark="2029-01-01T00:00:00+00:00")
    assert state.since("d", "s") == datetime(2030, 1, 1, 12, tzinfo=UTC)
    state.record("d", "quiet", full=True, watermark=None)
    assert state.since("d", "quiet") is None


def test_an_unreadable_state_file_means_full_crawls(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("{not json", encoding="utf-8")
    assert CrawlState(path).since("d", "s") is None


def test_each_finished_crawl_is_counted_with_its_time(tmp_path: Path) -> None:
    clock = WallClock()
    state = CrawlState(tmp_path / "state.json", clock=clock)
    state.record("d", "s", full=True, watermark=MARK)
    clock.now += 10
    state.record("d", "s", full=False, watermark=None)
    entry = CrawlState(tmp_path / "state.json").describe()["d/s"]
    assert entry["crawls"] == 2 and entry["crawled_at"] == clock.now
