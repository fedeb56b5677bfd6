"""One writer per database: the miner's seq order depends on it. A lock file beside a SQLite database, a session
advisory lock on PostgreSQL; either is released when its holder closes it or dies."""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, func, select

from schemas.errors import StorageError

# PostgreSQL advisory lock held by the writing miner (any fixed 64-bit number; "glean-mw" in ASCII).
WRITER_LOCK_KEY = int.from_bytes(b"glean-mw", "big") & 0x7FFF_FFFF_FFFF_FFFF


def claim_writer(engine: Engine) -> IO[bytes] | Connection:
    """Take the database's writer lock, or raise StorageError; close the returned handle to release it."""
    if engine.dialect.name == "sqlite":
        path = Path(engine.url.database or "").expanduser()
        handle = open(f"{path}.writer.lock", "a+b")  # noqa: SIM115 - held open for the store's lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise StorageError(f"another miner is already writing to {path}",
                               hint="stop the other `glean miner run`, or give this one its own --data-dir",
                               ) from None
        return handle
    conn = engine.connect()
    if not conn.execute(select(func.pg_try_advisory_lock(WRITER_LOCK_KEY))).scalar_one():
        conn.close()
        raise StorageError("another miner is already writing to this PostgreSQL database",
                           hint="stop the other `glean miner run`, or point this one at its own database")
    conn.commit()
    return conn
