"""Chain figures: a LocalChain epoch with 256 uids and 64 validators setting dense weights (target < 1 s),
metagraph/state reads on both chains, and a dense weight set."""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from rich.console import Console
from rich.table import Table

from chain import BittensorChain, LocalChain
from chain.yuma import EpochInputs, YumaParams, yuma_epoch

UIDS = 256
VALIDATORS = 64
TEMPO = 100
RATE_LIMIT = 1
EPOCHS = 5
READS = 50


def _wallet(i: int) -> SimpleNamespace:
    # Distinct addresses are all the LocalChain needs; real keypairs would only add set-up time.
    return SimpleNamespace(hotkey=SimpleNamespace(ss58_address=f"hotkey-{i:04d}"),
                           coldkeypub=SimpleNamespace(ss58_address=f"coldkey-{i:04d}"))


async def _seeded_chain(path: Path) -> tuple[LocalChain, list[SimpleNamespace], float]:
    chain = LocalChain(path, tempo=TEMPO, block_time=3600.0, weights_rate_limit=RATE_LIMIT, max_uids=UIDS,
                       max_validators=VALIDATORS)
    wallets = [_wallet(i) for i in range(UIDS)]
    for wallet in wallets:
        await chain.register(wallet)
    for i, wallet in enumerate(wallets[:VALIDATORS]):
        await chain.add_stake(wallet.hotkey.ss58_address, 100.0 + i)
    await chain.advance(RATE_LIMIT)
    rng = np.random.default_rng(0)
    weight_set_seconds = []
    for wallet in wallets[:VALIDATORS]:
        weights = {uid: float(w) for uid, w in enumerate(rng.uniform(0.01, 1.0, UIDS))}
        started = time.perf_counter()
        await chain.set_weights(wallet, weights)
        weight_set_seconds.append(time.perf_counter() - started)
    return chain, wallets, statistics.mean(weight_set_seconds)


async def _epoch_seconds(chain: LocalChain) -> list[float]:
    """Wall time of `advance` calls that each cross one tempo boundary (read, Yuma, write, in one transaction)."""
    seconds = []
    block = await chain.block()
    await chain.advance(TEMPO - block % TEMPO - 1)  # stop just before the boundary
    for _ in range(EPOCHS):
        started = time.perf_counter()
        await chain.advance(1)
        seconds.append(time.perf_counter() - started)
        await chain.advance(TEMPO - 1)
    return seconds


def _pure_yuma_seconds() -> float:
    rng = np.random.default_rng(1)
    stake = np.r_[rng.uniform(100, 200, VALIDATORS), np.zeros(UIDS - VALIDATORS)]
    weights = np.zeros((UIDS, UIDS))
    weights[:VALIDATORS] = rng.uniform(0, 65535, (VALIDATORS, UIDS))
    inputs = EpochInputs(block=1000, last_epoch_block=900, stake=stake, validator_permit=stake > 0,
                         last_update=np.full(UIDS, 950), block_at_registration=np.ones(UIDS, dtype=int),
                         weights=weights, bonds=np.zeros((UIDS, UIDS)))
    started = time.perf_counter()
    for _ in range(20):
        yuma_epoch(inputs, YumaParams(activity_cutoff=5000))
    return (time.perf_counter() - started) / 20


async def _read_seconds(chain) -> float:
    await chain.state()
    started = time.perf_counter()
    for _ in range(READS):
        await chain.state()
    return (time.perf_counter() - started) / READS


async def _fake_metagraph_seconds() -> float:
    from tests.chain.fake_substrate import RAO, FakeNeuron, FakeSubstrate  # a dev-only fake, not shipped

    fake = FakeSubstrate(netuid=1)
    fake.neurons = [FakeNeuron(hotkey=f"hotkey-{i}", coldkey=f"coldkey-{i}", registered_at=1, last_update=50,
                               stake_rao=RAO * (i < VALIDATORS), permit=i < VALIDATORS,
                               axon={"ip": 2130706433, "port": 9000 + i, "ip_type": 4}, incentive=i)
                    for i in range(UIDS)]
    chain = BittensorChain.for_network("local", 1, substrate=fake)
    try:
        return await _read_seconds(chain)
    finally:
        await chain.close()


async def _measure() -> dict[str, str]:
    with tempfile.TemporaryDirectory() as folder:
        os.environ.setdefault("BTCLI_TOKEN_SYMBOLS_CACHE", str(Path(folder) / "symbols.json"))
        chain, _, weight_set = await _seeded_chain(Path(folder) / "bench.sqlite")
        epochs = await _epoch_seconds(chain)
        local_read = await _read_seconds(chain)
        await chain.close()
        fake_read = await _fake_metagraph_seconds()
    return {
        f"LocalChain epoch, {UIDS} uids × {VALIDATORS} dense validators (mean of {EPOCHS})":
            f"{statistics.mean(epochs) * 1000:.1f} ms (max {max(epochs) * 1000:.1f} ms; target < 1000 ms)",
        f"  of which yuma_epoch alone ({UIDS}×{UIDS} numpy)": f"{_pure_yuma_seconds() * 1000:.2f} ms",
        f"LocalChain state() read, {UIDS} uids": f"{local_read * 1000:.2f} ms",
        f"BittensorChain state() over the fake Substrate, {UIDS} uids": f"{fake_read * 1000:.2f} ms",
        f"LocalChain set_weights, {UIDS} dense weights": f"{weight_set * 1000:.2f} ms",
    }


def main() -> None:
    figures = asyncio.run(_measure())
    table = Table(title=f"chain benchmarks ({os.cpu_count()} cores)")
    table.add_column("measure")
    table.add_column("result", justify="right")
    for name, value in figures.items():
        table.add_row(name, value)
    Console().print(table)


if __name__ == "__main__":
    main()
