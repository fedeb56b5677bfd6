"""The network's desirability read from a LocalChain and real loopback listeners serving lists by hash."""

from contextlib import ExitStack

import httpx
import pytest

from chain.commitment import Commitment
from chain.desirability import DESIRABILITY_PATH, evaluation_block, network_desirability
from schemas import DomainCatalog
from schemas.desirability import MAX_LIST_BYTES, DesirabilityEntry, DesirabilityList, combine
from schemas.errors import ChainError
from tests.chain.conftest import local_chain_at
from tests.chain.devkeys import dev_wallet
from tests.validator.servers import RawServer, send

TEMPO = 10
CATALOG = DomainCatalog.load()


def _list(*pairs: tuple[str, float]) -> DesirabilityList:
    return DesirabilityList.build(DesirabilityEntry.of(CATALOG.get(d), w) for d, w in pairs)


def _serve(server: RawServer, listed: DesirabilityList, body: bytes | None = None) -> None:
    payload = listed.canonical() if body is None else body
    server.routes[DESIRABILITY_PATH.format(hash=listed.hash())] = lambda h: send(h, 200, payload)


class Subnet:
    """A LocalChain with validators, each with a loopback listener announced as its axon."""

    def __init__(self, tmp_path, names: list[str]) -> None:
        self.chain = local_chain_at(tmp_path / "chain.sqlite", tempo=TEMPO)
        self.stack = ExitStack()
        self.servers = {name: self.stack.enter_context(RawServer()) for name in names}
        self.wallets = {name: dev_wallet(name) for name in names}

    async def start(self, stakes: dict[str, float]) -> None:
        for name, wallet in self.wallets.items():
            await self.chain.register(wallet)
            await self.chain.add_stake(wallet.hotkey.ss58_address, stakes[name])
            host, port = self.servers[name].axon.split(":")
            await self.chain.serve(wallet, host, int(port))

    async def commit(self, name: str, listed: DesirabilityList, *, serve: bool = True) -> None:
        await self.chain.commit(self.wallets[name], Commitment(desirability=listed.hash()).encode())
        if serve:
            _serve(self.servers[name], listed)

    async def next_epoch(self) -> None:
        block = await self.chain.block()
        await self.chain.advance(TEMPO - block % TEMPO)

    def hotkey(self, name: str) -> str:
        return self.wallets[name].hotkey.ss58_address

    async def compute(self, previous=None):
        async with httpx.AsyncClient() as client:
            return await network_desirability(self.chain, await self.chain.state(), client, previous or {})

    async def close(self) -> None:
        self.stack.close()
        await self.chain.close()


@pytest.fixture
async def subnet(tmp_path):
    made: list[Subnet] = []

    async def make(names, stakes):
        net = Subnet(tmp_path, names)
        await net.start(stakes)
        made.append(net)
        return net

    yield make
    for net in made:
        await net.close()


def test_evaluation_block_is_the_first_block_of_the_epoch():
    assert [evaluation_block(b, 10) for b in (0, 9, 10, 19, 20)] == [0, 0, 10, 10, 20]
    with pytest.raises(ChainError):
        evaluation_block(5, 0)


async def test_committed_lists_combine_by_stake_identically_on_every_computation(subnet):
    net = await subnet(["v1", "v2"], {"v1": 30.0, "v2": 10.0})
    one, two = _list(("ml-research", 1.0)), _list(("world-news", 1.0), ("ml-research", 1.0))
    await net.commit("v1", one)
    await net.commit("v2", two)
    await net.next_epoch()
    first = await net.compute()
    again = await net.compute()
    expected = combine({net.hotkey("v1"): one, net.hotkey("v2"): two},
                       {net.hotkey("v1"): 30.0, net.hotkey("v2"): 10.0}, {}, block=first.block)
    assert first.canonical() == again.canonical() == expected.canonical()
    assert first.weights() == {"ml-research": 0.875, "world-news": 0.125}


async def test_a_list_committed_during_the_epoch_counts_from_the_next_one(subnet):
    net = await subnet(["v1"], {"v1": 1.0})
    await net.next_epoch()
    await net.chain.advance(1)  # past the epoch's fixed block
    await net.commit("v1", _list(("ml-research", 1.0)))
    assert (await net.compute()).entries == ()
    await net.next_epoch()
    assert (await net.compute()).weights() == {"ml-research": 1.0}


async def test_a_list_committed_in_the_fixed_block_itself_counts_from_the_next_epoch(subnet):
    net = await subnet(["early", "late"], {"early": 1.0, "late": 1.0})
    await net.commit("early", _list(("ml-research", 1.0)))
    await net.next_epoch()
    before = await net.compute()  # a node reading while the fixed block is still the current block
    await net.commit("late", _list(("world-news", 1.0)))  # lands in that same block
    after = await net.compute()
    assert before.canonical() == after.canonical()
    assert after.weights() == {"ml-research": 1.0}
    await net.next_epoch()
    assert (await net.compute()).weights() == {"ml-research": 0.5, "world-news": 0.5}


async def test_a_served_list_that_does_not_match_its_commitment_is_left_out(subnet):
    net = await subnet(["honest", "liar"], {"honest": 1.0, "liar": 1.0})
    await net.commit("honest", _list(("ml-research", 1.0)))
    committed, served = _list(("world-news", 1.0)), _list(("open-knowledge", 1.0))
    await net.commit("liar", committed, serve=False)
    _serve(net.servers["liar"], committed, body=served.canonical())
    await net.next_epoch()
    result = await net.compute()
    assert result.weights() == {"ml-research": 1.0}
    assert set(result.lists) == {net.hotkey("honest")}


async def test_an_unfetchable_list_falls_back_to_the_previous_one(subnet):
    net = await subnet(["v1", "v2"], {"v1": 1.0, "v2": 1.0})
    await net.commit("v1", _list(("ml-research", 1.0)))
    older = _list(("world-news", 1.0))
    await net.commit("v2", _list(("open-knowledge", 1.0)), serve=False)
    await net.next_epoch()
    result = await net.compute({net.hotkey("v2"): older})
    assert result.weights() == {"ml-research": 0.5, "world-news": 0.5}


async def test_a_list_its_owner_does_not_serve_is_fetched_from_a_mirror(subnet):
    net = await subnet(["v1", "v2"], {"v1": 1.0, "v2": 1.0})
    mine = _list(("ml-research", 1.0))
    await net.commit("v1", mine, serve=False)
    _serve(net.servers["v2"], mine)  # v2 mirrors v1's list
    await net.commit("v2", _list(("world-news", 1.0)))
    await net.next_epoch()
    assert (await net.compute()).weights() == {"ml-research": 0.5, "world-news": 0.5}


async def test_an_oversized_answer_is_refused_unread(subnet):
    net = await subnet(["v1"], {"v1": 1.0})
    listed = _list(("ml-research", 1.0))
    await net.commit("v1", listed, serve=False)
    _serve(net.servers["v1"], listed, body=b" " * (MAX_LIST_BYTES + 10))
    await net.next_epoch()
    assert (await net.compute()).entries == ()


async def test_a_list_already_held_under_its_hash_is_not_fetched_again(subnet):
    net = await subnet(["v1"], {"v1": 1.0})
    listed = _list(("ml-research", 1.0))
    await net.commit("v1", listed)
    await net.next_epoch()
    first = await net.compute()
    asked = len(net.servers["v1"].requests)
    second = await net.compute(first.sources)
    assert second.canonical() == first.canonical() and len(net.servers["v1"].requests) == asked == 1
