"""Who may call the miner: registered validators with a permit and enough stake, per a cached metagraph."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from miner.constants import METAGRAPH_REFRESH_SECONDS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refusal:
    """Why an authenticated caller is not served (an HTTP 403 or 503 body)."""

    status: int
    error: str
    detail: str
    hint: str


class ValidatorGate:
    """Keeps the subnet state from `chain.state()` fresh in the background and judges callers against it."""

    def __init__(self, chain, *, min_stake: float, refresh_seconds: float = METAGRAPH_REFRESH_SECONDS) -> None:
        self.chain = chain
        self.min_stake = min_stake
        self.refresh_seconds = refresh_seconds
        self.state = None
        self.refreshed_at: float | None = None

    async def refresh(self) -> None:
        """Fetch the subnet state now (raises what the chain raises)."""
        self.state = await self.chain.state()
        self.refreshed_at = time.monotonic()
        log.debug("metagraph refreshed block=%s neurons=%d", self.state.block, len(self.state.neurons))

    async def run(self, stop: asyncio.Event) -> None:
        """Refresh every `refresh_seconds` until `stop` is set; a failed refresh keeps the last good state."""
        while not stop.is_set():
            try:
                await self.refresh()
            except Exception as exc:  # the chain may be briefly unreachable: keep serving with the cached state
                log.warning("metagraph refresh failed error=%s:%s keeping_block=%s", type(exc).__name__, exc,
                            getattr(self.state, "block", None))
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.refresh_seconds)
            except TimeoutError:
                pass

    def is_validator(self, hotkey: str) -> bool:
        return self.refuse(hotkey) is None

    def refuse(self, hotkey: str) -> Refusal | None:
        """None when `hotkey` may be served, else the reason."""
        if self.state is None:
            return Refusal(503, "metagraph_unavailable", "the miner has not loaded the subnet state yet",
                           "retry in a few seconds")
        neuron = self.state.by_hotkey(hotkey)
        refresh = f"the miner re-reads the metagraph every {self.refresh_seconds:g} s"
        if neuron is None:
            return Refusal(403, "not_registered",
                           f"hotkey {hotkey} is not registered on netuid {self.state.netuid}",
                           f"register the validator hotkey on the subnet; {refresh}")
        if not neuron.validator_permit:
            return Refusal(403, "no_validator_permit", f"uid {neuron.uid} has no validator permit",
                           f"only validators with a permit may pull data; {refresh}")
        if neuron.stake < self.min_stake:
            return Refusal(403, "insufficient_stake",
                           f"uid {neuron.uid} has stake {neuron.stake:g}, this miner requires {self.min_stake:g}",
                           f"add stake to the validator hotkey; {refresh}")
        return None
