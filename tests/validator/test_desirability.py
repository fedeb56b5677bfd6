"""Validators' desirability lists on a LocalChain, served by their real public listeners: every validator computes
the same network list, a list that does not match its commitment is left out, the step scores the network list."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from types import SimpleNamespace

import httpx
import pytest

from chain import LocalChain
from chain.commitment import Commitment
from chain.desirability import DESIRABILITY_PATH
from schemas import DomainCatalog
from schemas.desirability import (
    MAX_ENTRIES,
    MAX_ENTRY_WEIGHT,
    DesirabilityEntry,
    DesirabilityList,
    NetworkDesirability,
    combine,
    spec_hash,
)
from schemas.domain import DomainSpec
from tests.validator.harness import dev_wallet, registered
from tests.validator.requests_support import request, serve_listener
from tests.validator.servers import RawServer, send
from validator.desirability import Desirability, own_list, scoring_for, spec_problem
from validator.store import ValidatorStore

TEMPO = 10
CATALOG = DomainCatalog.load()


@dataclass
class Node:
    """One validator's desirability keeper with its store, its listener announced on the chain."""

    name: str
    wallet: SimpleNamespace
    store: ValidatorStore
    keeper: Desirability

    @property
    def hotkey(self) -> str:
        return self.wallet.hotkey.ss58_address


@pytest.fixture
async def subnet(tmp_path):
    chain = LocalChain(tmp_path / "chain.sqlite", tempo=TEMPO, block_time=3600.0)
    stack = contextlib.AsyncExitStack()
    nodes: list[Node] = []

    async def node(name: str, stake: float, domains: list[str]) -> Node:
        store = ValidatorStore.open(f"sqlite:///{tmp_path / f'{name}.sqlite'}")
        running = await stack.enter_async_context(serve_listener(store))
        wallet = await registered(chain, name, stake=stake, axon=running.base_url.removeprefix("http://"))
        client = await stack.enter_async_context(httpx.AsyncClient())
        keeper = Desirability(chain=chain, wallet=wallet, store=store, catalog=CATALOG, domains=domains,
                              local=True, client=client)
        nodes.append(Node(name, wallet, store, keeper))
        return nodes[-1]

    yield SimpleNamespace(chain=chain, node=node)
    await stack.aclose()
    for n in nodes:
        n.store.close()
    await chain.close()


async def next_epoch(chain: LocalChain) -> None:
    block = await chain.block()
    await chain.advance(TEMPO - block % TEMPO)


def adopt(store: ValidatorStore, domain: str, weight: float) -> DomainSpec:
    asked = request(domain)
    store.add_request(asked)
    store.set_request_status(asked.request_id, "adopted", decided_by="operator", weight=weight)
    return asked.domain


async def test_three_validators_compute_identical_network_bytes(subnet):
    one = await subnet.node("v1", 300.0, ["ml-research", "world-news"])
    two = await subnet.node("v2", 200.0, ["ml-research"])
    three = await subnet.node("v3", 100.0, ["open-knowledge"])
    wanted = adopt(three.store, "rust-async", 3.0)
    for n in (one, two, three):
        await n.keeper.refresh(await subnet.chain.state())  # commits each list
    await next_epoch(subnet.chain)
    results = [await n.keeper.refresh(await subnet.chain.state()) for n in (one, two, three)]
    networks = [r.network for r in results]
    assert networks[0].canonical() == networks[1].canonical() == networks[2].canonical()
    lists = {n.hotkey: own_list(CATALOG, n.keeper.domains, n.store.adopted_requests()) for n in (one, two, three)}
    expected = combine(lists, {one.hotkey: 300.0, two.hotkey: 200.0, three.hotkey: 100.0}, {},
                       block=networks[0].block)
    assert networks[0].canonical() == expected.canonical()
    assert set(results[0].domains) == {"ml-research", "world-news", "open-knowledge", "rust-async"}
    assert results[0].catalog.get("rust-async").sources == wanted.sources


async def test_each_validator_mirrors_the_lists_it_used(subnet):
    one = await subnet.node("v1", 1.0, ["ml-research"])
    two = await subnet.node("v2", 1.0, ["world-news"])
    for n in (one, two):
        await n.keeper.refresh(await subnet.chain.state())
    await next_epoch(subnet.chain)
    await one.keeper.refresh(await subnet.chain.state())
    theirs = own_list(CATALOG, ["world-news"], [])
    assert one.store.desirability_list(theirs.hash()) == theirs.canonical()


