"""BittensorChain: the Chain seam over the real network with the bittensor 11.3.0 SDK (`bt.Client` + intents).

The only module of glean that uses the SDK's chain API. Writes go through `client.execute(intent, wallet)`
(`ServeAxon`, `SetWeights` — plain or timelocked commit-reveal as the subnet runs it —, `BurnedRegister` through the
MEV shield) or, for commitments, the raw `Commitments.set_commitment` call. SDK errors become glean's own, with
what to do: preflight failures raise `bt.ChainError` before signing, chain-side ones come back as failed results.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import bittensor as bt
from bittensor.settings import default_archive_endpoints, default_fallback_endpoints, resolve_endpoint

from chain.checks import axon_address, check_commitment
from chain.constants import RAW_FIELD_BYTES, U16_MAX
from chain.state import Neuron, NeuronAt, SubnetHyperparameters, SubnetState
from schemas.errors import ChainError, GleanError, NotRegisteredError, RateLimitedError

log = logging.getLogger(__name__)

RAO_PER_UNIT = 1e9
_RETRY_IN = re.compile(r"retry in ~?(\d+) blocks?", re.IGNORECASE)


def commitment_info(data: str) -> dict[str, Any]:
    """The Commitments `info` argument for a text: up to three `RawN` fields of at most 128 bytes."""
    payload = check_commitment(data)
    chunks = [payload[i:i + RAW_FIELD_BYTES] for i in range(0, len(payload), RAW_FIELD_BYTES)]
    return {"fields": [[{f"Raw{len(chunk)}": chunk} for chunk in chunks]]}


def _per_u16(values: list, uid: int) -> float:
    """Entry `uid` of a Vec<PerU16> storage value as a fraction (0 where the vector is shorter)."""
    return int(values[uid]) / U16_MAX if uid < len(values) else 0.0


def neuron_from_metagraph(neuron: bt.MetagraphNeuron, validator_trust: float = 0.0) -> Neuron:
    commitment = neuron.commitment.value if neuron.commitment is not None else None
    return Neuron(uid=neuron.uid, hotkey=neuron.hotkey, coldkey=neuron.coldkey,
                  stake=neuron.total_stake.rao / RAO_PER_UNIT, validator_permit=neuron.validator_permit,
                  active=neuron.active, axon=neuron.axon, commitment=commitment, incentive=neuron.incentive,
                  dividends=neuron.dividends, emission=neuron.emission.rao / RAO_PER_UNIT,
                  last_update=neuron.last_update, block_at_registration=neuron.block_at_registration,
                  validator_trust=validator_trust)


class BittensorChain:
    """A subnet on a real Bittensor network (finney, test, local or ws://…); connects on first use."""

    def __init__(self, client: bt.Client, substrate: bt.Substrate, netuid: int) -> None:
        self.client = client
        self.netuid = netuid
        self._substrate = substrate  # the same backend the client uses; read here only for block hashes
        self._connected = False
        self._connect_lock = asyncio.Lock()

    @classmethod
    def for_network(cls, network: str, netuid: int, *, substrate: bt.Substrate | None = None) -> BittensorChain:
        """A chain for a network name or endpoint; `substrate` replaces the RPC backend (tests use a fake)."""
        if substrate is None:
            name, endpoint = resolve_endpoint(network)
            substrate = bt.RpcSubstrate(endpoint, fallback_endpoints=default_fallback_endpoints(name),
                                        archive_endpoints=default_archive_endpoints(name))
        # Raw calls are needed for commitments; the policy still pins every intent to this subnet.
        policy = bt.Policy(allowed_netuids=[netuid], allow_raw_calls=True)
        return cls(bt.Client(network, policy=policy, substrate=substrate), substrate, netuid)

    # --- reads -------------------------------------------------------------------------------------------------

    async def state(self) -> SubnetState:
        await self._ready()
        async with self._sdk_errors("read the metagraph"):
            view = await self.client.at()
            graph = await view.subnets.metagraph(self.netuid)
            # validator trust is not part of the runtime's metagraph: read its storage at the same block
            trust = await view.query(bt.storage.SubtensorModule.ValidatorTrust, [self.netuid]) or []
            block_hash = await self._substrate.block_hash(view.block)
        if graph is None:
            raise ChainError(f"subnet {self.netuid} does not exist on {self.client.network}",
                             hint="check chain.netuid and chain.network")
        return SubnetState(netuid=self.netuid, block=view.block, block_hash=block_hash, tempo=graph.tempo,
                           neurons=tuple(neuron_from_metagraph(n, _per_u16(trust, n.uid)) for n in graph.neurons))

    async def commitments_at(self, block: int) -> tuple[NeuronAt, ...]:
        """The metagraph pinned to `block` (an archive node answers for old blocks): stakes, permits, commitments."""
        await self._ready()
        async with self._sdk_errors(f"read the commitments at block {block}"):
            current = await self.client.block()
            if block < 0 or block > current:
                raise ChainError(f"block {block} does not exist yet (current block {current})",
                                 hint="ask for a block at or below the current one")
            graph = await (await self.client.at(block)).subnets.metagraph(self.netuid)
        if graph is None:
            raise ChainError(f"subnet {self.netuid} did not exist at block {block} on {self.client.network}",
                             hint="check chain.netuid and chain.network")
        return tuple(NeuronAt(uid=n.uid, hotkey=n.hotkey, stake=n.total_stake.rao / RAO_PER_UNIT,
                              validator_permit=n.validator_permit,
                              commitment=n.commitment.value if n.commitment is not None else None,
                              commitment_block=n.commitment.block if n.commitment is not None else None)
                     for n in graph.neurons)

    async def block(self) -> int:
        await self._ready()
        async with self._sdk_errors("read the block number"):
            return await self.client.block()

    async def block_hash(self, block: int) -> str:
        await self._ready()
        async with self._sdk_errors(f"read the hash of block {block}"):
            value = await self._substrate.block_hash(block)
        if not value:
            raise ChainError(f"block {block} has no hash on {self.client.network} yet",
                             hint="ask for a block at or below the current one")
        return value

    async def weights_rate_limit(self) -> int:
        await self._ready()
        async with self._sdk_errors("read the weights rate limit"):
            return int(await self.client.read("weights_rate_limit", netuid=self.netuid))

    async def subnet_hyperparameters(self) -> SubnetHyperparameters:
        await self._ready()
        async with self._sdk_errors("read the subnet hyperparameters"):
            view = await self.client.at()  # one block for every value
            values = {name: await view.read(name, netuid=self.netuid)
                      for name in ("commit_reveal_enabled", "reveal_period", "immunity_period", "weights_rate_limit")}
            tempo = await view.query(bt.storage.SubtensorModule.Tempo, [self.netuid])
        if tempo is None:
            raise ChainError(f"subnet {self.netuid} does not exist on {self.client.network}",
                             hint="check chain.netuid and chain.network")
        return SubnetHyperparameters(tempo=int(tempo), commit_reveal=bool(values["commit_reveal_enabled"]),
                                     reveal_period=int(values["reveal_period"] or 0),
                                     immunity_period=int(values["immunity_period"] or 0),
                                     weights_rate_limit=int(values["weights_rate_limit"] or 0))

    async def blocks_since_last_update(self, uid: int) -> int:
        await self._ready()
        async with self._sdk_errors(f"read the last update of uid {uid}"):
            since = await self.client.read("blocks_since_last_update", netuid=self.netuid, uid=uid)
        if since is None:
            raise ChainError(f"uid {uid} does not exist on subnet {self.netuid}",
                             hint="read the state for valid uids")
        return int(since)

    async def uid_of(self, hotkey: str) -> int | None:
        await self._ready()
        async with self._sdk_errors("look up the hotkey's uid"):
            uid = await self.client.query(bt.storage.SubtensorModule.Uids, [self.netuid, hotkey])
        return None if uid is None else int(uid)

    # --- writes ------------------------------------------------------------------------------------------------

    async def register(self, wallet: Any) -> int:
        """The hotkey's uid, registering it first (burns the subnet's registration cost from the coldkey)."""
        hotkey = wallet.hotkey.ss58_address
        uid = await self.uid_of(hotkey)
        if uid is not None:
            return uid
        intent = bt.BurnedRegister(netuid=self.netuid, hotkey_ss58=hotkey)
        try:
            await self._execute("register", intent, wallet)
        except ChainError:
            uid = await self.uid_of(hotkey)  # another process may have registered the same hotkey meanwhile
            if uid is None:
                raise
            return uid
        uid = await self.uid_of(hotkey)
        if uid is None:
            raise ChainError(f"the registration of {hotkey} was included but it has no uid on subnet {self.netuid}",
                             hint="check `glean chain status` in a few blocks; the slot may have been taken")
        return uid

    async def serve(self, wallet: Any, ip: str, port: int) -> None:
        axon_address(ip, port)
        await self._execute("serve the axon", bt.ServeAxon(netuid=self.netuid, ip=ip, port=int(port)), wallet)

    async def set_weights(self, wallet: Any, weights: Mapping[int, float], *, version_key: int = 0) -> None:
        intent = bt.SetWeights(netuid=self.netuid, weights={int(u): float(w) for u, w in weights.items()},
                               version_key=version_key)
        await self._execute("set weights", intent, wallet)

    async def commit(self, wallet: Any, data: str) -> None:
        info = commitment_info(data)
        hotkey = wallet.hotkey.ss58_address
        if await self.uid_of(hotkey) is None:
            raise self._not_registered(hotkey, f"hotkey {hotkey} is not registered on subnet {self.netuid}")
        call = bt.calls.Commitments.set_commitment(netuid=self.netuid, info=info)
        async with self._sdk_errors("commit", hotkey):
            result = await self.client.submit_call(call, wallet, signer="hotkey", wait_for_finalization=False)
        await self._check(result, "commit", hotkey)

    async def close(self) -> None:
        if self._connected:
            await self.client.close()
            self._connected = False

    def __repr__(self) -> str:
        return f"BittensorChain(network={self.client.network!r}, netuid={self.netuid})"

    # --- plumbing ----------------------------------------------------------------------------------------------

    async def _ready(self) -> None:
        async with self._connect_lock:
            if self._connected:
                return
            async with self._sdk_errors(f"connect to {self.client.network}"):
                await self.client.connect()
            self._connected = True

    async def _execute(self, action: str, intent: bt.Intent, wallet: Any) -> None:
        await self._ready()
        hotkey = wallet.hotkey.ss58_address
        async with self._sdk_errors(action, hotkey):
            result = await self.client.execute(intent, wallet, wait_for_finalization=False)
        await self._check(result, action, hotkey)

    async def _check(self, result: bt.ExtrinsicResult, action: str, hotkey: str) -> None:
        if result.success:
            return
        error = result.error or bt.ChainError(result.message or f"{action} failed")
        raise await self._translate(error, action, hotkey)

    @asynccontextmanager
    async def _sdk_errors(self, action: str, hotkey: str | None = None) -> AsyncIterator[None]:
        """Turn SDK exceptions into glean's errors, each with a hint that says what to do."""
        try:
            yield
        except GleanError:
            raise
        except bt.ChainError as exc:
            raise await self._translate(exc, action, hotkey) from exc
        except bt.PolicyError as exc:
            raise ChainError(f"{action} was refused by the client policy: {exc}",
                             hint=f"glean only acts on chain.netuid {self.netuid}") from exc
        except bt.RpcConnectionError as exc:
            raise ChainError(f"cannot {action}: {self.client.network} is unreachable ({exc})",
                             hint="check chain.network and the connection, then retry") from exc
        except bt.BittensorError as exc:
            raise ChainError(f"cannot {action}: {exc}", hint="check the arguments") from exc

    async def _translate(self, error: bt.ChainError, action: str, hotkey: str | None) -> ChainError:
        message = f"{action} failed on subnet {self.netuid}: {error.message}"
        if error.code is bt.ErrorCode.NOT_REGISTERED:
            return self._not_registered(hotkey, message)
        if error.code is bt.ErrorCode.RATE_LIMITED:
            blocks = await self._retry_after(error.message, action, hotkey)
            return RateLimitedError(message, hint=f"wait {blocks} blocks, then retry", retry_after_blocks=blocks)
        return ChainError(message, hint=error.remediation)

    def _not_registered(self, hotkey: str | None, message: str) -> NotRegisteredError:
        return NotRegisteredError(message, hint=f"register the hotkey {hotkey or ''} first: "
                                                f"`btcli subnets register --netuid {self.netuid}` (burns TAO)")

    async def _retry_after(self, message: str, action: str, hotkey: str | None) -> int:
        """Blocks to wait: from the SDK's preflight message, else from the weights rate limit, else one."""
        found = _RETRY_IN.search(message)
        if found:
            return int(found.group(1))
        if action == "set weights" and hotkey is not None:
            try:
                uid = await self.uid_of(hotkey)
                if uid is not None:
                    remaining = await self.weights_rate_limit() - await self.blocks_since_last_update(uid)
                    return max(1, remaining)
            except GleanError as exc:  # the error being translated matters more than this estimate
                log.debug("could not estimate the rate-limit wait hotkey=%s error=%s", hotkey, exc)
        return 1
