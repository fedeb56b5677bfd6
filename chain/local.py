"""LocalChain: an embedded subnet in one SQLite file that miners, validators and the CLI share across processes.

Every write runs in `BEGIN IMMEDIATE` (one writer at a time, others wait on the busy timeout). The block clock is
wall time: `genesis block + offset + elapsed / block_time`, so every process agrees on it without a ticker; tests
move it with `advance()`. Epochs are lazy: whoever touches the chain first after a tempo boundary runs every pending
epoch (Yuma consensus + emission split) inside its write transaction, before its own write, so each epoch runs
exactly once and sees only the writes made before its block.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from chain import constants as k
from chain.checks import axon_address, check_commitment, quantize_weights
from chain.state import Neuron, SubnetState
from chain.yuma import EpochInputs, YumaParams, split_emission, yuma_epoch
from schemas.errors import ChainError, NotRegisteredError, RateLimitedError

log = logging.getLogger(__name__)

T = TypeVar("T")

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS subnet (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    netuid INTEGER NOT NULL,
    params TEXT NOT NULL,              -- LocalParams as JSON, fixed when the file is created
    seed TEXT NOT NULL,                -- block hashes are sha256(seed:block)
    genesis REAL NOT NULL,             -- wall time of the genesis block
    block_offset INTEGER NOT NULL DEFAULT 0,   -- blocks added by advance()
    last_epoch_block INTEGER NOT NULL DEFAULT 0,
    epoch_index INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS neurons (
    uid INTEGER PRIMARY KEY,
    hotkey TEXT NOT NULL UNIQUE,
    coldkey TEXT NOT NULL,
    validator_permit INTEGER NOT NULL DEFAULT 0,
    axon TEXT,
    commitment TEXT,
    commitment_block INTEGER,
    last_update INTEGER NOT NULL,
    block_at_registration INTEGER NOT NULL,
    consensus REAL NOT NULL DEFAULT 0,
    incentive REAL NOT NULL DEFAULT 0,
    dividends REAL NOT NULL DEFAULT 0,
    validator_trust REAL NOT NULL DEFAULT 0,
    emission REAL NOT NULL DEFAULT 0,
    pruning_score REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS stakes (
    hotkey TEXT PRIMARY KEY,
    amount REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS weights (
    uid INTEGER NOT NULL,
    dest INTEGER NOT NULL,
    value INTEGER NOT NULL,            -- u16, max-upscaled like the chain stores them
    PRIMARY KEY (uid, dest)
);
CREATE TABLE IF NOT EXISTS bonds (
    uid INTEGER PRIMARY KEY,
    row BLOB NOT NULL                  -- float64 bonds of this validator toward each uid
);
CREATE TABLE IF NOT EXISTS epochs (
    epoch INTEGER PRIMARY KEY,
    block INTEGER NOT NULL,
    blocks INTEGER NOT NULL,
    emission REAL NOT NULL,
    owner REAL NOT NULL,
    miners REAL NOT NULL,
    validators REAL NOT NULL,
    recycled REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS emissions (
    epoch INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    hotkey TEXT NOT NULL,
    stake REAL NOT NULL,
    active INTEGER NOT NULL,
    validator_permit INTEGER NOT NULL,
    consensus REAL NOT NULL,
    incentive REAL NOT NULL,
    dividends REAL NOT NULL,
    validator_trust REAL NOT NULL,
    miner_emission REAL NOT NULL,
    validator_emission REAL NOT NULL,
    PRIMARY KEY (epoch, uid)
);
CREATE INDEX IF NOT EXISTS emissions_hotkey ON emissions (hotkey);
"""


