"""LocalChain: the Chain protocol over the embedded chain file, plus the local owner's levers and the history."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chain.local import neurons, reads
from chain.local.schema import EmissionRecord, EpochRecord, Subnet
from chain.local.store import ChainFile
from chain.local.weights import blocks_since_last_update, pending_commits, set_weights, stored_weights
from chain.state import NeuronAt, SubnetHyperparameters, SubnetState


def _hotkey(wallet: Any) -> str:
    return wallet.hotkey.ss58_address


def _coldkey(wallet: Any) -> str:
    return wallet.coldkeypub.ss58_address


class LocalChain:
    """The embedded chain (see the `chain.local` docstring). Async methods run their SQLite work in a thread."""

    def __init__(self, path: Path | str, netuid: int = 1, *, tempo: int | None = None,
                 block_time: float | None = None, weights_rate_limit: int | None = None,
                 immunity_period: int | None = None, max_uids: int | None = None,
                 max_validators: int | None = None, activity_cutoff: int | None = None,
                 emission_per_block: float | None = None, commit_reveal: bool | None = None,
                 reveal_period: int | None = None) -> None:
        self.path = Path(path).expanduser()
        self.netuid = netuid
        requested = {"tempo": tempo, "block_time": block_time, "weights_rate_limit": weights_rate_limit,
                     "immunity_period": immunity_period, "max_uids": max_uids, "max_validators": max_validators,
                     "activity_cutoff": activity_cutoff, "emission_per_block": emission_per_block,
                     "commit_reveal": commit_reveal, "reveal_period": reveal_period}
        self._file = ChainFile(self.path, netuid)
        self.params = self._file.initialise({name: value for name, value in requested.items() if value is not None})

    # --- the Chain protocol ------------------------------------------------------------------------------------

    async def state(self) -> SubnetState:
        return await asyncio.to_thread(self._file.read, reads.subnet_state)

    async def block(self) -> int:
        return await asyncio.to_thread(self._file.read, lambda _conn, _sub, block: block)

    async def block_hash(self, block: int) -> str:
        return await asyncio.to_thread(self._file.read, lambda _conn, sub, now: reads.hash_of(sub, block, now))

    async def register(self, wallet: Any) -> int:
        hotkey, coldkey = _hotkey(wallet), _coldkey(wallet)
        return await asyncio.to_thread(self._file.write, lambda c, s, b: neurons.register(c, s, b, hotkey, coldkey))

    async def serve(self, wallet: Any, ip: str, port: int) -> None:
        hotkey = _hotkey(wallet)
        await asyncio.to_thread(self._file.write, lambda c, s, b: neurons.serve(c, s, hotkey, ip, port))

    async def set_weights(self, wallet: Any, weights: Mapping[int, float], *, version_key: int = 0) -> None:
        # `version_key` is accepted and not checked: the LocalChain has no weights_version hyperparameter.
        hotkey, weights = _hotkey(wallet), dict(weights)
        await asyncio.to_thread(self._file.write, lambda c, s, b: set_weights(c, s, b, hotkey, weights))

    async def commit(self, wallet: Any, data: str) -> None:
        hotkey = _hotkey(wallet)
        await asyncio.to_thread(self._file.write, lambda c, s, b: neurons.commit(c, s, b, hotkey, data))

    async def commitments_at(self, block: int) -> tuple[NeuronAt, ...]:
        return await asyncio.to_thread(self._file.read, lambda c, s, b: reads.neurons_at(c, s, block, b))

    async def weights_rate_limit(self) -> int:
        return self.params.weights_rate_limit

    async def subnet_hyperparameters(self) -> SubnetHyperparameters:
        p = self.params  # fixed when the file was created
        return SubnetHyperparameters(tempo=p.tempo, commit_reveal=p.commit_reveal, reveal_period=p.reveal_period,
                                     immunity_period=p.immunity_period, weights_rate_limit=p.weights_rate_limit)

    async def blocks_since_last_update(self, uid: int) -> int:
        return await asyncio.to_thread(self._file.read, lambda c, s, b: blocks_since_last_update(c, b, uid))

    async def close(self) -> None:
        self._file.close()

    # --- local-only extras: the owner's levers and the history -------------------------------------------------

    async def add_stake(self, hotkey: str, amount: float) -> float:
        """Add (or, negative, remove) stake on a hotkey as the local owner; returns the new stake."""
        return await asyncio.to_thread(self._file.write, lambda c, s, b: neurons.add_stake(c, s, b, hotkey, amount))

    async def set_validator_permits(self, max_validators: int | None = None) -> list[int]:
        """Recompute permits now (top-k stake among stake > 0), optionally with a new k; returns the holders."""
        return await asyncio.to_thread(self._file.write, lambda c, s, b: self._set_permits(c, s, max_validators))

    async def advance(self, blocks: int) -> int:
        """Move the clock forward (tests, demos); pending epochs run. Returns the new block."""
        return await asyncio.to_thread(self._file.advance, blocks)

    async def epochs(self) -> list[EpochRecord]:
        return await asyncio.to_thread(self._file.read, lambda c, s, b: reads.epochs(c))

    async def emissions(self, *, epoch: int | None = None, uid: int | None = None) -> list[EmissionRecord]:
        """Per uid per epoch history, optionally for one epoch and/or one uid, ordered by (epoch, uid)."""
        return await asyncio.to_thread(self._file.read, lambda c, s, b: reads.emissions(c, epoch, uid))

    async def emission_totals(self) -> dict[str, float]:
        """Total emission earned per hotkey over the chain's whole history."""
        return await asyncio.to_thread(self._file.read, lambda c, s, b: reads.emission_totals(c))

    async def weights(self) -> dict[int, dict[int, float]]:
        """The stored (revealed) weights per setter uid, row-normalised; commits still hidden are not among them."""
        return await asyncio.to_thread(self._file.read, lambda c, s, b: stored_weights(c))

    async def pending_commits(self) -> dict[int, int]:
        """With commit-reveal on: uid -> the epoch whose run reveals its latest weights commit."""
        return await asyncio.to_thread(self._file.read, lambda c, s, b: pending_commits(c))

    def __repr__(self) -> str:
        return f"LocalChain(path={str(self.path)!r}, netuid={self.netuid})"

    def _set_permits(self, conn: sqlite3.Connection, sub: Subnet, max_validators: int | None) -> list[int]:
        if max_validators is not None:
            self.params = neurons.store_max_validators(conn, sub, max_validators)
        return neurons.set_permits(conn, sub, max_validators)
