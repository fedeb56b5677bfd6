"""LocalChain's commit-reveal: weights set while it is on are a hidden commit until `reveal_period` epochs have run;
only then do Yuma and `weights()` see them. Off (the local default), weights count at the next epoch."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chain.test_local_chain import TEMPO, subnet, to_next_epoch


async def incentive(chain, uid: int) -> float:
    return (await chain.state()).by_uid(uid).incentive


async def test_weights_count_at_the_next_epoch_when_commit_reveal_is_off(tmp_path: Path) -> None:
    chain, wallets = await subnet(tmp_path / "c.sqlite", validators=(100.0,), miners=2)
    await chain.set_weights(wallets[0], {1: 1.0})
    assert await chain.weights() == {0: {1: 1.0}}
    await to_next_epoch(chain)
    assert await incentive(chain, 1) == pytest.approx(1.0)


@pytest.mark.parametrize("period", [1, 2])
async def test_committed_weights_are_hidden_until_the_reveal_epoch(tmp_path: Path, period: int) -> None:
    chain, wallets = await subnet(tmp_path / "c.sqlite", validators=(100.0,), miners=2, commit_reveal=True,
                                  reveal_period=period)
    await chain.set_weights(wallets[0], {1: 1.0})
    assert await chain.weights() == {}
    for _ in range(period):  # the epochs before the reveal pay nobody by these weights
        await to_next_epoch(chain)
        assert await chain.weights() == {} and await incentive(chain, 1) == 0.0
    await to_next_epoch(chain)
    assert await chain.weights() == {0: {1: 1.0}}
    assert await incentive(chain, 1) == pytest.approx(1.0)
    assert await chain.pending_commits() == {}


async def test_the_latest_commit_wins_at_the_reveal(tmp_path: Path) -> None:
    chain, wallets = await subnet(tmp_path / "c.sqlite", validators=(100.0,), miners=2, commit_reveal=True,
                                  weights_rate_limit=1)
    await chain.set_weights(wallets[0], {1: 1.0})
    await chain.advance(1)
    await chain.set_weights(wallets[0], {2: 1.0})
    await to_next_epoch(chain)
    await to_next_epoch(chain)
    assert await chain.weights() == {0: {2: 1.0}}


async def test_a_commit_counts_against_the_rate_limit(tmp_path: Path) -> None:
    chain, wallets = await subnet(tmp_path / "c.sqlite", validators=(100.0,), miners=2, commit_reveal=True)
    await chain.set_weights(wallets[0], {1: 1.0})
    assert await chain.blocks_since_last_update(0) == 0


async def test_hyperparameters_name_the_commit_reveal_settings(tmp_path: Path) -> None:
    chain, _ = await subnet(tmp_path / "c.sqlite", commit_reveal=True, reveal_period=3, immunity_period=77)
    hp = await chain.subnet_hyperparameters()
    assert (hp.commit_reveal, hp.reveal_period, hp.immunity_period, hp.tempo) == (True, 3, 77, TEMPO)
