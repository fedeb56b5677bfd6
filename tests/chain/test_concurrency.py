"""Several real processes on one LocalChain file at once: nothing is lost and every epoch runs exactly once."""

from __future__ import annotations

import asyncio
import multiprocessing
from pathlib import Path

import pytest

from chain.constants import LOCAL_GENESIS_BLOCK
from tests.chain.conftest import local_chain_at
from tests.chain.devkeys import dev_wallet
from tests.chain.local_worker import exercise, wallet_names

PROCESSES = 4
WALLETS_EACH = 6
TEMPO = 3


async def _stake_everyone(path: Path, prefixes: list[str]) -> None:
    chain = local_chain_at(path, tempo=TEMPO, weights_rate_limit=0)
    for prefix in prefixes:  # staked up front, so each hotkey holds a permit as soon as it registers
        for name in wallet_names(prefix, WALLETS_EACH):
            await chain.add_stake(dev_wallet(name).hotkey.ss58_address, 1.0)
    await chain.close()


@pytest.fixture(scope="module")
def shared_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A chain file after PROCESSES workers registered, served, committed, advanced and set weights at once."""
    path = tmp_path_factory.mktemp("concurrency") / "shared.sqlite"
    prefixes = [f"p{i}" for i in range(PROCESSES)]
    asyncio.run(_stake_everyone(path, prefixes))
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=exercise, args=(str(path), prefix, WALLETS_EACH)) for prefix in prefixes]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0] * PROCESSES
    return path, prefixes


@pytest.fixture
async def hammered(shared_file: tuple[Path, list[str]]):
    path, prefixes = shared_file
    chain = local_chain_at(path)
    yield chain, prefixes
    await chain.close()


@pytest.mark.slow
async def test_concurrent_processes_lose_no_registration_axon_commitment_or_weight(hammered) -> None:
    chain, prefixes = hammered
    expected = {dev_wallet(name).hotkey.ss58_address: name for p in prefixes for name in wallet_names(p, WALLETS_EACH)}
    state = await chain.state()
    assert sorted(n.uid for n in state.neurons) == list(range(PROCESSES * WALLETS_EACH))
    assert {n.hotkey for n in state.neurons} == set(expected)
    assert all(n.axon and n.axon.startswith("127.0.0.1:") for n in state.neurons)
    assert {n.commitment for n in state.neurons} == set(expected.values())
    assert set(await chain.weights()) == {n.uid for n in state.neurons}


@pytest.mark.slow
async def test_concurrent_processes_run_each_epoch_exactly_once(hammered) -> None:
    chain, _ = hammered
    block = await chain.block()
    assert block == LOCAL_GENESIS_BLOCK + PROCESSES * WALLETS_EACH  # every advance(1) counted once
    epochs = await chain.epochs()
    assert [e.block for e in epochs] == list(range(TEMPO, block + 1, TEMPO))
    assert [e.epoch for e in epochs] == list(range(len(epochs)))
