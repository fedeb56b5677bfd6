"""The chain file itself: one SQLite connection, its transactions, and the lazy epoch catch-up before every write.

Every write runs in `BEGIN IMMEDIATE` (one writer at a time, others wait on the busy timeout). A read that finds
an epoch due becomes a write, so whoever touches the chain first after a tempo boundary runs it.
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, TypeVar

from chain import constants as k
from chain.local.epoch import catch_up
from chain.local.schema import HISTORY_BACKFILL, SCHEMA, SCHEMA_VERSION, LocalParams, Subnet
from schemas.errors import ChainError

log = logging.getLogger(__name__)

T = TypeVar("T")

# What a read or write runs inside its transaction: (connection, subnet row, current block) -> result.
Work = Callable[[sqlite3.Connection, Subnet, int], T]


class ChainFile:
    """One process's handle on the shared chain file; every method runs synchronously (callers use a thread)."""

    def __init__(self, path: Path, netuid: int) -> None:
        self.path = path
        self.netuid = netuid
        self._lock = threading.Lock()
        self._conn = self._connect()

    def close(self) -> None:
        """Close the connection (after any transaction in flight)."""
        with self._lock:
            self._conn.close()

    def initialise(self, requested: dict[str, Any]) -> LocalParams:
        """Create the tables and the subnet row if missing; returns the parameters fixed when the file was made."""
        with self._transaction(write=True) as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise ChainError(f"{self.path} was written by a newer glean (schema {version})",
                                 hint="upgrade glean or point chain.local_path at another file")
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            if version < 3:
                for statement in HISTORY_BACKFILL:
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            params = LocalParams(**requested)
            conn.execute("INSERT OR IGNORE INTO subnet (id, netuid, params, seed, genesis) VALUES (1, ?, ?, ?, ?)",
                         (self.netuid, json.dumps(asdict(params)), secrets.token_hex(16), time.time()))
            sub = load_subnet(conn)
        if sub.netuid != self.netuid:
            raise ChainError(f"{self.path} holds local netuid {sub.netuid}, not {self.netuid}",
                             hint="use the same chain.netuid everywhere, or another chain.local_path")
        differing = {name: value for name, value in requested.items() if getattr(sub.params, name) != value}
        if differing:
            log.warning("local chain parameters are fixed at creation; ignoring path=%s requested=%s",
                        self.path, differing)
        return sub.params

    def read(self, work: Work[T]) -> T:
        """Run `work` in a read transaction, or in a write one when epochs are due (they run first)."""
        with self._transaction(write=False) as conn:
            sub = load_subnet(conn)
            block = sub.block_at(time.time())
            if sub.next_epoch_block() > block:
                return work(conn, sub, block)
        return self.write(work)

    def write(self, work: Work[T]) -> T:
        """Run `work` in a write transaction, after every epoch whose block has been reached."""
        with self._transaction(write=True) as conn:
            sub = load_subnet(conn)
            block = sub.block_at(time.time())
            sub = catch_up(conn, sub, block, self.path)
            return work(conn, sub, block)

    def advance(self, blocks: int) -> int:
        """Move the block clock forward by `blocks`, run the epochs now due, and return the new block."""
        if blocks < 0:
            raise ChainError(f"cannot advance by {blocks} blocks", hint="the block clock only moves forward")
        with self._transaction(write=True) as conn:
            conn.execute("UPDATE subnet SET block_offset = block_offset + ? WHERE id = 1", (blocks,))
            sub = load_subnet(conn)
            block = sub.block_at(time.time())
            catch_up(conn, sub, block, self.path)
            return block

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(self.path, timeout=k.LOCAL_BUSY_TIMEOUT, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            raise ChainError(f"cannot open the local chain {self.path}: {exc}",
                             hint="check the path is writable (chain.local_path / --data-dir)") from exc
        return conn

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.OperationalError as exc:
                raise ChainError(f"the local chain {self.path} is busy: {exc}",
                                 hint="another process holds the write lock too long; retry") from exc
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException as exc:
                if self._conn.in_transaction:  # a failed COMMIT (disk full, I/O error) has rolled back already
                    self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError):
                    raise ChainError(f"the local chain {self.path} failed: {exc}",
                                     hint="check the disk and that no other program locks the file") from exc
                raise


def load_subnet(conn: sqlite3.Connection) -> Subnet:
    """The subnet row, its parameters read back from JSON (names a newer file added are ignored)."""
    row = conn.execute("SELECT netuid, params, seed, genesis, block_offset, last_epoch_block, epoch_index "
                       "FROM subnet WHERE id = 1").fetchone()
    stored = json.loads(row[1])
    known = {f.name for f in fields(LocalParams)}
    params = LocalParams(**{name: value for name, value in stored.items() if name in known})
    return Subnet(netuid=row[0], params=params, seed=row[2], genesis=row[3], block_offset=row[4],
                  last_epoch_block=row[5], epoch_index=row[6])
