"""The miner API's per-validator token buckets: chain.ratelimit's, remembering at most RATE_LIMIT_MAX_CALLERS."""

from __future__ import annotations

import time
from collections.abc import Callable

from chain import ratelimit
from miner.constants import RATE_LIMIT_MAX_CALLERS


class RateLimiter(ratelimit.RateLimiter):
    """`take(caller)` returns 0 when the request may go ahead, else the seconds until it may."""

    def __init__(self, per_minute: int, burst: int, *, clock: Callable[[], float] = time.monotonic,
                 max_callers: int = RATE_LIMIT_MAX_CALLERS) -> None:
        super().__init__(per_minute, burst, clock=clock, max_callers=max_callers)