async def test_a_validator_whose_served_list_does_not_match_its_commitment_is_left_out(subnet):
    honest = await subnet.node("honest", 1.0, ["ml-research"])
    await honest.keeper.refresh(await subnet.chain.state())
    committed, served = own_list(CATALOG, ["world-news"], []), own_list(CATALOG, ["open-knowledge"], [])
    with RawServer() as liar_listener:
        liar = await registered(subnet.chain, "liar", stake=50.0, axon=liar_listener.axon)
        liar_listener.routes[DESIRABILITY_PATH.format(hash=committed.hash())] = \
            lambda h: send(h, 200, served.canonical())
        await subnet.chain.commit(liar, Commitment(desirability=committed.hash()).encode())
        await next_epoch(subnet.chain)
        scoring = await honest.keeper.refresh(await subnet.chain.state())
    assert scoring.network.weights() == {"ml-research": 1.0}
    assert set(scoring.network.lists) == {honest.hotkey}
    assert liar_listener.requests, "the liar's listener was asked"


async def test_a_release_rides_in_the_same_commitment_as_the_list(subnet):
    one = await subnet.node("v1", 1.0, ["ml-research"])
    await one.keeper.refresh(await subnet.chain.state())
    await one.keeper.commit(release="glean/data@r00000004")
    on_chain = (await subnet.chain.state()).by_hotkey(one.hotkey).commitment
    assert Commitment.decode(on_chain) == Commitment(release="glean/data@r00000004",
                                                     desirability=own_list(CATALOG, ["ml-research"], []).hash())


async def test_an_unchanged_list_is_not_committed_again(subnet):
    one = await subnet.node("v1", 1.0, ["ml-research"])
    await one.keeper.refresh(await subnet.chain.state())
    first = (await subnet.chain.commitments_at(await subnet.chain.block()))[0].commitment_block
    await subnet.chain.advance(3)
    await one.keeper.refresh(await subnet.chain.state())
    assert (await subnet.chain.commitments_at(await subnet.chain.block()))[0].commitment_block == first


async def _committed_hash(chain: LocalChain, hotkey: str) -> str | None:
    return Commitment.decode((await chain.state()).by_hotkey(hotkey).commitment).desirability


async def test_an_adoption_between_steps_is_committed_without_waiting_for_the_next_step(subnet):
    one = await subnet.node("v1", 1.0, ["ml-research"])
    await one.keeper.refresh(await subnet.chain.state())  # the step's commit
    stop = asyncio.Event()
    following = asyncio.create_task(one.keeper.follow_decisions(stop, every=0.05))
    try:
        adopt(one.store, "rust-async", 2.0)  # as the listener's policy or `glean validator adopt` would
        wanted = own_list(CATALOG, ["ml-research"], one.store.adopted_requests()).hash()
        async with asyncio.timeout(10):
            while await _committed_hash(subnet.chain, one.hotkey) != wanted:
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await following
    assert "rust-async" in {e.domain_id for e in DesirabilityList.parse(one.store.desirability_list(wanted),
                                                                         wanted).entries}


async def test_before_any_list_counts_the_validator_scores_its_own(subnet):
    one = await subnet.node("v1", 1.0, ["ml-research", "world-news"])
    scoring = await one.keeper.refresh(await subnet.chain.state())
    assert set(scoring.domains) == {"ml-research", "world-news"}
    assert scoring.catalog.get("world-news").desirability == CATALOG.get("world-news").desirability


async def test_before_any_list_counts_a_request_it_adopted_waits_for_its_committed_list(subnet):
    one = await subnet.node("v1", 1.0, ["ml-research"])
    adopt(one.store, "rust-async", 1.0)
    first = await one.keeper.refresh(await subnet.chain.state())  # as a validator that has not stepped before
    assert first.domains == ("ml-research",)  # what every validator of the subnet scores before any list counts
    await next_epoch(subnet.chain)
    assert set((await one.keeper.refresh(await subnet.chain.state())).domains) == {"ml-research", "rust-async"}


def test_a_listed_spec_that_breaks_the_request_rules_is_not_scored():
    open_web = DomainSpec.model_validate(CATALOG.get("ml-research").model_dump(mode="json") | {
        "id": "open-web", "sources": [{"kind": "web", "params": {"seeds": ["https://blog.example.org/"]}}]})
    assert "allow_patterns" in spec_problem(open_web, local=False, requester=dev_wallet("v").hotkey.ss58_address)
    listed = DesirabilityList.build([DesirabilityEntry.of(open_web, 1.0),
                                     DesirabilityEntry.of(CATALOG.get("ml-research"), 1.0)])
    network = combine({"v": listed}, {"v": 1.0}, {})
    scoring = scoring_for(network, CATALOG, {}, local=False, requester=dev_wallet("v").hotkey.ss58_address)
    assert scoring.domains == ("ml-research",)


