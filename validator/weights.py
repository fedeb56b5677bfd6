"""Setting weights: once per tempo, within the chain's rate limit, normalised scores through the Chain seam, with
glean's protocol and scoring versions as their version_key (schemas.version).
Chain errors are logged with what to do about them and retried later; they never stop the validator."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from chain.protocol import Chain, Wallet
from schemas.errors import ChainError, RateLimitedError
from schemas.version import WEIGHTS_VERSION_KEY
from scoring import normalize_weights
from validator import constants as K
from validator.metrics import ValidatorMetrics
from validator.store import ValidatorStore

log = logging.getLogger(__name__)


class WeightSetter:
    """Remembers (in the database) the block of the last successful set and when to try again after an error."""

    def __init__(self, chain: Chain, wallet: Wallet, store: ValidatorStore, metrics: ValidatorMetrics) -> None:
        self.chain = chain
        self.wallet = wallet
        self.store = store
        self.metrics = metrics

    async def maybe_set(self, block: int, tempo: int, my_uid: int, scores: Mapping[int, float]) -> bool:
        """Set weights if a tempo has passed since the last set and the rate limit allows; True when set."""
        last = int(await asyncio.to_thread(self.store.get_state, "last_weights_block", -(10**9)))
        retry_at = int(await asyncio.to_thread(self.store.get_state, "weights_retry_block", 0))
        if block - last < max(tempo, 1) or block < retry_at:
            return False
        weights = normalize_weights({uid: s for uid, s in scores.items() if s > 0})
        if not weights or sum(weights.values()) <= 0:
            log.info("weights not set: no miner has a positive score yet block=%d", block)
            return False
        try:
            limit = await self.chain.weights_rate_limit()
            since = await self.chain.blocks_since_last_update(my_uid)
            if since < limit:
                await self._retry_at(block + (limit - since), f"rate limit: {since} of {limit} blocks passed")
                return False
            await self.chain.set_weights(self.wallet, weights, version_key=WEIGHTS_VERSION_KEY)
        except RateLimitedError as exc:
            await self._failed(block, weights, exc, max(1, exc.retry_after_blocks))
            return False
        except ChainError as exc:
            await self._failed(block, weights, exc, K.WEIGHTS_RETRY_BLOCKS)
            return False
        except (OSError, TimeoutError) as exc:  # the endpoint is down: the chain seam could not even answer
            await self._failed(block, weights, ChainError(f"chain unreachable: {exc!r}",
                                                          hint="check the chain endpoint; retrying"),
                               K.WEIGHTS_RETRY_BLOCKS)
            return False
        await asyncio.to_thread(self.store.record_weights, block, weights, None)
        self.metrics.weights_set.labels(result="ok").inc()
        log.info("weights set block=%d miners=%d top=%s", block, len(weights),
                 ", ".join(f"{uid}:{w:.3f}" for uid, w in sorted(weights.items(), key=lambda kv: -kv[1])[:5]))
        return True

    async def _retry_at(self, block: int, why: str) -> None:
        log.info("weights deferred until block=%d (%s)", block, why)
        await asyncio.to_thread(self.store.set_state, "weights_retry_block", block)

    async def _failed(self, block: int, weights: Mapping[int, float], exc: ChainError, retry_blocks: int) -> None:
        kind = "rate_limited" if isinstance(exc, RateLimitedError) else "error"
        self.metrics.weights_set.labels(result=kind).inc()
        log.warning("setting weights failed block=%d error=%s hint=%s; retrying in %d blocks", block, exc.message,
                    exc.hint or "-", retry_blocks)
        await asyncio.to_thread(self.store.record_weights, block, weights, str(exc))
        await asyncio.to_thread(self.store.set_state, "weights_retry_block", block + retry_blocks)
