"""The launch checks: each problem of the subnet's hyperparameters comes with the owner's btcli command."""

from __future__ import annotations

from chain.launch import subnet_advice
from chain.state import SubnetHyperparameters

GOOD = SubnetHyperparameters(tempo=360, commit_reveal=True, reveal_period=1, immunity_period=4096,
                             weights_rate_limit=100)


def advice(**changes):
    return {a.name: a for a in subnet_advice(SubnetHyperparameters(**{**GOOD.__dict__, **changes}), 7)}


def test_a_subnet_set_up_for_glean_needs_nothing():
    assert subnet_advice(GOOD, 7) == []


def test_commit_reveal_off_is_reported_with_the_command_that_turns_it_on():
    found = advice(commit_reveal=False)
    assert set(found) == {"commit_reveal_weights_enabled"}
    assert found["commit_reveal_weights_enabled"].command == (
        "btcli sudo set --netuid 7 --name commit_reveal_weights_enabled --value true")
    assert "weight copiers" in found["commit_reveal_weights_enabled"].problem


def test_an_immunity_period_within_the_reveal_delay_is_reported():
    found = advice(immunity_period=720, reveal_period=2)  # 2 × 360 = 720: not longer
    assert found["immunity_period"].command == "btcli sudo set --netuid 7 --name immunity_period --value 1440"
    assert advice(immunity_period=721, reveal_period=2) == {}


def test_a_rate_limit_longer_than_the_tempo_is_reported_as_root_only():
    found = advice(weights_rate_limit=361)
    assert "not owner-settable" in found["weights_rate_limit"].command
    assert "btcli sudo get --netuid 7" in found["weights_rate_limit"].command