@dataclass(frozen=True)
class LocalParams:
    """The subnet's hyperparameters, fixed when the chain file is created (every process reads them back)."""

    tempo: int = k.LOCAL_TEMPO
    block_time: float = k.LOCAL_BLOCK_TIME
    weights_rate_limit: int = k.LOCAL_WEIGHTS_RATE_LIMIT
    immunity_period: int = k.LOCAL_IMMUNITY_PERIOD
    max_uids: int = k.LOCAL_MAX_UIDS
    max_validators: int = k.LOCAL_MAX_VALIDATORS
    activity_cutoff: int | None = None  # None: derived from the tempo as the runtime does
    emission_per_block: float = k.LOCAL_EMISSION_PER_BLOCK
    owner_cut: float = k.OWNER_CUT
    kappa: float = k.KAPPA
    bonds_penalty: float = k.BONDS_PENALTY
    bonds_alpha: float = k.BONDS_ALPHA
    stake_threshold: float = k.STAKE_THRESHOLD

    def __post_init__(self) -> None:
        if self.activity_cutoff is None:
            object.__setattr__(self, "activity_cutoff", k.activity_cutoff(self.tempo))
        if self.tempo < 1 or self.block_time <= 0 or self.max_uids < 1 or self.max_validators < 1:
            raise ChainError(f"invalid LocalChain parameters {self}",
                             hint="tempo, max_uids and max_validators must be >= 1 and block_time > 0")

    def yuma(self) -> YumaParams:
        return YumaParams(activity_cutoff=int(self.activity_cutoff), kappa=self.kappa,
                          bonds_penalty=self.bonds_penalty, bonds_alpha=self.bonds_alpha,
                          stake_threshold=self.stake_threshold)


@dataclass(frozen=True)
class EpochRecord:
    """One epoch's emission: `emission` = per-block emission × `blocks` = owner + miners + validators + recycled."""

    epoch: int
    block: int
    blocks: int
    emission: float
    owner: float
    miners: float
    validators: float
    recycled: float


@dataclass(frozen=True)
class EmissionRecord:
    """What one uid was and earned in one epoch."""

    epoch: int
    block: int
    uid: int
    hotkey: str
    stake: float
    active: bool
    validator_permit: bool
    consensus: float
    incentive: float
    dividends: float
    validator_trust: float
    miner_emission: float
    validator_emission: float

    @property
    def emission(self) -> float:
        return self.miner_emission + self.validator_emission


