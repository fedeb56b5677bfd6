"""What the miner remembers of its last crawl of each source, so the next one asks only for what is new.

Per (domain, source): the *watermark* (the newest change time the source's listings showed, in the site's own
time: scrapers.incremental) and when the last full crawl ran. A crawl is incremental (`since` = the watermark) unless
the source has no watermark yet or its last full crawl is older than `full_every` seconds: a full re-crawl on a long
cadence catches what an incremental one cannot see (pages a sitemap never dated, a budget that ran out). Kept as a
small JSON file beside the store, written atomically, so a restarted miner carries on incrementally.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

STATE_FILE = "crawl_state.json"
# A full re-crawl of every source this often: long enough that the 2-core demo crawls incrementally for the whole
# run, short enough that a real miner re-reads each source a few times a day.
FULL_RECRAWL_SECONDS = 6 * 3600.0


class CrawlState:
    """Watermarks and full-crawl times per source; `path=None` keeps them in memory only."""

    def __init__(self, path: Path | None = None, *, full_every: float = FULL_RECRAWL_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.full_every = full_every
        self._clock = clock  # wall time: it must mean the same after a restart
        self._sources: dict[str, dict[str, Any]] = self._read()

    def since(self, domain: str, source: str) -> datetime | None:
        """The `since` of the next crawl of this source; None: crawl it in full."""
        entry = self._sources.get(_key(domain, source))
        if not entry or not entry.get("watermark"):
            return None
        if self._clock() - float(entry.get("full_at", 0.0)) >= self.full_every:
            return None
        return parse_time(entry["watermark"])

    def record(self, domain: str, source: str, *, full: bool, watermark: str | None) -> None:
        """After a successful crawl: keep its watermark (never moving back) and, for a full one, its time."""
        entry = self._sources.setdefault(_key(domain, source), {})
        entry["crawls"] = int(entry.get("crawls", 0)) + 1  # finished crawls: `glean local up` waits on this count
        entry["crawled_at"] = self._clock()
        if full:
            entry["full_at"] = self._clock()
        newest = parse_time(watermark)
        if newest is not None and (not entry.get("watermark") or newest > parse_time(entry["watermark"])):
            entry["watermark"] = newest.isoformat()
        self._save()

    def describe(self) -> dict[str, dict[str, Any]]:
        return {k: dict(v) for k, v in self._sources.items()}

    def _read(self) -> dict[str, dict[str, Any]]:
        if self.path is None or not self.path.is_file():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:  # a broken file costs one full crawl per source, never the miner
            log.warning("crawl state unreadable path=%s error=%s: every source is crawled in full", self.path, exc)
            return {}
        return {str(k): dict(v) for k, v in data.get("sources", {}).items()} if isinstance(data, dict) else {}

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"sources": self._sources}, indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(self.path)


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 time as crawl stats and this file write it (naive: UTC); None stays None. (The scrapers package
    is not imported here: a serve-only miner never loads it.)"""
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _key(domain: str, source: str) -> str:
    return f"{domain}/{source}"
