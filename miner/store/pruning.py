"""Pruning from the oldest end: the byte cap (down to a low-water mark) and the retention window."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, select

from miner.constants import PRUNE_CHUNK, PRUNE_LOW_WATER
from miner.store.index import Staged
from miner.store.tables import records

log = logging.getLogger(__name__)


def prune(conn: Connection, staged: Staged, *, max_bytes: int | None, retention: timedelta | None,
          clock: Callable[[], datetime]) -> int:
    """Delete the oldest records over the byte cap, then those fetched before the retention window; returns how
    many."""
    removed = 0
    if max_bytes is not None and staged.total_bytes > max_bytes:
        target = int(max_bytes * PRUNE_LOW_WATER)
        removed += _delete_oldest(conn, staged, lambda _bucket_id: staged.total_bytes <= target)
        log.info("pruned for the byte cap records=%d cap=%d bytes_now=%d", removed, max_bytes, staged.total_bytes)
    if retention is not None:
        cutoff = (clock() - retention).date()
        oldest = staged.oldest_day()
        if oldest is not None and oldest < cutoff:
            expired = _delete_oldest(conn, staged, lambda bucket_id: staged.peek(bucket_id).day >= cutoff)
            log.info("pruned for retention records=%d before_day=%s", expired, cutoff.isoformat())
            removed += expired
    return removed


def _delete_oldest(conn: Connection, staged: Staged, stop: Callable[[int], bool]) -> int:
    """Remove records from the lowest seq up, until `stop(bucket_id of the next row)` holds."""
    after, upto, removed = 0, None, 0
    while True:
        chunk = conn.execute(select(records.c.seq, records.c.bucket_id, records.c.text_bytes)
                             .where(records.c.seq > after).order_by(records.c.seq).limit(PRUNE_CHUNK)).all()
        for seq, bucket_id, text_bytes in chunk:
            if stop(bucket_id):
                break
            staged.shrink(bucket_id, text_bytes)
            upto, removed = seq, removed + 1
        else:
            if len(chunk) == PRUNE_CHUNK:
                after = chunk[-1].seq
                continue
        break
    if upto is not None:
        conn.execute(delete(records).where(records.c.seq <= upto))
    return removed
