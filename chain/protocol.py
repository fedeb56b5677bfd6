"""The Chain seam: the only chain interface miners, validators and the CLI use (two implementations, one contract)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from chain.state import NeuronAt, SubnetHyperparameters, SubnetState

if TYPE_CHECKING:
    from bittensor.keyfiles import Keypair


class Wallet(Protocol):
    """What miners and validators use of a wallet: its hotkey, a Keypair (`ss58_address`, signs requests). The SDK's
    `bittensor.Wallet` is one; tests use in-memory ones."""

    @property
    def hotkey(self) -> Keypair: ...


@runtime_checkable
class Chain(Protocol):
    """A subnet on some chain. `wallet` is anything with `.hotkey` (a Keypair) and `.coldkeypub`.

    Writes raise `schemas.errors.NotRegisteredError`, `RateLimitedError` (with `retry_after_blocks`) or
    `ChainError`, each with a hint that says what to do.
    """

    netuid: int

    async def state(self) -> SubnetState: ...

    async def block(self) -> int: ...

    async def block_hash(self, block: int) -> str: ...

    async def register(self, wallet: Any) -> int: ...

    async def serve(self, wallet: Any, ip: str, port: int) -> None: ...

    async def set_weights(self, wallet: Any, weights: Mapping[int, float], *, version_key: int = 0) -> None:
        """`version_key`: the setter's weights version (a subnet refuses one below its `weights_version`)."""

    async def commit(self, wallet: Any, data: str) -> None: ...

    async def commitments_at(self, block: int) -> tuple[NeuronAt, ...]:
        """Every uid as of a past or current `block`: stake, permit and the commitment then in force."""

    async def weights_rate_limit(self) -> int: ...

    async def subnet_hyperparameters(self) -> SubnetHyperparameters:
        """Commit-reveal, reveal period, immunity period, weights rate limit and tempo, read at one block."""

    async def blocks_since_last_update(self, uid: int) -> int: ...

    async def close(self) -> None: ...
