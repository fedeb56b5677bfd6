"""Chain fixtures: in-memory dev wallets, a LocalChain on a temp file, BittensorChain over the fake Substrate,
and a `contract` harness that runs one suite against both."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from chain import BittensorChain, Chain, LocalChain
from tests.chain.devkeys import dev_wallet
from tests.chain.fake_substrate import FakeSubstrate

RATE_LIMIT = 5
# A clock that never ticks on its own during a test: blocks move only with advance().
FROZEN_BLOCK_TIME = 3600.0


@pytest.fixture
def wallets() -> Callable[[str], SimpleNamespace]:
    return dev_wallet


def local_chain_at(path: Path, **params) -> LocalChain:
    defaults = {"tempo": 1000, "block_time": FROZEN_BLOCK_TIME, "weights_rate_limit": RATE_LIMIT}
    return LocalChain(path, **{**defaults, **params})


@pytest.fixture
async def local(tmp_path: Path) -> AsyncIterator[LocalChain]:
    chain = local_chain_at(tmp_path / "chain.sqlite")
    yield chain
    await chain.close()


@pytest.fixture
def fake() -> FakeSubstrate:
    return FakeSubstrate(netuid=1, weights_rate_limit=RATE_LIMIT)


@pytest.fixture
async def remote(fake: FakeSubstrate) -> AsyncIterator[BittensorChain]:
    chain = BittensorChain.for_network("local", 1, substrate=fake)
    yield chain
    await chain.close()


@dataclass
class Contract:
    """One chain plus the owner's levers each implementation offers (time and stake)."""

    chain: Chain
    advance: Callable[[int], Awaitable[None]]
    stake: Callable[[str, float], Awaitable[None]]
    rate_limit: int = RATE_LIMIT


@pytest.fixture(params=["local", "bittensor"])
async def contract(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Contract]:
    if request.param == "local":
        chain = local_chain_at(tmp_path / "chain.sqlite")

        async def advance(blocks: int) -> None:
            await chain.advance(blocks)

        async def stake(hotkey: str, amount: float) -> None:
            await chain.add_stake(hotkey, amount)

        yield Contract(chain, advance, stake)
    else:
        fake = FakeSubstrate(netuid=1, weights_rate_limit=RATE_LIMIT)
        chain = BittensorChain.for_network("local", 1, substrate=fake)

        async def advance(blocks: int) -> None:
            fake.advance(blocks)

        async def stake(hotkey: str, amount: float) -> None:
            fake.add_stake(hotkey, amount)

        yield Contract(chain, advance, stake)
    await chain.close()


@pytest.fixture(params=["local", "bittensor"])
async def configured(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Callable[..., Contract]]:
    """Build one implementation with given subnet settings (commit_reveal, reveal_period, immunity_period)."""
    chains: list[Chain] = []

    def make(**settings) -> Contract:
        if request.param == "local":
            chain = local_chain_at(tmp_path / f"chain{len(chains)}.sqlite", **settings)
            contract = Contract(chain, chain.advance, chain.add_stake)
        else:
            fake = FakeSubstrate(netuid=1, weights_rate_limit=RATE_LIMIT, **settings)
            chain = BittensorChain.for_network("local", 1, substrate=fake)

            async def advance(blocks: int) -> None:
                fake.advance(blocks)

            async def stake(hotkey: str, amount: float) -> None:
                fake.add_stake(hotkey, amount)

            contract = Contract(chain, advance, stake)
        chains.append(chain)
        return contract

    yield make
    for chain in chains:
        await chain.close()
