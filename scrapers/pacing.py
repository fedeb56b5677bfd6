"""What a source asks of our pace, and keeping to it: `Throttle` (one answer's request to wait, from its headers or
body), `Pacer` (per host: not before this time, or not again in this crawl) and the readers of the standard headers.

The crawl (scrapers.middlewares.PacingMiddleware) and the re-fetch (scrapers.fetcher.Fetcher) share both: a kind
says what its API's answers mean (`SourceKind.throttle`), the pacer holds every request to that host until then.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from scrapers import settings
from scrapers.reasons import http_reason

# The source asked us to wait (429, maxlag, throttle_violation, a rate window or daily quota used up) and the re-fetch
# could not within its bounds. Spelled as the 429 answer it stands for: the validator's table (validator/
# verification.py, UNKNOWN_STATUSES) counts it unknown, the validator's trouble, never the miner's.
THROTTLED = http_reason(429)
# Counted in the crawl: the source's daily quota is used up (Stack Exchange's quota_remaining reached 0).
QUOTA_EXHAUSTED = "quota_exhausted"


@dataclass(frozen=True)
class Throttle:
    """An answer asking us to wait `seconds` before the next request to its host. `refused`: the answer is no
    content (429, maxlag, throttle_violation) and the request may be asked again after the wait; `stop`: ask this
    host nothing more in this crawl (a daily quota used up), counted as `reason`."""

    seconds: float
    reason: str
    refused: bool = False
    stop: bool = False


def header_seconds(value: str | None) -> float | None:
    """Seconds from a `Retry-After` value (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def ratelimit_pause(headers: dict[str, str]) -> float | None:
    """Seconds until the window resets when `X-Ratelimit-Remaining` says no request is left (Reddit's headers:
    remaining requests as a float, seconds to the end of the window); None while requests remain."""
    remaining = headers.get("x-ratelimit-remaining")
    if remaining is None:
        return None
    try:
        if float(remaining) >= 1:
            return None
    except ValueError:
        return None
    reset = header_seconds(headers.get("x-ratelimit-reset"))
    return reset if reset is not None else settings.DEFAULT_RETRY_AFTER


def default_throttle(status: int, headers: dict[str, str], _body: bytes,
                     absent: float | None = None) -> Throttle | None:
    """What every answer may ask: a 429/503 refusal naming its wait (`Retry-After`), a 429 naming none (the rate
    window's reset when the answer states one, else `absent`: the kind's default wait; None leaves it to Scrapy's
    retries and the re-fetch's unknown, as for web pages), and a rate-limit window used up."""
    wait = header_seconds(headers.get("retry-after"))
    if status in (429, 503) and wait is not None:
        return Throttle(wait, f"http_{status}", refused=True)
    pause = ratelimit_pause(headers)
    if status == 429 and (pause is not None or absent is not None):
        return Throttle(absent if pause is None else pause, "http_429", refused=True)
    if pause is not None:
        return Throttle(pause, "ratelimit_exhausted")
    return None


Sleep = Callable[[float], Awaitable[object]]


class Pacer:
    """Per host: the time before which no request may go, and hosts closed for good. `clock` and `sleep` are
    injectable so tests control time."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self.clock, self.sleep = clock, sleep
        self._until: dict[str, float] = {}
        self._closed: dict[str, str] = {}

    def hold(self, host: str, seconds: float) -> None:
        """No request to `host` for `seconds` (capped at settings.MAX_THROTTLE_WAIT) from now."""
        until = self.clock() + min(max(seconds, 0.0), settings.MAX_THROTTLE_WAIT)
        self._until[host] = max(self._until.get(host, 0.0), until)

    def close(self, host: str, reason: str) -> None:
        """No request to `host` any more (until `forget`)."""
        self._closed[host] = reason

    def closed(self, host: str) -> str | None:
        """Why `host` was closed, or None."""
        return self._closed.get(host)

    def remaining(self, host: str) -> float:
        """Seconds until a request to `host` may go (0 when it may go now)."""
        return max(0.0, self._until.get(host, 0.0) - self.clock())

    async def wait(self, host: str) -> float:
        """Sleep until a request to `host` may go; the seconds waited."""
        waited = 0.0
        while (left := self.remaining(host)) > 0:  # a hold may grow while we sleep
            await self.sleep(left)
            waited += left
        return waited

    def forget(self) -> None:
        self._until.clear()
        self._closed.clear()


# The validator's re-fetches share one pacer per process: a hold one answer asks for delays every later re-fetch
# from that host, whichever miner's record it checks.
REFETCH_PACER = Pacer()


def forget_pacing() -> None:
    """Drop every hold of the re-fetch pacer (tests: loopback ports are reused)."""
    REFETCH_PACER.forget()
