"""The network's desirability as every node computes it: the validators' committed list hashes read at the epoch's
fixed block, each list fetched by hash from its validator's announced listener (or a mirror), checked against the
hash, and combined by stake (`schemas.desirability.combine`). Validators score it; miners follow it.

The fixed block is the first block of the tempo-long window holding the current block, and the commitments and
stakes counted are those as of the block before it: that block is over for any node that computes the list, while
the fixed block itself may be the current one, still taking commitments (a node reading early would miss a list
another node reading later counts). So nodes that compute it at different moments of one epoch read the same
commitments and stakes. The httpx client is the caller's: outside local mode it must be a
`scrapers.address.GuardedClient` (announced addresses are untrusted).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence

import httpx

from chain import constants as k
from chain.commitment import Commitment
from chain.protocol import Chain
from chain.state import NeuronAt, SubnetState
from schemas.desirability import MAX_LIST_BYTES, DesirabilityList, NetworkDesirability, combine
from schemas.errors import ChainError, ProtocolError

log = logging.getLogger(__name__)

DESIRABILITY_PATH = "/v1/desirability/{hash}"


def evaluation_block(block: int, tempo: int) -> int:
    """The epoch's fixed block: the first block of the tempo-long window that holds `block`."""
    if tempo < 1:
        raise ChainError(f"tempo {tempo} is not a positive number of blocks", hint="read the tempo from the chain")
    return block - block % tempo


def settled_block(fixed: int) -> int:
    """The block whose commitments and stakes count for the fixed block `fixed`: the one before it, which no node
    can see change (the fixed block may still be the current block when a node reads it)."""
    return max(0, fixed - 1)


def committed_lists(neurons: Sequence[NeuronAt]) -> dict[str, tuple[str, float]]:
    """hotkey -> (committed list hash, stake) of every validator with a permit, stake and a committed list."""
    found: dict[str, tuple[str, float]] = {}
    for n in neurons:
        digest = Commitment.decode(n.commitment).desirability
        if n.validator_permit and n.stake > 0 and digest:
            found[n.hotkey] = (digest, n.stake)
    return found


async def fetch_list(client: httpx.AsyncClient, axon: str, digest: str) -> DesirabilityList | None:
    """The list `digest` from the listener at `axon` ("ip:port"), bounded in size and time; None when it is not
    served there or does not match its hash (logged)."""
    url = f"http://{axon}{DESIRABILITY_PATH.format(hash=digest)}"
    try:
        async with asyncio.timeout(k.DESIRABILITY_FETCH_SECONDS):
            async with client.stream("GET", url, headers={"Accept-Encoding": "identity"}) as response:
                if response.status_code != 200:
                    log.info("desirability list not served url=%s status=%d", url, response.status_code)
                    return None
                if response.headers.get("content-encoding", "identity") != "identity":
                    log.info("desirability list refused url=%s reason=encoded", url)
                    return None
                body = bytearray()
                async for chunk in response.aiter_raw():
                    body += chunk
                    if len(body) > MAX_LIST_BYTES:
                        log.info("desirability list refused url=%s reason=too_large", url)
                        return None
        return DesirabilityList.parse(bytes(body), digest)
    except ProtocolError as exc:
        log.warning("desirability list refused url=%s reason=%s", url, exc.message)
    except (TimeoutError, httpx.HTTPError, OSError) as exc:
        log.info("desirability list not fetched url=%s error=%r", url, exc)
    return None


async def fetch_from_any(client: httpx.AsyncClient, owner: str | None, mirrors: Sequence[str],
                         digest: str) -> DesirabilityList | None:
    """The list from its owner's listener, else from up to DESIRABILITY_MIRRORS other listeners, in order."""
    for axon in ([owner] if owner else []) + [m for m in mirrors if m != owner][:k.DESIRABILITY_MIRRORS]:
        found = await fetch_list(client, axon, digest)
        if found is not None:
            return found
    return None


async def network_desirability(chain: Chain, state: SubnetState, client: httpx.AsyncClient,
                               previous: Mapping[str, DesirabilityList]) -> NetworkDesirability:
    """The network's desirability at the fixed block of `state`'s epoch (the commitments as of the block before it).
    `previous`: hotkey -> the last list used for that validator (a list already held under the committed hash is not
    fetched again; an unfetchable one falls back to it). Keep `result.sources` as the next call's `previous`."""
    block = evaluation_block(state.block, state.tempo)
    committed = committed_lists(await chain.commitments_at(settled_block(block)))
    axons = {n.hotkey: n.axon for n in state.validators() if n.axon}
    mirrors = [axons[hotkey] for hotkey in sorted(axons)]

    async def one(hotkey: str, digest: str) -> DesirabilityList | None:
        held = previous.get(hotkey)
        if held is not None and held.hash() == digest:
            return held
        return await fetch_from_any(client, axons.get(hotkey), mirrors, digest)

    hotkeys = sorted(committed)
    found = await asyncio.gather(*(one(hotkey, committed[hotkey][0]) for hotkey in hotkeys))
    lists = dict(zip(hotkeys, found, strict=True))
    missing = [hotkey for hotkey, listed in lists.items() if listed is None]
    if missing:
        log.warning("desirability lists not fetched block=%d validators=%s (their previous lists count)", block,
                    missing)
    return combine(lists, {hotkey: stake for hotkey, (_, stake) in committed.items()}, previous, block=block)
