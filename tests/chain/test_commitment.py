import sqlite3

import pytest

from chain.commitment import Commitment
from chain.constants import MAX_COMMITMENT_BYTES
from schemas.errors import ChainError
from tests.chain.conftest import Contract, local_chain_at
from tests.chain.devkeys import dev_wallet

HASH = "ab" * 32


def test_release_and_list_hash_round_trip_in_one_commitment():
    both = Commitment(release="glean/data@r00000007", desirability=HASH)
    assert Commitment.decode(both.encode()) == both
    assert Commitment.decode(Commitment(desirability=HASH).encode()) == Commitment(desirability=HASH)


def test_a_bare_release_location_is_the_older_format_without_a_list():
    assert Commitment.decode("glean/data@r00000007") == Commitment(release="glean/data@r00000007")
    assert Commitment.decode(None) == Commitment() and Commitment.decode("  ") == Commitment()


def test_a_malformed_commitment_names_nothing():
    assert Commitment.decode('{"release": 3, "desirability": "not-a-hash"}') == Commitment()
    assert Commitment.decode("{broken") == Commitment()


def test_a_long_local_folder_and_the_hash_fit_the_pallet_limit():
    folder = "/home/operator/.glean/validator-2/hub/" + "x" * 150 + "@r00000001"
    text = Commitment(release=folder, desirability=HASH).encode()
    assert len(text.encode()) <= MAX_COMMITMENT_BYTES


def test_a_commitment_over_the_pallet_limit_is_refused_with_a_fix():
    with pytest.raises(ChainError, match="commitment holds") as raised:
        Commitment(release="x" * 400 + "@r00000001", desirability=HASH).encode()
    assert raised.value.hint


def test_an_empty_or_malformed_hash_is_refused():
    with pytest.raises(ChainError, match="nothing to commit"):
        Commitment().encode()
    with pytest.raises(ChainError, match="sha256"):
        Commitment(desirability="XYZ").encode()


async def test_commitments_are_read_as_of_a_block(contract: Contract) -> None:
    wallet = dev_wallet("validator")
    uid = await contract.chain.register(wallet)
    await contract.chain.commit(wallet, "first")
    first = await contract.chain.block()
    await contract.advance(3)
    await contract.chain.commit(wallet, "second")
    then = {n.uid: n for n in await contract.chain.commitments_at(first)}
    now = {n.uid: n for n in await contract.chain.commitments_at(await contract.chain.block())}
    assert (then[uid].commitment, then[uid].commitment_block) == ("first", first)
    assert (now[uid].commitment, now[uid].commitment_block) == ("second", first + 3)


async def test_commitments_of_a_future_block_are_an_error(contract: Contract) -> None:
    with pytest.raises(ChainError, match="does not exist yet"):
        await contract.chain.commitments_at(await contract.chain.block() + 5)


async def test_local_stake_and_permits_are_read_as_of_a_block(local) -> None:
    low, high = dev_wallet("low"), dev_wallet("high")
    await local.register(low)
    await local.register(high)
    await local.add_stake(low.hotkey.ss58_address, 10.0)
    before = await local.block()
    await local.advance(2)
    await local.add_stake(high.hotkey.ss58_address, 50.0)
    await local.set_validator_permits(1)
    then = {n.hotkey: n for n in await local.commitments_at(before)}
    now = {n.hotkey: n for n in await local.commitments_at(await local.block())}
    assert then[low.hotkey.ss58_address].validator_permit and then[high.hotkey.ss58_address].stake == 0.0
    assert now[high.hotkey.ss58_address].validator_permit and not now[low.hotkey.ss58_address].validator_permit


async def test_a_chain_file_without_history_keeps_its_stakes_and_commitments(tmp_path) -> None:
    path = tmp_path / "chain.sqlite"
    chain = local_chain_at(path)
    wallet = dev_wallet("validator")
    await chain.register(wallet)
    await chain.add_stake(wallet.hotkey.ss58_address, 5.0)
    await chain.commit(wallet, "older")
    await chain.close()
    with sqlite3.connect(path) as conn:  # as a schema-2 file left it
        conn.execute("DELETE FROM stake_history")
        conn.execute("DELETE FROM commitment_history")
        conn.execute("PRAGMA user_version=2")
    reopened = local_chain_at(path)
    (neuron,) = await reopened.commitments_at(await reopened.block())
    assert (neuron.stake, neuron.commitment, neuron.validator_permit) == (5.0, "older", True)
    await reopened.close()


def test_pull_finds_releases_in_both_commitment_formats():
    from types import SimpleNamespace

    from glean.pull_cmd import newest_commitment

    def validator(commitment: str, stake: float) -> SimpleNamespace:
        return SimpleNamespace(validator_permit=True, commitment=commitment, stake=stake)

    neurons = [validator(Commitment(release="org/data@r00000003", desirability=HASH).encode(), 5.0),
               validator("org/data@r00000002", 1.0), validator(Commitment(desirability=HASH).encode(), 9.0)]
    assert newest_commitment(neurons) == ("org/data", "r00000003")
