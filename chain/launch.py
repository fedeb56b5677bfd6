"""What a validator checks of its subnet's hyperparameters at start, each problem with the owner's `btcli` command.

Weight copying: without commit-reveal anyone can copy the validators' weights as soon as they are set and earn
dividends without validating. With it on, weights reach the chain `reveal_period` epochs late, so a new miner needs
an immunity period longer than that delay (plus a validator's scoring) or it is deregistered before it is ever
paid. And a weights rate limit longer than the tempo keeps validators from setting weights once per epoch.
The commands are btcli 11.3.0's (`btcli sudo set --netuid N --name NAME --value V`, signed by the owner coldkey).
"""

from __future__ import annotations

from dataclasses import dataclass

from chain import constants as k
from chain.state import SubnetHyperparameters


@dataclass(frozen=True)
class Advice:
    """One problem with the subnet's settings: what is wrong and why it matters, and what the owner runs to fix it."""

    name: str  # the hyperparameter, as btcli names it
    problem: str
    command: str


def owner_command(netuid: int, name: str, value: object) -> str:
    """The btcli command that sets an owner-settable hyperparameter."""
    return f"btcli sudo set --netuid {netuid} --name {name} --value {value}"


def subnet_advice(hp: SubnetHyperparameters, netuid: int) -> list[Advice]:
    """Every launch problem of a subnet with these hyperparameters (empty when it is set up for glean)."""
    advice = []
    if not hp.commit_reveal:
        advice.append(Advice(
            "commit_reveal_weights_enabled",
            f"commit-reveal is off on subnet {netuid}: validators' weights are public as soon as they are set, so "
            "weight copiers earn dividends without validating",
            owner_command(netuid, "commit_reveal_weights_enabled", "true")))
    delay = hp.reveal_period * hp.tempo
    if hp.immunity_period <= delay:
        wanted = (hp.reveal_period + k.IMMUNITY_MARGIN_EPOCHS) * hp.tempo
        advice.append(Advice(
            "immunity_period",
            f"the immunity period ({hp.immunity_period} blocks) is not longer than the commit-reveal delay "
            f"(reveal period {hp.reveal_period} × tempo {hp.tempo} = {delay} blocks): a new miner can be "
            "deregistered before the weights that pay it are revealed",
            owner_command(netuid, "immunity_period", wanted)))
    if hp.weights_rate_limit > hp.tempo:
        advice.append(Advice(
            "weights_rate_limit",
            f"the weights rate limit ({hp.weights_rate_limit} blocks) is longer than the tempo ({hp.tempo} blocks): "
            "validators cannot set weights every epoch, so miners' pay lags their work",
            f"weights_rate_limit is not owner-settable (root only); check it with `btcli sudo get --netuid {netuid}` "
            f"and ask the chain's operators to set it to at most the tempo ({hp.tempo})"))
    return advice
