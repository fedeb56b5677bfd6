"""The Chain contract: every test runs against LocalChain and against BittensorChain over the fake Substrate."""

from __future__ import annotations

import pytest

from chain import Chain
from schemas.errors import ChainError, NotRegisteredError, RateLimitedError
from tests.chain.conftest import RATE_LIMIT, Contract, dev_wallet


async def registered_validator(contract: Contract, name: str = "validator", stake: float = 100.0):
    wallet = dev_wallet(name)
    uid = await contract.chain.register(wallet)
    await contract.stake(wallet.hotkey.ss58_address, stake)
    return wallet, uid


async def test_both_implementations_satisfy_the_protocol(contract: Contract) -> None:
    assert isinstance(contract.chain, Chain)
    assert contract.chain.netuid == 1


async def test_register_assigns_consecutive_uids(contract: Contract) -> None:
    uids = [await contract.chain.register(dev_wallet(f"n{i}")) for i in range(3)]
    assert uids == [0, 1, 2]


async def test_register_is_idempotent_for_a_registered_hotkey(contract: Contract) -> None:
    wallet = dev_wallet("miner")
    first = await contract.chain.register(wallet)
    assert await contract.chain.register(wallet) == first
    assert len((await contract.chain.state()).neurons) == 1


async def test_state_shows_registered_hotkey_and_coldkey(contract: Contract) -> None:
    wallet = dev_wallet("miner")
    uid = await contract.chain.register(wallet)
    neuron = (await contract.chain.state()).by_hotkey(wallet.hotkey.ss58_address)
    assert neuron is not None
    assert (neuron.uid, neuron.coldkey) == (uid, wallet.coldkeypub.ss58_address)
    assert neuron.axon is None and neuron.commitment is None and not neuron.validator_permit


async def test_serve_publishes_the_axon_address(contract: Contract) -> None:
    wallet = dev_wallet("miner")
    uid = await contract.chain.register(wallet)
    await contract.chain.serve(wallet, "127.0.0.1", 8091)
    assert (await contract.chain.state()).by_uid(uid).axon == "127.0.0.1:8091"


async def test_serve_formats_ipv6_addresses_in_brackets(contract: Contract) -> None:
    wallet = dev_wallet("miner")
    uid = await contract.chain.register(wallet)
    await contract.chain.serve(wallet, "2001:db8::7", 8091)
    assert (await contract.chain.state()).by_uid(uid).axon == "[2001:db8::7]:8091"


async def test_serve_refuses_the_unspecified_address(contract: Contract) -> None:
    wallet = dev_wallet("miner")
    await contract.chain.register(wallet)
    with pytest.raises(ChainError, match="not reachable"):
        await contract.chain.serve(wallet, "0.0.0.0", 8091)


async def test_serve_by_an_unregistered_hotkey_is_refused(contract: Contract) -> None:
    with pytest.raises(NotRegisteredError) as raised:
        await contract.chain.serve(dev_wallet("stranger"), "127.0.0.1", 8091)
    assert "register" in raised.value.hint


async def test_commit_is_visible_in_the_state(contract: Contract) -> None:
    wallet = dev_wallet("miner")
    uid = await contract.chain.register(wallet)
    await contract.chain.commit(wallet, "hf:glean/ml-research@v3")
    assert (await contract.chain.state()).by_uid(uid).commitment == "hf:glean/ml-research@v3"


async def test_commit_longer_than_one_raw_field_round_trips(contract: Contract) -> None:
    wallet = dev_wallet("miner")
    uid = await contract.chain.register(wallet)
    text = "sha256:" + "ab" * 100
    await contract.chain.commit(wallet, text)
    assert (await contract.chain.state()).by_uid(uid).commitment == text


async def test_commit_over_the_pallet_limit_is_refused(contract: Contract) -> None:
    wallet = dev_wallet("miner")
    await contract.chain.register(wallet)
    with pytest.raises(ChainError, match="commitment holds"):
        await contract.chain.commit(wallet, "x" * 400)


async def test_commit_by_an_unregistered_hotkey_is_refused(contract: Contract) -> None:
    with pytest.raises(NotRegisteredError):
        await contract.chain.commit(dev_wallet("stranger"), "hf:x/y@z")


async def test_set_weights_by_an_unregistered_hotkey_is_refused(contract: Contract) -> None:
    await contract.chain.register(dev_wallet("miner"))
    with pytest.raises(NotRegisteredError):
        await contract.chain.set_weights(dev_wallet("stranger"), {0: 1.0})


async def test_second_set_weights_inside_the_rate_limit_is_refused_with_the_wait(contract: Contract) -> None:
    validator, _ = await registered_validator(contract)
    await contract.chain.register(dev_wallet("miner"))
    await contract.advance(contract.rate_limit)
    await contract.chain.set_weights(validator, {1: 1.0})
    await contract.advance(2)
    with pytest.raises(RateLimitedError) as raised:
        await contract.chain.set_weights(validator, {1: 1.0})
    assert raised.value.retry_after_blocks == contract.rate_limit - 2
    assert "retry" in str(raised.value).lower()