def test_desirability_of_a_scored_domain_follows_its_network_weight():
    a, b = CATALOG.get("ml-research"), CATALOG.get("world-news")
    network = combine({"v1": DesirabilityList.build([DesirabilityEntry.of(a, 3.0)]),
                       "v2": DesirabilityList.build([DesirabilityEntry.of(b, 1.0)])}, {"v1": 1.0, "v2": 1.0}, {})
    scoring = scoring_for(network, CATALOG, {}, local=True, requester=dev_wallet("v").hotkey.ss58_address)
    scale = a.desirability + b.desirability
    assert scoring.catalog.get("ml-research").desirability == round(0.5 * scale, 4)
    assert scoring.catalog.get("world-news").desirability == round(0.5 * scale, 4)
    assert spec_hash(scoring.catalog.get("open-knowledge")) == spec_hash(CATALOG.get("open-knowledge"))


def test_network_list_survives_a_round_trip_through_its_bytes():
    network = combine({"v": own_list(CATALOG, ["ml-research"], [])}, {"v": 1.0}, {}, block=30)
    assert NetworkDesirability.model_validate_json(network.canonical()).canonical() == network.canonical()


async def test_the_validator_step_scores_every_domain_of_the_network_list(subnet, tmp_path):
    from schemas.config import GleanConfig
    from validator.service import Validator

    other = await subnet.node("other", 100.0, ["world-news"])
    wanted = adopt(other.store, "rust-async", 1.0)
    await other.keeper.refresh(await subnet.chain.state())
    wallet = await registered(subnet.chain, "scorer", stake=100.0)
    config = GleanConfig(data_dir=tmp_path / "scorer", chain={"kind": "local", "local_path": subnet.chain.path,
                                                               "block_time": 3600.0},
                         validator={"domains": ["ml-research"], "step_seconds": 2.0, "ladder_processes": 0})
    v = Validator(config, chain=subnet.chain, wallet=wallet, catalog=CATALOG, serve_http=False)
    try:
        await v.step()  # commits its own list; nothing counts yet at this epoch's block but its own
        assert v.runner.domains == ["ml-research"]
        await next_epoch(subnet.chain)
        await v.step()
        scored = set(v.runner.domains)
        requested = v.runner.catalog.get("rust-async")
    finally:
        await v.close()
    assert scored == {"ml-research", "world-news", "rust-async"}
    assert requested.sources == wanted.sources and v.runner.puller.domains == v.runner.domains
    assert v.runner.verifier.catalog is v.runner.catalog is v.catalog


async def test_the_fallback_to_a_previous_list_survives_a_restart(subnet):
    one = await subnet.node("v1", 1.0, ["ml-research"])
    await one.keeper.refresh(await subnet.chain.state())
    first, second = own_list(CATALOG, ["world-news"], []), own_list(CATALOG, ["open-knowledge"], [])
    with RawServer() as theirs:
        two = await registered(subnet.chain, "v2", stake=1.0, axon=theirs.axon)
        theirs.routes[DESIRABILITY_PATH.format(hash=first.hash())] = lambda h: send(h, 200, first.canonical())
        await subnet.chain.commit(two, Commitment(desirability=first.hash()).encode())
        await next_epoch(subnet.chain)
        await one.keeper.refresh(await subnet.chain.state())
        await subnet.chain.commit(two, Commitment(desirability=second.hash()).encode())  # a list nobody serves
        await next_epoch(subnet.chain)
        restarted = Desirability(chain=subnet.chain, wallet=one.wallet, store=one.store, catalog=CATALOG,
                                 domains=["ml-research"], local=True, client=one.keeper.client)
        scoring = await restarted.refresh(await subnet.chain.state())
    assert scoring.network.weights() == {"ml-research": 0.5, "world-news": 0.5}


def test_an_own_list_stays_within_the_list_bounds():
    tiny, huge = adopted_spec("tiny"), adopted_spec("huge")
    listed = own_list(CATALOG, ["ml-research"], [("a", tiny, 1e-9, None), ("b", huge, 1e9, None)])
    weights = {e.domain_id: e.weight for e in listed.entries}
    assert weights["tiny"] > 0 and weights["huge"] == MAX_ENTRY_WEIGHT
    many = [(str(i), adopted_spec(f"domain-{i:03d}"), 1.0 + i, None) for i in range(MAX_ENTRIES + 5)]
    trimmed = own_list(CATALOG, [], many)
    assert len(trimmed.entries) == MAX_ENTRIES and "domain-000" not in {e.domain_id for e in trimmed.entries}


def adopted_spec(domain: str) -> DomainSpec:
    return request(domain).domain
