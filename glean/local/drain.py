"""The end of an offline run: the living sample web stops changing, and the run goes on until the network has
answered its last changes, so the pages of the last epoch count as those of the others.

The wait is on conditions, each bounded: every miner finishes `DRAIN_CRAWLS` crawls of each source it had crawled
(the first may have begun before the stop; the second began after it), then the validator finishes a step that
began after those crawls.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from glean.local import constants as K
from miner.crawl_state import STATE_FILE as CRAWL_STATE_FILE

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5


def crawl_counts(path: Path) -> dict[str, int]:
    """Finished crawls per `domain/source` from a miner's crawl state file ({} while it has none)."""
    try:
        sources = json.loads(path.read_text(encoding="utf-8")).get("sources", {})
    except (OSError, ValueError):
        return {}
    return {key: int(entry.get("crawls", 0)) for key, entry in sources.items() if isinstance(entry, dict)}


def crawls_done(before: Mapping[Path, Mapping[str, int]], crawls: int = K.DRAIN_CRAWLS) -> bool:
    """Whether each source of each miner has `crawls` more finished crawls than in `before`."""
    for path, counts in before.items():
        now = crawl_counts(path)
        if any(now.get(key, 0) < n + crawls for key, n in counts.items()):
            return False
    return True


def stepped_since(steps: list, since: datetime) -> bool:
    """Whether a validator step that began at or after `since` has finished (`steps`: StepRow-like rows)."""
    return any(s.finished_at is not None and _utc(s.started_at) >= since for s in steps)


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


async def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> bool:
    """Poll `condition` (in a thread: it reads files and databases) until true or `timeout` seconds; False and a
    warning on timeout."""
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(condition):
        if time.monotonic() > deadline:
            log.warning("drain: %s not seen within %.0f s; summarising what there is", what, timeout)
            return False
        await asyncio.sleep(POLL_SECONDS)
    return True


def state_paths(miner_data_dirs: list[Path]) -> list[Path]:
    return [d / "miner" / CRAWL_STATE_FILE for d in miner_data_dirs]
