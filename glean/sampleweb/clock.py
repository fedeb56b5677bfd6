"""The sample web's clock: every date it serves (publication, edits, feeds, sitemaps' lastmod, API answers about
recent changes) and its schedule of new, changed and removed pages read this clock.

Tests use a `ManualClock` and move it explicitly (`advance`), so nothing depends on how fast the machine is;
`glean local up` and `python -m glean.sampleweb` use a `WallClock`, optionally running faster than real time.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

from schemas.errors import ConfigError


class Clock(Protocol):
    """What the sample web asks of a clock: the current time, timezone-aware in UTC."""

    def now(self) -> datetime: ...


class WallClock:
    """Real time, or real time `rate` times faster from the moment the clock is made (rate 60: an hour a minute)."""

    def __init__(self, rate: float = 1.0, *, start: datetime | None = None) -> None:
        if rate <= 0:
            raise ConfigError(f"clock rate must be positive, got {rate}", hint="1 follows real time; 60 runs an hour "
                              "a minute")
        self.rate = rate
        self._start = (start or datetime.now(UTC)).astimezone(UTC)
        self._started = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(time.monotonic() - self._started) * self.rate)


class ManualClock:
    """A clock that moves only when told (`advance`, `set`): what tests give the sample web."""

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._now = (start or datetime.now(UTC)).astimezone(UTC)

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float = 0.0, **delta: float) -> datetime:
        """Move forward by `seconds` (and/or timedelta keywords: minutes=, hours=, days=); the new time."""
        step = timedelta(seconds=seconds, **delta)
        if step < timedelta(0):
            raise ConfigError("a clock only moves forward", hint="advance by a positive amount")
        with self._lock:
            self._now += step
            return self._now

    def set(self, moment: datetime) -> None:
        """Jump to `moment` (not before the current time)."""
        with self._lock:
            if moment.astimezone(UTC) < self._now:
                raise ConfigError("a clock only moves forward", hint=f"set a time after {self._now.isoformat()}")
            self._now = moment.astimezone(UTC)
