"""BittensorChain over the fake Substrate: the calls it composes, metagraph decoding, error mapping."""

from __future__ import annotations

import bittensor as bt
import pytest

from chain import BittensorChain
from chain.bittensor_chain import commitment_info
from schemas.errors import ChainError, NotRegisteredError, RateLimitedError
from tests.chain.conftest import RATE_LIMIT, dev_wallet
from tests.chain.fake_substrate import RAO, FakeSubstrate, SubmittedCall


async def setup_validator_and_miner(remote: BittensorChain, fake: FakeSubstrate):
    validator, miner = dev_wallet("validator"), dev_wallet("miner")
    await remote.register(validator)
    await remote.register(miner)
    fake.add_stake(validator.hotkey.ss58_address, 1000)
    fake.advance(RATE_LIMIT)
    fake.calls.clear()
    return validator, miner


def last_call(fake: FakeSubstrate) -> SubmittedCall:
    return fake.calls[-1]


async def test_set_weights_submits_set_mechanism_weights_with_u16_values(remote, fake) -> None:
    validator, _ = await setup_validator_and_miner(remote, fake)
    await remote.register(dev_wallet("miner2"))
    await remote.set_weights(validator, {2: 0.3, 1: 0.7})
    assert last_call(fake) == SubmittedCall(
        "SubtensorModule", "set_mechanism_weights",
        {"netuid": 1, "mecid": 0, "dests": [1, 2], "weights": [65535, 28086], "version_key": 0},
        validator.hotkey.ss58_address)


async def test_set_weights_commits_timelocked_when_commit_reveal_is_on(remote, fake) -> None:
    validator, _ = await setup_validator_and_miner(remote, fake)
    fake.commit_reveal = True
    await remote.set_weights(validator, {1: 1.0})
    call = last_call(fake)
    assert (call.module, call.function) == ("SubtensorModule", "commit_timelocked_mechanism_weights")
    assert (call.params["netuid"], call.params["mecid"], call.params["commit_reveal_version"]) == (1, 0, 4)
    assert call.params["reveal_round"] > 0 and len(call.params["commit"]) > 100
    assert 0 in fake.timelocked and 0 not in fake.weights  # hidden until the chain reveals it


async def test_serve_submits_serve_axon_with_the_ip_as_an_integer(remote, fake) -> None:
    _, miner = await setup_validator_and_miner(remote, fake)
    await remote.serve(miner, "203.0.113.7", 8091)
    assert last_call(fake) == SubmittedCall(
        "SubtensorModule", "serve_axon",
        {"netuid": 1, "version": 1, "ip": 3405803783, "port": 8091, "ip_type": 4, "protocol": 4,
         "placeholder1": 0, "placeholder2": 0},
        miner.hotkey.ss58_address)


async def test_register_goes_through_the_mev_shield_signed_by_the_coldkey(remote, fake) -> None:
    wallet = dev_wallet("newcomer")
    uid = await remote.register(wallet)
    carrier, inner = fake.calls
    assert (carrier.module, carrier.function) == ("MevShield", "submit_encrypted")
    assert inner == SubmittedCall("SubtensorModule", "burned_register",
                                  {"netuid": 1, "hotkey": wallet.hotkey.ss58_address},
                                  wallet.coldkeypub.ss58_address)
    assert carrier.signer == wallet.coldkeypub.ss58_address
    assert uid == 0


async def test_register_of_a_registered_hotkey_submits_nothing(remote, fake) -> None:
    wallet = dev_wallet("miner")
    await remote.register(wallet)
    fake.calls.clear()
    assert await remote.register(wallet) == 0
    assert fake.calls == []


async def test_register_that_loses_a_race_to_the_same_hotkey_returns_its_uid() -> None:
    class Racing(FakeSubstrate):
        def _burned_register(self, params: dict, coldkey: str) -> str | None:
            super()._burned_register(params, coldkey)  # another process got there first
            return "HotKeyAlreadyRegisteredInSubNet"

    chain = BittensorChain.for_network("local", 1, substrate=Racing())
    assert await chain.register(dev_wallet("twice")) == 0


async def test_failed_registration_is_a_chain_error_with_the_runtime_reason(remote, fake) -> None:
    fake.fail_next("burned_register", "SubNetRegistrationDisabled")
    with pytest.raises(ChainError, match="SubNetRegistrationDisabled"):
        await remote.register(dev_wallet("newcomer"))


async def test_commit_submits_the_raw_commitments_call_signed_by_the_hotkey(remote, fake) -> None:
    _, miner = await setup_validator_and_miner(remote, fake)
    await remote.commit(miner, "hf:glean/world-news@r7")
    assert last_call(fake) == SubmittedCall(
        "Commitments", "set_commitment",
        {"netuid": 1, "info": {"fields": [[{"Raw22": b"hf:glean/world-news@r7"}]]}},
        miner.hotkey.ss58_address)


def test_commitment_info_splits_long_text_into_raw_fields_of_128_bytes() -> None:
    fields = commitment_info("a" * 300)["fields"][0]
    assert [list(f) for f in fields] == [["Raw128"], ["Raw128"], ["Raw44"]]
    assert b"".join(next(iter(f.values())) for f in fields) == b"a" * 300


