"""A running miner follows the network's desirability: it starts a newly adopted domain and stops an expired one
without a restart, keeps its domains when the network cannot be read, never crawls an entry aimed at private hosts
outside local mode, and says what it follows in `glean miner status`."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from glean.cli import main
from miner.desirability import FOLLOWING_FILE, DesirabilityFollower, Following
from miner.metrics import MinerMetrics
from miner.scheduler import CrawlScheduler, DomainPlan
from miner.store import AsyncStore, Store
from schemas.desirability import DesirabilityEntry, DesirabilityList, NetworkDesirability, combine
from tests.miner.support import make_record
from tests.miner.test_desirability import network, spec


class Network:
    """What the chain says the network wants at the epoch's fixed `block`, changed by the test; `down` makes reading
    it fail."""

    def __init__(self, current: NetworkDesirability) -> None:
        self.current = current
        self.block = 0
        self.down = False
        self.previous_seen: list[dict] = []
        self.epochs_seen = 0

    async def __call__(self, previous) -> NetworkDesirability:
        self.previous_seen.append(dict(previous))
        if self.down:
            raise ConnectionError("every validator listener refused the connection")
        return self.current.model_copy(update={"block": self.block})

    async def epoch(self) -> int:
        self.epochs_seen += 1
        return self.block


class Crawls:
    """A crawl function that stores one record per call and remembers which domains it crawled."""

    def __init__(self) -> None:
        self.domains: list[str] = []
        self.changed = asyncio.Event()

    async def __call__(self, spec, *, page_budget, sink, sources, user_agent):
        self.domains.append(spec.id)
        await sink([make_record(len(self.domains), domain=spec.id, source="web")])
        self.changed.set()
        return SimpleNamespace(pages=1, records=1, errors={}, robots_disallowed=0, seconds=0.0)

    async def until(self, condition, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while not condition():
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
async def store(tmp_path):
    s = AsyncStore(Store.open(f"sqlite:///{tmp_path / 'm.sqlite'}"))
    yield s
    await s.close()


def follower(store, fetch, crawls, tmp_path, *, count=1, pinned=(), local=True, catalog=()):
    scheduler = CrawlScheduler(list(pinned), store, MinerMetrics(), crawl=crawls)
    return DesirabilityFollower(scheduler, hotkey="miner-1", fetch=fetch, count=count, pinned=pinned,
                                plan_for=lambda s: DomainPlan(s, 3600.0, 10), catalog=catalog, local=local,
                                path=tmp_path / FOLLOWING_FILE)


async def test_a_running_miner_starts_an_adopted_domain_and_stops_an_expired_one(store, tmp_path):
    fetch, crawls = Network(network({"first": 1.0})), Crawls()
    follow = follower(store, fetch, crawls, tmp_path)
    stop = asyncio.Event()
    running = asyncio.create_task(follow.scheduler.run(stop))
    try:
        await follow.refresh()
        await crawls.until(lambda: "first" in crawls.domains)
        fetch.current = network({"requested": 1.0})  # first expired, requested adopted
        await follow.refresh()
        await crawls.until(lambda: "requested" in crawls.domains)
        assert follow.scheduler.domains() == ["requested"]
        async with asyncio.timeout(10):
            while follow.scheduler.running() != ["requested"]:  # first's loop ends after its crawl in flight
                await asyncio.sleep(0.01)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=10)
    assert {b.domain for b in store.store.buckets()} == {"first", "requested"}


async def test_when_the_network_cannot_be_read_the_domains_stay_and_status_says_why(store, tmp_path, capsys):
    fetch, crawls = Network(network({"first": 1.0, "second": 1.0})), Crawls()
    follow = follower(store, fetch, crawls, tmp_path, count=2)
    assert await follow.refresh()
    fetch.down = True
    assert not await follow.refresh()
    assert sorted(follow.scheduler.domains()) == ["first", "second"]
    following = Following.read(tmp_path / FOLLOWING_FILE)
    assert "refused the connection" in following.error and sorted(following.crawling()) == ["first", "second"]


async def test_the_list_is_read_again_when_a_new_epoch_begins_or_after_a_failed_read(store, tmp_path):
    fetch = Network(network({"first": 1.0}))
    follow = follower(store, fetch, Crawls(), tmp_path)
    follow._epoch, follow.refresh_seconds = fetch.epoch, 0.01
    stop = asyncio.Event()

    async def polls(n: int) -> None:  # n more epoch checks (or reads) than now
        target = fetch.epochs_seen + len(fetch.previous_seen) + n
        async with asyncio.timeout(10):
            while fetch.epochs_seen + len(fetch.previous_seen) < target:
                await asyncio.sleep(0.005)

    running = asyncio.create_task(follow.run(stop))
    try:
        await polls(5)
        assert len(fetch.previous_seen) == 1  # the same epoch: the list cannot have changed
        fetch.block, fetch.down = 10, True
        await polls(5)
        assert len(fetch.previous_seen) >= 3  # a new epoch, and every check retries the failed read
        fetch.down = False
        await polls(5)
        reads = len(fetch.previous_seen)
        await polls(5)
        assert len(fetch.previous_seen) == reads and follow.following.block == 10 and follow.following.error is None
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=10)


async def test_each_validators_list_is_kept_for_the_next_refresh(store, tmp_path):
    wanted = DesirabilityList.build([DesirabilityEntry.of(spec("first"), 1.0)])
    fetch = Network(combine({"validator-a": wanted}, {"validator-a": 5.0}, {}))
    follow = follower(store, fetch, Crawls(), tmp_path)
    await follow.refresh()
    await follow.refresh()
    assert fetch.previous_seen == [{}, {"validator-a": wanted}]


async def test_outside_local_mode_an_entry_aimed_at_private_hosts_is_not_crawled(store, tmp_path):
    private = network({"intranet": 1.0}, host="10.1.2.3")
    loopback = network({"loopback": 1.0}, host="127.0.0.1:8080")
    public = network({"public": 1.0}, host="93.184.215.14")
    both = combine({"a": _list(private), "b": _list(loopback), "c": _list(public)}, {"a": 1, "b": 1, "c": 1}, {})
    follow = follower(store, Network(both), Crawls(), tmp_path, count=3, local=False)
    await follow.refresh()
    assert follow.scheduler.domains() == ["public"]
    problems = {e["domain_id"]: e["problem"] for e in follow.following.entries}
    assert "resolves to 10.1.2.3 (private)" in problems["intranet"]
    assert "resolves to 127.0.0.1 (loopback)" in problems["loopback"]
    assert problems["public"] is None


async def test_a_pinned_domain_keeps_its_catalog_spec_and_the_list_fills_the_other_places(store, tmp_path):
    pinned = DomainPlan(spec("first", host="pinned.example.org"), 60.0, 10)
    fetch = Network(network({"first": 5.0, "second": 1.0}))
    follow = follower(store, fetch, Crawls(), tmp_path, pinned=[pinned])
    await follow.refresh()
    assert follow.scheduler.plans[0] is pinned and follow.scheduler.domains() == ["first", "second"]
    problems = {e["domain_id"]: e["problem"] for e in follow.following.entries}
    assert problems["first"].startswith("pinned")


async def test_before_any_validator_commits_a_list_the_catalog_is_followed(store, tmp_path):
    catalog = [spec("first").model_copy(update={"desirability": 2.0}), spec("second")]
    follow = follower(store, Network(NetworkDesirability(block=7)), Crawls(), tmp_path, count=2, catalog=catalog)
    await follow.refresh()
    assert sorted(follow.scheduler.domains()) == ["first", "second"]
    assert follow.following.from_catalog
    assert {e["domain_id"]: e["weight"] for e in follow.following.entries} == {"first": 0.666667, "second": 0.333333}


async def test_status_shows_the_list_the_miner_follows(store, tmp_path, capsys):
    data_dir = tmp_path / "data"
    follow = follower(store, Network(network({"first": 3.0, "second": 1.0})), Crawls(), tmp_path)
    follow.path = data_dir / "miner" / FOLLOWING_FILE
    await follow.refresh()
    assert main(["--data-dir", str(data_dir), "miner", "status"]) == 0
    out = capsys.readouterr().out
    crawling = follow.following.crawling()[0]
    assert "network desirability" in out and "first" in out and "second" in out and "0.75" in out
    assert any(crawling in line and "crawling" in line for line in out.splitlines())


def _list(net: NetworkDesirability) -> DesirabilityList:
    return DesirabilityList.build(DesirabilityEntry(domain_id=e.domain_id, spec=e.spec, spec_hash=e.spec_hash,
                                                    weight=e.weight) for e in net.entries)
