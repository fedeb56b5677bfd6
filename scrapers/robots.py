"""robots.txt: what an answer for it stands for (one rule for the crawl and the re-fetch) and fetch_one's cache."""

from __future__ import annotations

import time
from collections import OrderedDict

from protego import Protego

ROBOTS_TTL = 3600.0           # seconds a robots.txt answer is reused by fetch_one
ROBOTS_CACHE_SIZE = 1024      # hosts
ROBOTS_MAX_BYTES = 512 * 1024  # Google reads the first 500 KiB; so do we (fetch_one)
DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"


def robots_rules(status: int, body: bytes) -> bytes | None:
    """The rules a robots.txt answer stands for (RFC 9309): a 5xx or 429 disallows the whole host, any other
    4xx means no rules (None, never the error page parsed as rules), everything else is the body itself."""
    if robots_unavailable(status):
        return DISALLOW_ALL
    if status >= 400:
        return None
    return body


def robots_unavailable(status: int) -> bool:
    """Whether a robots.txt answer with this status stands for "the host is off limits for now" (5xx, 429)."""
    return status == 429 or status >= 500


# fetch_one's cached parser for a host whose robots.txt answered 5xx/429: disallows everything, and a re-fetch
# stopped by it is the validator's (or the host's) trouble, not a page that forbids being checked.
UNAVAILABLE = Protego.parse(DISALLOW_ALL.decode())


class RobotsCache:
    """robots.txt parsers per scheme://host:port for fetch_one, each kept for ROBOTS_TTL (None: no rules)."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, tuple[float, Protego | None]] = OrderedDict()

    def get(self, key: str) -> tuple[bool, Protego | None]:
        """(known, parser): known is False when the host was never read or its entry expired."""
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def clear(self) -> None:
        self._entries.clear()

    def put(self, key: str, parser: Protego | None) -> None:
        self._entries[key] = (time.monotonic() + ROBOTS_TTL, parser)
        self._entries.move_to_end(key)
        while len(self._entries) > ROBOTS_CACHE_SIZE:
            self._entries.popitem(last=False)


ROBOTS = RobotsCache()


def forget_robots() -> None:
    """Drop every cached robots.txt (fetch_one reads them again)."""
    ROBOTS.clear()
