"""What the rest of glean sees of a subnet: frozen snapshots of neurons at one block, never SDK objects."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Neuron:
    """One uid of the subnet. Scores are fractions in [0, 1]; stake and emission are in the subnet's alpha."""

    uid: int
    hotkey: str
    coldkey: str
    stake: float
    validator_permit: bool
    active: bool
    axon: str | None  # "ip:port" (IPv6 as "[ip]:port") or None when nothing is served
    commitment: str | None
    incentive: float
    dividends: float
    emission: float  # earned in the last epoch
    last_update: int  # block of the last weight set (or of registration)
    block_at_registration: int
    validator_trust: float = 0.0  # share of its weights that survived consensus clipping in the last epoch


@dataclass(frozen=True)
class SubnetState:
    """The subnet at one block; `block_hash` seeds anything that must be unpredictable before that block."""

    netuid: int
    block: int
    block_hash: str
    tempo: int
    neurons: tuple[Neuron, ...]

    def by_hotkey(self, hotkey: str) -> Neuron | None:
        return next((n for n in self.neurons if n.hotkey == hotkey), None)

    def by_uid(self, uid: int) -> Neuron | None:
        return next((n for n in self.neurons if n.uid == uid), None)

    def validators(self) -> tuple[Neuron, ...]:
        """Holders of a validator permit."""
        return tuple(n for n in self.neurons if n.validator_permit)

    def miners(self) -> tuple[Neuron, ...]:
        """Neurons serving an axon without a validator permit: the ones a validator pulls data from."""
        return tuple(n for n in self.neurons if n.axon and not n.validator_permit)


@dataclass(frozen=True)
class NeuronAt:
    """A uid as of one past block: its stake, permit and commitment then (what the network desirability reads)."""

    uid: int
    hotkey: str
    stake: float
    validator_permit: bool
    commitment: str | None
    commitment_block: int | None  # the block the commitment was made at


@dataclass(frozen=True)
class SubnetHyperparameters:
    """The subnet settings a validator checks at start: weight copying, deregistration of new miners, weight cadence."""

    tempo: int  # blocks per epoch
    commit_reveal: bool  # weights are committed (hidden) and revealed `reveal_period` epochs later
    reveal_period: int  # epochs between a weights commit and its reveal
    immunity_period: int  # blocks a newly registered uid cannot be deregistered
    weights_rate_limit: int  # blocks a hotkey must wait between two weight sets (or commits)