async def test_set_weights_is_accepted_once_the_rate_limit_passed(contract: Contract) -> None:
    validator, uid = await registered_validator(contract)
    await contract.chain.register(dev_wallet("miner"))
    await contract.advance(contract.rate_limit)
    await contract.chain.set_weights(validator, {1: 1.0})
    await contract.advance(contract.rate_limit)
    await contract.chain.set_weights(validator, {1: 0.5})
    assert await contract.chain.blocks_since_last_update(uid) == 0


async def test_first_set_weights_waits_out_the_limit_from_registration(contract: Contract) -> None:
    validator, _ = await registered_validator(contract)
    await contract.chain.register(dev_wallet("miner"))
    with pytest.raises(RateLimitedError) as raised:
        await contract.chain.set_weights(validator, {1: 1.0})
    assert raised.value.retry_after_blocks == contract.rate_limit


async def test_weights_rate_limit_reports_the_subnet_setting(contract: Contract) -> None:
    assert await contract.chain.weights_rate_limit() == contract.rate_limit


async def test_blocks_since_last_update_counts_from_the_weight_set(contract: Contract) -> None:
    validator, uid = await registered_validator(contract)
    await contract.chain.register(dev_wallet("miner"))
    await contract.advance(contract.rate_limit)
    await contract.chain.set_weights(validator, {1: 1.0})
    await contract.advance(3)
    assert await contract.chain.blocks_since_last_update(uid) == 3


async def test_blocks_since_last_update_of_an_unknown_uid_is_an_error(contract: Contract) -> None:
    with pytest.raises(ChainError, match="uid 7"):
        await contract.chain.blocks_since_last_update(7)


async def test_set_weights_without_a_validator_permit_is_refused(contract: Contract) -> None:
    unstaked = dev_wallet("unstaked")
    await contract.chain.register(unstaked)
    await contract.chain.register(dev_wallet("miner"))
    await contract.advance(contract.rate_limit)
    with pytest.raises(ChainError, match="(?i)permit") as raised:
        await contract.chain.set_weights(unstaked, {1: 1.0})
    assert not isinstance(raised.value, (RateLimitedError, NotRegisteredError))


async def test_set_weights_naming_a_missing_uid_is_refused(contract: Contract) -> None:
    validator, _ = await registered_validator(contract)
    await contract.advance(contract.rate_limit)
    with pytest.raises(ChainError):
        await contract.chain.set_weights(validator, {9: 1.0})


async def test_set_weights_with_only_zeros_is_refused(contract: Contract) -> None:
    validator, _ = await registered_validator(contract)
    await contract.chain.register(dev_wallet("miner"))
    await contract.advance(contract.rate_limit)
    with pytest.raises(ChainError, match="(?i)zero"):
        await contract.chain.set_weights(validator, {1: 0.0})


async def test_stake_gives_a_validator_permit_and_splits_validators_from_miners(contract: Contract) -> None:
    validator, vuid = await registered_validator(contract)
    miner = dev_wallet("miner")
    muid = await contract.chain.register(miner)
    await contract.chain.serve(miner, "127.0.0.1", 9000)
    state = await contract.chain.state()
    assert [n.uid for n in state.validators()] == [vuid]
    assert [n.uid for n in state.miners()] == [muid]
    assert state.by_uid(vuid).stake == pytest.approx(100.0)


async def test_block_advances(contract: Contract) -> None:
    before = await contract.chain.block()
    await contract.advance(4)
    assert await contract.chain.block() == before + 4


async def test_block_hash_is_stable_for_a_block_and_differs_between_blocks(contract: Contract) -> None:
    block = await contract.chain.block()
    await contract.advance(1)
    first = await contract.chain.block_hash(block)
    assert first == await contract.chain.block_hash(block)
    assert first != await contract.chain.block_hash(block + 1)
    assert first.startswith("0x") and len(first) == 66


async def test_state_carries_the_hash_of_its_block(contract: Contract) -> None:
    state = await contract.chain.state()
    assert state.block_hash == await contract.chain.block_hash(state.block)


async def test_block_hash_of_a_future_block_is_an_error(contract: Contract) -> None:
    block = await contract.chain.block()
    with pytest.raises(ChainError):
        await contract.chain.block_hash(block + 10)


async def test_hyperparameters_report_the_subnet_settings(configured) -> None:
    contract = configured(commit_reveal=True, reveal_period=2, immunity_period=900)
    hp = await contract.chain.subnet_hyperparameters()
    settings = (hp.commit_reveal, hp.reveal_period, hp.immunity_period, hp.weights_rate_limit)
    assert settings == (True, 2, 900, RATE_LIMIT)
    assert hp.tempo > 0
    off = await configured(commit_reveal=False).chain.subnet_hyperparameters()
    assert off.commit_reveal is False


async def test_weights_under_commit_reveal_are_accepted_and_rate_limited(configured) -> None:
    contract = configured(commit_reveal=True)
    wallet, uid = await registered_validator(contract)
    miner = await contract.chain.register(dev_wallet("miner"))
    await contract.advance(RATE_LIMIT)
    await contract.chain.set_weights(wallet, {miner: 1.0})
    assert await contract.chain.blocks_since_last_update(uid) == 0
    with pytest.raises(RateLimitedError):
        await contract.chain.set_weights(wallet, {miner: 1.0})
