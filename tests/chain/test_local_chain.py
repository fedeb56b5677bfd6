"""LocalChain: epochs and emissions, registration and replacement, permits, the clock, lazy exactly-once epochs."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from chain import LocalChain, open_chain
from chain.checks import quantize_weights
from chain.constants import OWNER_CUT
from schemas.config import ChainConfig
from schemas.errors import ChainError
from tests.chain.conftest import RATE_LIMIT, dev_wallet, local_chain_at

TEMPO = 10


async def subnet(path: Path, *, validators=(60.0, 30.0, 10.0), miners: int = 2, **params) -> tuple[LocalChain, list]:
    """Validators at uids 0.., miners after them; the clock is past the rate limit so weights can be set."""
    chain = local_chain_at(path, **{"tempo": TEMPO, **params})
    wallets = []
    for i, stake in enumerate(validators):
        wallet = dev_wallet(f"validator{i}")
        await chain.register(wallet)
        await chain.add_stake(wallet.hotkey.ss58_address, stake)
        wallets.append(wallet)
    for i in range(miners):
        wallet = dev_wallet(f"miner{i}")
        await chain.register(wallet)
        await chain.serve(wallet, "127.0.0.1", 9000 + i)
        wallets.append(wallet)
    await chain.advance(RATE_LIMIT)
    return chain, wallets


async def to_next_epoch(chain: LocalChain) -> None:
    block = await chain.block()
    await chain.advance(TEMPO - block % TEMPO)


async def test_an_epoch_runs_at_every_tempo_boundary(tmp_path: Path) -> None:
    chain, _ = await subnet(tmp_path / "c.sqlite")
    await chain.advance(3 * TEMPO)
    assert [(e.epoch, e.block) for e in await chain.epochs()] == [(0, 10), (1, 20), (2, 30)]


async def test_emission_totals_equal_per_block_emission_times_blocks(tmp_path: Path) -> None:
    chain, wallets = await subnet(tmp_path / "c.sqlite", emission_per_block=2.5)
    await chain.set_weights(wallets[0], {3: 1.0, 4: 0.5})
    await chain.advance(5 * TEMPO)
    epochs = await chain.epochs()
    paid = sum(r.emission for r in await chain.emissions())
    assert sum(e.emission for e in epochs) == pytest.approx(2.5 * epochs[-1].block)
    assert paid + sum(e.owner + e.recycled for e in epochs) == pytest.approx(2.5 * epochs[-1].block)
    assert sum(e.owner for e in epochs) == pytest.approx(2.5 * epochs[-1].block * OWNER_CUT)


async def test_incentive_and_dividends_each_sum_to_one_after_an_epoch_with_weights(tmp_path: Path) -> None:
    chain, wallets = await subnet(tmp_path / "c.sqlite")
    for validator in wallets[:3]:
        await chain.set_weights(validator, {3: 0.6, 4: 0.4})
    await to_next_epoch(chain)
    state = await chain.state()
    assert sum(n.incentive for n in state.neurons) == pytest.approx(1.0)
    assert sum(n.dividends for n in state.neurons) == pytest.approx(1.0)


async def test_outlier_validator_earns_no_dividends_and_its_miner_no_incentive(tmp_path: Path) -> None:
    chain, wallets = await subnet(tmp_path / "c.sqlite")
    await chain.set_weights(wallets[0], {3: 1.0})
    await chain.set_weights(wallets[1], {3: 1.0})
    await chain.set_weights(wallets[2], {4: 1.0})  # the 10% validator backs its own miner
    await to_next_epoch(chain)
    state = await chain.state()
    assert state.by_uid(2).dividends == 0.0 and state.by_uid(2).emission == 0.0
    assert state.by_uid(4).incentive == 0.0
    assert [state.by_uid(0).dividends, state.by_uid(1).dividends] == pytest.approx([2 / 3, 1 / 3])
    # validator trust: the agreeing validators' weights all survive clipping, the outlier's none
    assert [state.by_uid(u).validator_trust for u in (0, 1, 2)] == pytest.approx([1.0, 1.0, 0.0])


async def test_validator_that_stops_setting_weights_turns_inactive(tmp_path: Path) -> None:
    chain, wallets = await subnet(tmp_path / "c.sqlite", activity_cutoff=2 * TEMPO)
    for validator in wallets[:3]:
        await chain.set_weights(validator, {3: 1.0})
    for _ in range(4):  # validators 0 and 1 keep voting; validator 2 stopped
        await chain.advance(TEMPO)
        await chain.set_weights(wallets[0], {3: 1.0})
        await chain.set_weights(wallets[1], {3: 1.0})
    state = await chain.state()
    assert [state.by_uid(u).active for u in range(3)] == [True, True, False]
    history = [r.dividends for r in await chain.emissions(uid=2)]
    assert history[0] == pytest.approx(0.1) and history[-1] < history[0]
    assert not (await chain.emissions(uid=2))[-1].active


async def test_bonds_of_a_defecting_validator_decay_each_epoch(tmp_path: Path) -> None:
    chain, wallets = await subnet(tmp_path / "c.sqlite")
    for validator, miner in zip(wallets[:3], (3, 3, 4), strict=True):
        await chain.set_weights(validator, {miner: 1.0})
    await to_next_epoch(chain)
    await chain.advance(1)
    await chain.set_weights(wallets[1], {4: 1.0})  # joins the outlier: clipped, its bonds only decay
    for _ in range(3):
        await to_next_epoch(chain)
    shares = [r.dividends for r in await chain.emissions(uid=1)]
    assert shares == pytest.approx([1 / 3, 0.3, 0.27, 0.243])


async def test_emissions_history_has_one_row_per_uid_per_epoch(tmp_path: Path) -> None:
    chain, wallets = await subnet(tmp_path / "c.sqlite")
    await chain.set_weights(wallets[0], {3: 1.0})
    await chain.advance(2 * TEMPO)
    rows = await chain.emissions()
    assert [(r.epoch, r.uid) for r in rows] == [(e, u) for e in range(2) for u in range(5)]
    assert [r.uid for r in await chain.emissions(epoch=1)] == list(range(5))
    totals = await chain.emission_totals()
    assert totals[wallets[3].hotkey.ss58_address] == pytest.approx(sum(r.emission for r in rows if r.uid == 3))


async def test_state_reports_last_epoch_emission_per_uid(tmp_path: Path) -> None:
    chain, wallets = await subnet(tmp_path / "c.sqlite")
    await chain.set_weights(wallets[0], {3: 1.0})
    await to_next_epoch(chain)
    last = {r.uid: r.emission for r in await chain.emissions(epoch=0)}
    assert {n.uid: n.emission for n in (await chain.state()).neurons} == pytest.approx(last)


async def test_full_subnet_replaces_the_lowest_pruning_score_after_immunity(tmp_path: Path) -> None:
    chain, wallets = await subnet(tmp_path / "c.sqlite", validators=(10.0,), miners=2, max_uids=3,
                                  immunity_period=TEMPO)
    await chain.set_weights(wallets[0], {2: 1.0})  # miner at uid 2 earns, miner at uid 1 does not
    await chain.advance(2 * TEMPO)
    newcomer = dev_wallet("newcomer")
    assert await chain.register(newcomer) == 1
    neuron = (await chain.state()).by_uid(1)
    assert (neuron.hotkey, neuron.axon, neuron.emission) == (newcomer.hotkey.ss58_address, None, 0.0)


async def test_full_subnet_with_every_uid_immune_refuses_registration(tmp_path: Path) -> None:
    chain, _ = await subnet(tmp_path / "c.sqlite", validators=(), miners=2, max_uids=2, immunity_period=100)
    with pytest.raises(ChainError, match="immune") as raised:
        await chain.register(dev_wallet("late"))
    assert "immunity" in raised.value.hint


async def test_permits_go_to_the_top_stakes(tmp_path: Path) -> None:
    chain, _ = await subnet(tmp_path / "c.sqlite", validators=(5.0, 50.0, 20.0), max_validators=2)
    assert [n.uid for n in (await chain.state()).validators()] == [1, 2]
    assert await chain.set_validator_permits(1) == [1]
    assert [n.uid for n in (await chain.state()).validators()] == [1]


async def test_unstaking_below_another_validator_moves_the_permit(tmp_path: Path) -> None:
    chain, wallets = await subnet(tmp_path / "c.sqlite", validators=(50.0, 20.0), max_validators=1)
    await chain.add_stake(wallets[0].hotkey.ss58_address, -40.0)
    assert [n.uid for n in (await chain.state()).validators()] == [1]


async def test_removing_more_stake_than_held_is_refused(tmp_path: Path) -> None:
    chain, wallets = await subnet(tmp_path / "c.sqlite", validators=(5.0,))
    with pytest.raises(ChainError, match="cannot remove"):
        await chain.add_stake(wallets[0].hotkey.ss58_address, -6.0)


async def test_weights_are_stored_quantized_like_the_sdk_submits_them(tmp_path: Path) -> None:
    chain, wallets = await subnet(tmp_path / "c.sqlite")
    await chain.set_weights(wallets[0], {4: 0.3, 3: 0.7})
    assert quantize_weights({4: 0.3, 3: 0.7}, 5) == ([3, 4], [65535, 28086])
    assert (await chain.weights())[0] == pytest.approx({3: 65535 / 93621, 4: 28086 / 93621})


async def test_block_clock_follows_wall_time(tmp_path: Path) -> None:
    chain = LocalChain(tmp_path / "c.sqlite", block_time=0.02)
    first = await chain.block()
    for _ in range(500):  # bounded: at most ~5 s, normally a few ticks
        if await chain.block() > first:
            break
        await asyncio.sleep(0.01)
    assert await chain.block() > first


async def test_processes_sharing_a_file_agree_on_block_hashes(tmp_path: Path) -> None:
    a, b = local_chain_at(tmp_path / "c.sqlite"), local_chain_at(tmp_path / "c.sqlite")
    await a.advance(3)
    assert await a.block_hash(2) == await b.block_hash(2)
    other = local_chain_at(tmp_path / "other.sqlite")
    await other.advance(3)
    assert await other.block_hash(2) != await a.block_hash(2)


async def test_parameters_are_fixed_by_the_process_that_created_the_file(tmp_path: Path) -> None:
    local_chain_at(tmp_path / "c.sqlite", tempo=7)
    later = local_chain_at(tmp_path / "c.sqlite", tempo=99)
    assert later.params.tempo == 7 and (await later.state()).tempo == 7


async def test_a_file_of_another_netuid_is_refused(tmp_path: Path) -> None:
    local_chain_at(tmp_path / "c.sqlite")
    with pytest.raises(ChainError, match="netuid 1, not 2"):
        LocalChain(tmp_path / "c.sqlite", netuid=2)


async def test_pending_epochs_run_exactly_once_when_readers_race(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    chain, wallets = await subnet(path)
    await chain.set_weights(wallets[0], {3: 1.0})
    with sqlite3.connect(path) as raw:  # time passes without anyone touching the chain
        raw.execute("UPDATE subnet SET block_offset = block_offset + ?", (4 * TEMPO,))
    readers = [local_chain_at(path) for _ in range(4)]
    await asyncio.gather(*(r.state() for r in readers), *(r.epochs() for r in readers))
    assert [e.epoch for e in await chain.epochs()] == [0, 1, 2, 3]


async def test_a_write_after_the_boundary_lands_after_the_epoch(tmp_path: Path) -> None:
    chain, wallets = await subnet(tmp_path / "c.sqlite")
    await chain.set_weights(wallets[0], {3: 1.0})
    await to_next_epoch(chain)  # this epoch sees miner 3 only
    await chain.advance(RATE_LIMIT)
    await chain.set_weights(wallets[0], {4: 1.0})
    first, = await chain.epochs()
    assert [r.incentive for r in await chain.emissions(epoch=first.epoch)][3:] == [1.0, 0.0]


def test_open_chain_builds_a_local_chain_under_the_data_dir(tmp_path: Path) -> None:
    chain = open_chain(ChainConfig(netuid=3, block_time=0.5), tmp_path)
    assert isinstance(chain, LocalChain)
    assert chain.path == tmp_path / "chain.sqlite" and chain.netuid == 3 and chain.params.block_time == 0.5


def test_open_chain_builds_a_bittensor_chain_for_a_network() -> None:
    chain = open_chain(ChainConfig(kind="bittensor", network="ws://127.0.0.1:9944", netuid=5), Path("/nowhere"))
    assert type(chain).__name__ == "BittensorChain" and chain.netuid == 5