@dataclass(frozen=True)
class _Subnet:
    netuid: int
    params: LocalParams
    seed: str
    genesis: float
    block_offset: int
    last_epoch_block: int
    epoch_index: int

    def block_at(self, now: float) -> int:
        elapsed = max(0.0, now - self.genesis)
        return k.LOCAL_GENESIS_BLOCK + self.block_offset + int(elapsed // self.params.block_time)

    def next_epoch_block(self) -> int:
        return self.last_epoch_block + self.params.tempo


def _hotkey(wallet: Any) -> str:
    return wallet.hotkey.ss58_address


def _coldkey(wallet: Any) -> str:
    return wallet.coldkeypub.ss58_address


def _not_registered(hotkey: str, netuid: int) -> NotRegisteredError:
    return NotRegisteredError(f"hotkey {hotkey} is not registered on local netuid {netuid}",
                              hint="register it first: `glean chain register` (or chain.register(wallet))")


class LocalChain:
    """The embedded chain (see the module docstring). Async methods run their SQLite work in a thread."""

    def __init__(self, path: Path | str, netuid: int = 1, *, tempo: int | None = None,
                 block_time: float | None = None, weights_rate_limit: int | None = None,
                 immunity_period: int | None = None, max_uids: int | None = None,
                 max_validators: int | None = None, activity_cutoff: int | None = None,
                 emission_per_block: float | None = None) -> None:
        self.path = Path(path).expanduser()
        self.netuid = netuid
        requested = {"tempo": tempo, "block_time": block_time, "weights_rate_limit": weights_rate_limit,
                     "immunity_period": immunity_period, "max_uids": max_uids, "max_validators": max_validators,
                     "activity_cutoff": activity_cutoff, "emission_per_block": emission_per_block}
        self._requested = {name: value for name, value in requested.items() if value is not None}
        self._lock = threading.Lock()
        self._conn = self._connect()
        self.params = self._initialise()

    # --- the Chain protocol ------------------------------------------------------------------------------------

    async def state(self) -> SubnetState:
        return await asyncio.to_thread(self._read, self._state)

    async def block(self) -> int:
        return await asyncio.to_thread(self._read, lambda _conn, _sub, block: block)

    async def block_hash(self, block: int) -> str:
        return await asyncio.to_thread(self._read, lambda _conn, sub, now: self._hash_of(sub, block, now))

    async def register(self, wallet: Any) -> int:
        hotkey, coldkey = _hotkey(wallet), _coldkey(wallet)
        return await asyncio.to_thread(self._write, lambda c, s, b: self._register(c, s, b, hotkey, coldkey))

    async def serve(self, wallet: Any, ip: str, port: int) -> None:
        hotkey = _hotkey(wallet)
        await asyncio.to_thread(self._write, lambda c, s, b: self._serve(c, s, hotkey, ip, port))

    async def set_weights(self, wallet: Any, weights: Mapping[int, float]) -> None:
        hotkey, weights = _hotkey(wallet), dict(weights)
        await asyncio.to_thread(self._write, lambda c, s, b: self._set_weights(c, s, b, hotkey, weights))

    async def commit(self, wallet: Any, data: str) -> None:
        hotkey = _hotkey(wallet)
        await asyncio.to_thread(self._write, lambda c, s, b: self._commit(c, s, b, hotkey, data))

    async def weights_rate_limit(self) -> int:
        return self.params.weights_rate_limit

    async def blocks_since_last_update(self, uid: int) -> int:
        return await asyncio.to_thread(self._read, lambda c, s, b: self._blocks_since_last_update(c, b, uid))

    async def close(self) -> None:
        with self._lock:
            self._conn.close()

    # --- local-only extras: the owner's levers and the history -------------------------------------------------

    async def add_stake(self, hotkey: str, amount: float) -> float:
        """Add (or, negative, remove) stake on a hotkey as the local owner; returns the new stake."""
        return await asyncio.to_thread(self._write, lambda c, s, b: self._add_stake(c, s, hotkey, amount))

    async def set_validator_permits(self, max_validators: int | None = None) -> list[int]:
        """Recompute permits now (top-k stake among stake > 0), optionally with a new k; returns the holders."""
        return await asyncio.to_thread(self._write, lambda c, s, b: self._set_permits(c, s, max_validators))

    async def advance(self, blocks: int) -> int:
        """Move the clock forward (tests, demos); pending epochs run. Returns the new block."""
        return await asyncio.to_thread(self._advance, blocks)

    async def epochs(self) -> list[EpochRecord]:
        return await asyncio.to_thread(self._read, lambda c, s, b: self._epochs(c))

    async def emissions(self, *, epoch: int | None = None, uid: int | None = None) -> list[EmissionRecord]:
        """Per uid per epoch history, optionally for one epoch and/or one uid, ordered by (epoch, uid)."""
        return await asyncio.to_thread(self._read, lambda c, s, b: self._emissions(c, epoch, uid))

    async def emission_totals(self) -> dict[str, float]:
        """Total emission earned per hotkey over the chain's whole history."""
        return await asyncio.to_thread(self._read, lambda c, s, b: self._emission_totals(c))

    async def weights(self) -> dict[int, dict[int, float]]:
        """The stored weights per setter uid, row-normalised."""
        return await asyncio.to_thread(self._read, lambda c, s, b: self._weights(c))

    def __repr__(self) -> str:
        return f"LocalChain(path={str(self.path)!r}, netuid={self.netuid})"

    # --- connection and transactions ---------------------------------------------------------------------------

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

    def _initialise(self) -> LocalParams:
        with self._transaction(write=True) as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise ChainError(f"{self.path} was written by a newer glean (schema {version})",
                                 hint="upgrade glean or point chain.local_path at another file")
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            params = LocalParams(**self._requested)
            conn.execute("INSERT OR IGNORE INTO subnet (id, netuid, params, seed, genesis) VALUES (1, ?, ?, ?, ?)",
                         (self.netuid, json.dumps(asdict(params)), secrets.token_hex(16), time.time()))
            sub = self._load(conn)
        if sub.netuid != self.netuid:
            raise ChainError(f"{self.path} holds local netuid {sub.netuid}, not {self.netuid}",
                             hint="use the same chain.netuid everywhere, or another chain.local_path")
        differing = {name: value for name, value in self._requested.items() if getattr(sub.params, name) != value}
        if differing:
            log.warning("local chain parameters are fixed at creation; ignoring path=%s requested=%s",
                        self.path, differing)
        return sub.params

    def _load(self, conn: sqlite3.Connection) -> _Subnet:
        row = conn.execute("SELECT netuid, params, seed, genesis, block_offset, last_epoch_block, epoch_index "
                           "FROM subnet WHERE id = 1").fetchone()
        stored = json.loads(row[1])
        known = {f.name for f in fields(LocalParams)}
        params = LocalParams(**{name: value for name, value in stored.items() if name in known})
        return _Subnet(netuid=row[0], params=params, seed=row[2], genesis=row[3], block_offset=row[4],
                       last_epoch_block=row[5], epoch_index=row[6])

    def _read(self, work: Callable[[sqlite3.Connection, _Subnet, int], T]) -> T:
        """Run `work` in a read transaction, or in a write one when epochs are due (they run first)."""
        with self._transaction(write=False) as conn:
            sub = self._load(conn)
            block = sub.block_at(time.time())
            if sub.next_epoch_block() > block:
                return work(conn, sub, block)
        return self._write(work)

    def _write(self, work: Callable[[sqlite3.Connection, _Subnet, int], T]) -> T:
        with self._transaction(write=True) as conn:
            sub = self._load(conn)
            block = sub.block_at(time.time())
            sub = self._catch_up(conn, sub, block)
            return work(conn, sub, block)

    def _advance(self, blocks: int) -> int:
        if blocks < 0:
            raise ChainError(f"cannot advance by {blocks} blocks", hint="the block clock only moves forward")
        with self._transaction(write=True) as conn:
            conn.execute("UPDATE subnet SET block_offset = block_offset + ? WHERE id = 1", (blocks,))
            sub = self._load(conn)
            block = sub.block_at(time.time())
            self._catch_up(conn, sub, block)
            return block

    # --- epochs ------------------------------------------------------------------------------------------------

    def _catch_up(self, conn: sqlite3.Connection, sub: _Subnet, block: int) -> _Subnet:
        """Run every epoch whose block has been reached, in order, and record where the schedule stands."""
        if sub.next_epoch_block() > block:
            return sub
        while sub.next_epoch_block() <= block:
            epoch_block = sub.next_epoch_block()
            self._run_epoch(conn, sub, epoch_block)
            sub = replace(sub, last_epoch_block=epoch_block, epoch_index=sub.epoch_index + 1)
        conn.execute("UPDATE subnet SET last_epoch_block = ?, epoch_index = ? WHERE id = 1",
                     (sub.last_epoch_block, sub.epoch_index))
        return sub

    def _run_epoch(self, conn: sqlite3.Connection, sub: _Subnet, epoch_block: int) -> None:
        rows = conn.execute(
            "SELECT n.uid, n.hotkey, COALESCE(s.amount, 0.0), n.validator_permit, n.last_update, "
            "n.block_at_registration FROM neurons n LEFT JOIN stakes s ON s.hotkey = n.hotkey ORDER BY n.uid"
        ).fetchall()
        blocks = epoch_block - sub.last_epoch_block
        total = sub.params.emission_per_block * blocks
        n = len(rows)
        if n == 0:
            owner = total * sub.params.owner_cut
            conn.execute("INSERT INTO epochs VALUES (?, ?, ?, ?, ?, 0, 0, ?)",
                         (sub.epoch_index, epoch_block, blocks, total, owner, total - owner))
            return
        uids = [row[0] for row in rows]
        if uids != list(range(n)):
            raise ChainError(f"local chain {self.path} has gaps in its uids", hint="the file is corrupt; recreate it")
        inputs = EpochInputs(
            block=epoch_block, last_epoch_block=sub.last_epoch_block,
            stake=np.array([row[2] for row in rows], dtype=float),
            validator_permit=np.array([bool(row[3]) for row in rows]),
            last_update=np.array([row[4] for row in rows], dtype=np.int64),
            block_at_registration=np.array([row[5] for row in rows], dtype=np.int64),
            weights=self._weight_matrix(conn, n), bonds=self._bond_matrix(conn, n))
        result = yuma_epoch(inputs, sub.params.yuma())
        split = split_emission(total, result, owner_cut=sub.params.owner_cut)
        earned = split.per_uid
        conn.executemany(
            "UPDATE neurons SET consensus = ?, incentive = ?, dividends = ?, validator_trust = ?, emission = ?, "
            "pruning_score = ? WHERE uid = ?",
            [(float(result.consensus[u]), float(result.incentive[u]), float(result.dividends[u]),
              float(result.validator_trust[u]), float(earned[u]), float(earned[u]), u) for u in range(n)])
        conn.execute("DELETE FROM bonds")
        conn.executemany("INSERT INTO bonds (uid, row) VALUES (?, ?)",
                         [(u, result.bonds[u].tobytes()) for u in range(n) if result.bonds[u].any()])
        conn.execute("INSERT INTO epochs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (sub.epoch_index, epoch_block, blocks, total, split.owner, float(split.miner.sum()),
                      float(split.validator.sum()), split.recycled))
        conn.executemany(
            "INSERT INTO emissions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(sub.epoch_index, u, rows[u][1], float(rows[u][2]), bool(result.active[u]), bool(rows[u][3]),
              float(result.consensus[u]), float(result.incentive[u]), float(result.dividends[u]),
              float(result.validator_trust[u]), float(split.miner[u]), float(split.validator[u]))
             for u in range(n)])
        self._set_permits(conn, sub, None)
        log.debug("epoch ran epoch=%d block=%d uids=%d emission=%.6f", sub.epoch_index, epoch_block, n, total)

    @staticmethod
    def _weight_matrix(conn: sqlite3.Connection, n: int) -> np.ndarray:
        matrix = np.zeros((n, n))
        entries = np.array(conn.execute("SELECT uid, dest, value FROM weights").fetchall(), dtype=np.int64)
        if entries.size:
            matrix[entries[:, 0], entries[:, 1]] = entries[:, 2]
        return matrix

    @staticmethod
    def _bond_matrix(conn: sqlite3.Connection, n: int) -> np.ndarray:
        matrix = np.zeros((n, n))
        for uid, blob in conn.execute("SELECT uid, row FROM bonds"):
            row = np.frombuffer(blob, dtype=np.float64)[:n]
            matrix[uid, : len(row)] = row
        return matrix

    # --- operations --------------------------------------------------------------------------------------------

    def _uid_of(self, conn: sqlite3.Connection, hotkey: str) -> int | None:
        row = conn.execute("SELECT uid FROM neurons WHERE hotkey = ?", (hotkey,)).fetchone()
        return None if row is None else row[0]

    def _register(self, conn: sqlite3.Connection, sub: _Subnet, block: int, hotkey: str, coldkey: str) -> int:
        existing = self._uid_of(conn, hotkey)
        if existing is not None:
            return existing
        count = conn.execute("SELECT COUNT(*) FROM neurons").fetchone()[0]
        if count < sub.params.max_uids:
            conn.execute("INSERT INTO neurons (uid, hotkey, coldkey, last_update, block_at_registration) "
                         "VALUES (?, ?, ?, ?, ?)", (count, hotkey, coldkey, block, block))
            uid = count
        else:
            uid = self._replace_lowest(conn, sub, block, hotkey, coldkey)
        self._set_permits(conn, sub, None)
        log.info("registered hotkey=%s uid=%d block=%d", hotkey, uid, block)
        return uid

    def _replace_lowest(self, conn: sqlite3.Connection, sub: _Subnet, block: int, hotkey: str,
                        coldkey: str) -> int:
        """A full subnet evicts the non-immune uid with the lowest pruning score (older, then lower uid, first)."""
        row = conn.execute(
            "SELECT uid, hotkey FROM neurons WHERE block_at_registration + ? <= ? "
            "ORDER BY pruning_score ASC, block_at_registration ASC, uid ASC LIMIT 1",
            (sub.params.immunity_period, block)).fetchone()
        if row is None:
            raise ChainError(f"local netuid {sub.netuid} is full ({sub.params.max_uids} uids) and every uid is "
                             "still immune",
                             hint=f"retry after the immunity period ({sub.params.immunity_period} blocks)")
        uid, evicted = row
        conn.execute(
            "UPDATE neurons SET hotkey = ?, coldkey = ?, validator_permit = 0, axon = NULL, commitment = NULL, "
            "commitment_block = NULL, last_update = ?, block_at_registration = ?, consensus = 0, incentive = 0, "
            "dividends = 0, validator_trust = 0, emission = 0, pruning_score = 0 WHERE uid = ?",
            (hotkey, coldkey, block, block, uid))
        conn.execute("DELETE FROM weights WHERE uid = ?", (uid,))
        conn.execute("DELETE FROM bonds WHERE uid = ?", (uid,))
        log.info("replaced uid=%d evicted=%s", uid, evicted)
        return uid

    def _set_permits(self, conn: sqlite3.Connection, sub: _Subnet, max_validators: int | None) -> list[int]:
        """Top-k stake among stake > 0 get a permit; a validator losing its permit loses its bonds."""
        if max_validators is not None:
            if max_validators < 1:
                raise ChainError(f"max_validators must be >= 1, got {max_validators}", hint="pass a positive k")
            params = replace(sub.params, max_validators=max_validators)
            conn.execute("UPDATE subnet SET params = ? WHERE id = 1", (json.dumps(asdict(params)),))
            self.params = params
        limit = max_validators or sub.params.max_validators
        rows = conn.execute("SELECT n.uid, COALESCE(s.amount, 0.0), n.validator_permit FROM neurons n "
                            "LEFT JOIN stakes s ON s.hotkey = n.hotkey").fetchall()
        eligible = sorted((row for row in rows if row[1] > 0 and row[1] >= sub.params.stake_threshold),
                          key=lambda row: (-row[1], row[0]))
        holders = sorted(row[0] for row in eligible[:limit])
        lost = [(row[0],) for row in rows if row[2] and row[0] not in holders]
        conn.execute("UPDATE neurons SET validator_permit = 0")
        conn.executemany("UPDATE neurons SET validator_permit = 1 WHERE uid = ?", [(uid,) for uid in holders])
        conn.executemany("DELETE FROM bonds WHERE uid = ?", lost)
        return holders

    def _add_stake(self, conn: sqlite3.Connection, sub: _Subnet, hotkey: str, amount: float) -> float:
        if not math.isfinite(amount):
            raise ChainError(f"stake amount {amount} is not a number", hint="pass a finite amount")
        row = conn.execute("SELECT amount FROM stakes WHERE hotkey = ?", (hotkey,)).fetchone()
        new = (row[0] if row else 0.0) + amount
        if new < 0:
            raise ChainError(f"hotkey {hotkey} has {row[0] if row else 0.0:g} staked; cannot remove {-amount:g}",
                             hint="remove at most the current stake")
        conn.execute("INSERT INTO stakes (hotkey, amount) VALUES (?, ?) "
                     "ON CONFLICT (hotkey) DO UPDATE SET amount = excluded.amount", (hotkey, new))
        self._set_permits(conn, sub, None)
        return new

    def _serve(self, conn: sqlite3.Connection, sub: _Subnet, hotkey: str, ip: str, port: int) -> None:
        uid = self._uid_of(conn, hotkey)
        if uid is None:
            raise _not_registered(hotkey, sub.netuid)
        conn.execute("UPDATE neurons SET axon = ? WHERE uid = ?", (axon_address(ip, port), uid))

    def _commit(self, conn: sqlite3.Connection, sub: _Subnet, block: int, hotkey: str, data: str) -> None:
        uid = self._uid_of(conn, hotkey)
        if uid is None:
            raise _not_registered(hotkey, sub.netuid)
        check_commitment(data)
        conn.execute("UPDATE neurons SET commitment = ?, commitment_block = ? WHERE uid = ?", (data, block, uid))

    def _set_weights(self, conn: sqlite3.Connection, sub: _Subnet, block: int, hotkey: str,
                     weights: dict[int, float]) -> None:
        row = conn.execute("SELECT uid, last_update, validator_permit FROM neurons WHERE hotkey = ?",
                           (hotkey,)).fetchone()
        if row is None:
            raise _not_registered(hotkey, sub.netuid)
        uid, last_update, permit = row
        since = block - last_update
        limit = sub.params.weights_rate_limit
        if last_update > 0 and since < limit:
            raise RateLimitedError(
                f"weights of uid {uid} were set {since} blocks ago; the rate limit is {limit} blocks",
                hint=f"retry in {limit - since} blocks", retry_after_blocks=limit - since)
        count = conn.execute("SELECT COUNT(*) FROM neurons").fetchone()[0]
        dests, values = quantize_weights(weights, count)
        if not permit and dests != [uid]:
            raise ChainError(f"uid {uid} has no validator permit, so its weights would not count",
                             hint="stake on the hotkey (`glean chain stake`) until it ranks in the top "
                                  f"{sub.params.max_validators}")
        conn.execute("DELETE FROM weights WHERE uid = ?", (uid,))
        conn.executemany("INSERT INTO weights (uid, dest, value) VALUES (?, ?, ?)",
                         [(uid, dest, value) for dest, value in zip(dests, values, strict=True)])
        conn.execute("UPDATE neurons SET last_update = ? WHERE uid = ?", (block, uid))

    # --- reads -------------------------------------------------------------------------------------------------

    def _state(self, conn: sqlite3.Connection, sub: _Subnet, block: int) -> SubnetState:
        cutoff = sub.params.activity_cutoff
        rows = conn.execute(
            "SELECT n.uid, n.hotkey, n.coldkey, COALESCE(s.amount, 0.0), n.validator_permit, n.axon, n.commitment, "
            "n.incentive, n.dividends, n.emission, n.last_update, n.block_at_registration "
            "FROM neurons n LEFT JOIN stakes s ON s.hotkey = n.hotkey ORDER BY n.uid").fetchall()
        neurons = tuple(
            Neuron(uid=r[0], hotkey=r[1], coldkey=r[2], stake=r[3], validator_permit=bool(r[4]),
                   active=r[10] + cutoff >= block, axon=r[5], commitment=r[6], incentive=r[7], dividends=r[8],
                   emission=r[9], last_update=r[10], block_at_registration=r[11])
            for r in rows)
        return SubnetState(netuid=sub.netuid, block=block, block_hash=self._hash_of(sub, block, block),
                           tempo=sub.params.tempo, neurons=neurons)

    @staticmethod
    def _hash_of(sub: _Subnet, block: int, current: int) -> str:
        if block < 0 or block > current:
            raise ChainError(f"block {block} does not exist yet (current block {current})",
                             hint="ask for a block at or below the current one")
        return "0x" + hashlib.sha256(f"{sub.seed}:{block}".encode()).hexdigest()

    @staticmethod
    def _blocks_since_last_update(conn: sqlite3.Connection, block: int, uid: int) -> int:
        row = conn.execute("SELECT last_update FROM neurons WHERE uid = ?", (uid,)).fetchone()
        if row is None:
            raise ChainError(f"uid {uid} does not exist on the local chain", hint="read the state for valid uids")
        return block - row[0]

    @staticmethod
    def _epochs(conn: sqlite3.Connection) -> list[EpochRecord]:
        return [EpochRecord(*row) for row in conn.execute("SELECT * FROM epochs ORDER BY epoch")]

    @staticmethod
    def _emissions(conn: sqlite3.Connection, epoch: int | None, uid: int | None) -> list[EmissionRecord]:
        rows = conn.execute(
            "SELECT m.epoch, e.block, m.uid, m.hotkey, m.stake, m.active, m.validator_permit, m.consensus, "
            "m.incentive, m.dividends, m.validator_trust, m.miner_emission, m.validator_emission "
            "FROM emissions m JOIN epochs e ON e.epoch = m.epoch "
            "WHERE (? IS NULL OR m.epoch = ?) AND (? IS NULL OR m.uid = ?) ORDER BY m.epoch, m.uid",
            (epoch, epoch, uid, uid)).fetchall()
        return [EmissionRecord(*row[:5], bool(row[5]), bool(row[6]), *row[7:]) for row in rows]

    @staticmethod
    def _emission_totals(conn: sqlite3.Connection) -> dict[str, float]:
        return dict(conn.execute("SELECT hotkey, SUM(miner_emission + validator_emission) FROM emissions "
                                 "GROUP BY hotkey").fetchall())

    @staticmethod
    def _weights(conn: sqlite3.Connection) -> dict[int, dict[int, float]]:
        rows: dict[int, dict[int, float]] = {}
        for uid, dest, value in conn.execute("SELECT uid, dest, value FROM weights ORDER BY uid, dest"):
            rows.setdefault(uid, {})[dest] = float(value)
        return {uid: {dest: value / sum(row.values()) for dest, value in row.items()} for uid, row in rows.items()}