async def test_serve_with_a_bad_ip_is_refused_before_anything_is_submitted(remote, fake) -> None:
    _, miner = await setup_validator_and_miner(remote, fake)
    with pytest.raises(ChainError, match="not an IP address"):
        await remote.serve(miner, "miner.example", 8091)
    assert fake.calls == []


async def test_metagraph_decodes_stake_scores_emission_and_axon(remote, fake) -> None:
    validator, miner = await setup_validator_and_miner(remote, fake)
    await remote.serve(miner, "2001:db8::1", 443)
    fake.set_scores(1, incentive=0.5, emission=2.25)
    fake.set_scores(0, dividends=1.0, emission=3.0, validator_trust=0.75)
    state = await remote.state()
    v, m = state.by_uid(0), state.by_uid(1)
    assert (v.stake, v.validator_permit, v.dividends, v.emission) == (1000.0, True, 1.0, 3.0)
    assert v.validator_trust == pytest.approx(0.75, abs=1e-4) and m.validator_trust == 0.0
    assert m.incentive == pytest.approx(0.5, abs=1e-4)
    assert (m.emission, m.axon, m.stake) == (2.25, "[2001:db8::1]:443", 0.0)
    assert (state.tempo, state.netuid, state.block) == (fake.tempo, 1, fake.block)


async def test_metagraph_reports_last_update_and_activity(remote, fake) -> None:
    validator, _ = await setup_validator_and_miner(remote, fake)
    await remote.set_weights(validator, {1: 1.0})
    fake.advance(fake.activity_cutoff + 1)
    neuron = (await remote.state()).by_uid(0)
    assert neuron.last_update == fake.block - fake.activity_cutoff - 1
    assert neuron.active is False


async def test_state_of_a_missing_subnet_is_a_clear_error(fake) -> None:
    chain = BittensorChain.for_network("local", 42, substrate=fake)
    with pytest.raises(ChainError, match="subnet 42 does not exist") as raised:
        await chain.state()
    assert "netuid" in raised.value.hint


async def test_preflight_rate_limit_becomes_rate_limited_error_with_the_wait(remote, fake) -> None:
    validator, _ = await setup_validator_and_miner(remote, fake)
    await remote.set_weights(validator, {1: 1.0})
    fake.advance(1)
    fake.calls.clear()
    with pytest.raises(RateLimitedError) as raised:
        await remote.set_weights(validator, {1: 1.0})
    assert raised.value.retry_after_blocks == RATE_LIMIT - 1
    assert fake.calls == []  # refused before signing


async def test_chain_side_rate_limit_is_mapped_with_the_remaining_blocks(remote, fake) -> None:
    validator, _ = await setup_validator_and_miner(remote, fake)
    fake.fail_next("set_mechanism_weights", "SettingWeightsTooFast")
    with pytest.raises(RateLimitedError) as raised:
        await remote.set_weights(validator, {1: 1.0})
    assert raised.value.retry_after_blocks >= 1


async def test_preflight_not_registered_becomes_not_registered_error_with_a_hint(remote, fake) -> None:
    await setup_validator_and_miner(remote, fake)
    with pytest.raises(NotRegisteredError) as raised:
        await remote.set_weights(dev_wallet("stranger"), {1: 1.0})
    assert "btcli subnets register --netuid 1" in raised.value.hint


async def test_chain_side_failure_keeps_the_runtime_error_name_and_remediation(remote, fake) -> None:
    _, miner = await setup_validator_and_miner(remote, fake)
    fake.fail_next("serve_axon", "ServingRateLimitExceeded")
    with pytest.raises(RateLimitedError, match="ServingRateLimitExceeded"):
        await remote.serve(miner, "127.0.0.1", 9000)
    fake.fail_next("serve_axon", "InvalidIpAddress")
    with pytest.raises(ChainError, match="InvalidIpAddress") as raised:
        await remote.serve(miner, "127.0.0.1", 9000)
    assert raised.value.hint


async def test_sdk_argument_errors_become_chain_errors(remote, fake) -> None:
    validator, _ = await setup_validator_and_miner(remote, fake)
    with pytest.raises(ChainError, match="non-negative"):
        await remote.set_weights(validator, {1: -1.0})


async def test_unreachable_endpoint_is_a_chain_error_naming_the_network(fake) -> None:
    class Unreachable(FakeSubstrate):
        async def connect(self) -> None:
            raise bt.RpcConnectionError("connection refused")

    chain = BittensorChain.for_network("ws://127.0.0.1:9", 1, substrate=Unreachable())
    with pytest.raises(ChainError, match="unreachable") as raised:
        await chain.block()
    assert "chain.network" in raised.value.hint


async def test_the_client_policy_pins_intents_to_the_configured_netuid(remote) -> None:
    policy = remote.client.policy
    assert policy.allowed_netuids == [1] and policy.allow_raw_calls


async def test_close_closes_the_substrate(remote, fake) -> None:
    await remote.block()
    await remote.close()
    assert fake.closed


async def test_stake_is_read_in_whole_units_from_rao(remote, fake) -> None:
    wallet = dev_wallet("v")
    await remote.register(wallet)
    fake.neurons[0].stake_rao = 1_500_000_000
    assert (await remote.state()).by_uid(0).stake == 1.5
    assert RAO == 10**9
