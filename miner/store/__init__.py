"""The miner's record store: idempotent bulk inserts with a monotonic `seq`, an index kept in the same
transaction, byte-cap and retention pruning from the oldest end, bounded pages and lookups.

One writer per database (the miner process): `seq` values are assigned here, so commits happen in `seq` order
and a reader paging by cursor can never skip a record. `AsyncStore` runs all of it off the event loop.

`Store` is the one way in; beside it live the tables (`tables`), the body format (`codec`), the index in memory
(`index`), the writer's statements (`writes`), pruning (`pruning`), reads (`reads`), the dictionary trainer
(`training`) and the writer lock (`writer_lock`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, event, func, select
from sqlalchemy.exc import SQLAlchemyError

from miner.constants import HASH_KEY_BYTES, INSERT_CHUNK
from miner.store import pruning, reads, writes
from miner.store.async_store import AsyncStore
from miner.store.codec import BodyCodec
from miner.store.index import Bucket, BucketKey, LiveIndex, Staged
from miner.store.reads import PageRows, PageTooSmall
from miner.store.tables import VERSION_TABLE, buckets, dictionaries, records, state, uri_key
from miner.store.training import DictionaryTrainer
from miner.store.writer_lock import WRITER_LOCK_KEY, claim_writer
from miner.store.writes import RecordKey, record_json
from schemas.errors import StorageError
from schemas.index import IndexBucket, MinerIndex
from schemas.record import Record, utcnow
from storage import make_engine, upgrade

__all__ = ["MIGRATIONS_DIR", "VERSION_TABLE", "WRITER_LOCK_KEY", "AddResult", "AsyncStore", "PageRows",
           "PageTooSmall", "Store", "uri_key"]

MIGRATIONS_DIR = Path(__file__).parent.parent / "migrations"


@dataclass(frozen=True)
class AddResult:
    inserted: int
    duplicates: int
    pruned: int
    newest_seq: int


class Store:
    """Synchronous store; one instance per process writes (see AsyncStore for the event-loop side)."""

    def __init__(self, engine: Engine, *, max_bytes: int | None = None, retention_days: float | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", writes.tune_sqlite)
            engine.dispose()  # connections opened before (migrations) reconnect with the setting
        self.max_bytes = max_bytes
        self.retention = timedelta(days=retention_days) if retention_days else None
        self._clock = clock
        self._codec = BodyCodec()
        self._sql = writes.DriverSql(engine.dialect)
        self._write_lock = threading.Lock()
        self._index_lock = threading.Lock()
        self._index_cache: tuple[int, str, MinerIndex, bytes] | None = None
        self._version = 0
        self._trainer = DictionaryTrainer(engine, self._codec)
        self._writer_claim = None
        self._index = self._load()

    @classmethod
    def open(cls, url: str, **options) -> Store:
        """Engine, migrations (version table `alembic_version_miner`) and in-memory state."""
        engine = make_engine(url)
        upgrade(engine, MIGRATIONS_DIR, VERSION_TABLE)
        return cls(engine, **options)

    def claim_writer(self) -> None:
        """Make this process the database's only writer (seq order depends on it); released by close() or death."""
        self._writer_claim = claim_writer(self.engine)

    def close(self) -> None:
        with self._write_lock:
            self._trainer.shutdown()
            self._codec.close()
            if self._writer_claim is not None:
                self._writer_claim.close()
                self._writer_claim = None
            self.engine.dispose()

    def _load(self) -> LiveIndex:
        """The committed index, and the stored dictionaries handed to the codec."""
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(select(buckets)).all()
                last_seq = conn.execute(select(state.c.last_seq).where(state.c.id == 1)).scalar_one()
                dicts = conn.execute(select(dictionaries.c.id, dictionaries.c.data)
                                     .order_by(dictionaries.c.id)).all()
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read the miner store: {exc.__class__.__name__}: {exc}",
                               hint="check miner.database_url and that the database is reachable") from exc
        for dict_id, data in dicts:
            self._codec.add_dictionary(dict_id, data)
        return LiveIndex((Bucket(r.id, r.domain, r.source, r.day, r.count, r.bytes, r.newest_seq) for r in rows),
                         last_seq)

    @property
    def newest_seq(self) -> int:
        return self._index.last_seq

    @property
    def total_count(self) -> int:
        return self._index.total_count

    @property
    def total_bytes(self) -> int:
        return self._index.total_bytes

    @property
    def version(self) -> int:
        """Grows with every committed change; caches of the index key on it."""
        return self._version

    # --- writes -----------------------------------------------------------------------------------------------

    def add(self, batch: Sequence[Record]) -> AddResult:
        """Insert new records (idempotent on (uri, content_hash)), update the index, prune; one transaction."""
        candidates: dict[RecordKey, tuple[bytes, Record]] = {}
        for rec in batch:
            digest = bytes.fromhex(rec.content_hash)
            candidates.setdefault((uri_key(rec.uri), digest[:HASH_KEY_BYTES]), (digest, rec))
        if not candidates:
            return AddResult(0, 0, 0, self.newest_seq)
        rows: list[tuple] = []
        with self._write_lock:
            staged = self._index.stage()
            try:
                with self.engine.begin() as conn:
                    existing = writes.existing(conn, self._sql, list(candidates))
                    fresh = [(key, *found) for key, found in candidates.items() if key not in existing]
                    if not fresh:
                        return AddResult(0, len(batch), 0, self.newest_seq)
                    rows = writes.stage_rows(conn, staged, fresh)
                    self._insert(conn, rows, [rec for _, _, rec in fresh])
                    pruned = self._prune(conn, staged)
                    staged.flush(conn)
            except SQLAlchemyError as exc:
                raise StorageError(f"writing {len(rows)} records failed: {exc.__class__.__name__}: {exc}",
                                   hint="check the database (disk space, permissions, connectivity)") from exc
            self._apply(staged)
            self._trainer.maybe_train(len(rows))
        return AddResult(len(rows), len(batch) - len(rows), pruned, self.newest_seq)

    def _insert(self, conn, rows: list[tuple], fresh: list[Record]) -> None:
        """Insert the staged rows with their bodies, compressed in chunks while the previous chunk is written."""
        # Compression starts last: the codec threads need the GIL between two records, so Python work here would
        # stall them, while the writes that follow release it.
        raws = [record_json(rec) for rec in fresh]
        bodies = self._codec.encode_chunks(raws, INSERT_CHUNK)
        self._trainer.observe(raws)
        for start, chunk in zip(range(0, len(rows), INSERT_CHUNK), bodies, strict=True):
            part = rows[start:start + INSERT_CHUNK]
            conn.exec_driver_sql(self._sql.insert, [(*row, body) for row, body in zip(part, chunk, strict=True)])

    def prune(self) -> int:
        """Apply the byte cap and the retention window now; returns the number of records removed."""
        with self._write_lock:
            staged = self._index.stage()
            try:
                with self.engine.begin() as conn:
                    pruned = self._prune(conn, staged)
                    if pruned:
                        staged.flush(conn)
            except SQLAlchemyError as exc:
                raise StorageError(f"pruning failed: {exc.__class__.__name__}: {exc}",
                                   hint="check the database (disk space, permissions, connectivity)") from exc
            if pruned:
                self._apply(staged)
        return pruned

    def _prune(self, conn, staged: Staged) -> int:
        return pruning.prune(conn, staged, max_bytes=self.max_bytes, retention=self.retention, clock=self._clock)

    def _apply(self, staged: Staged) -> None:
        self._index.apply(staged)
        self._version += 1

    def wait_background(self) -> None:
        """Wait for a dictionary being trained (tests, shutdown)."""
        self._trainer.wait()

    # --- reads ------------------------------------------------------------------------------------------------

    def buckets(self) -> list[IndexBucket]:
        """The index as schema buckets, in (domain, source, day) order: O(buckets)."""
        return self._index.buckets()

    def index(self, hotkey: str) -> MinerIndex:
        return self._cached_index(hotkey)[0]

    def index_json(self, hotkey: str) -> bytes:
        """The index encoded once per change of the store."""
        return self._cached_index(hotkey)[1]

    def _cached_index(self, hotkey: str) -> tuple[MinerIndex, bytes]:
        with self._index_lock:
            cached = self._index_cache
            if cached is None or cached[0] != self._version or cached[1] != hotkey:
                version, last_seq = self._version, self._index.last_seq
                built = MinerIndex.from_buckets(hotkey, self.buckets(), last_seq)
                cached = (version, hotkey, built, built.model_dump_json().encode())
                self._index_cache = cached
            return cached[2], cached[3]

    def page(self, after_seq: int, *, limit: int, max_bytes: int, domain: str | None = None) -> PageRows:
        """Records with seq > after_seq (optionally of one domain), at most `limit`, encoded within `max_bytes`."""
        try:
            with self.engine.connect() as conn:
                return reads.page(conn, self._codec, after_seq, limit=limit, max_bytes=max_bytes, domain=domain)
        except SQLAlchemyError as exc:
            raise StorageError(f"reading records failed: {exc.__class__.__name__}: {exc}",
                               hint="check the database (connectivity, permissions)") from exc

    def lookup(self, *, uris: Iterable[str] = (), hashes: Iterable[str] = (),
               max_bytes: int | None = None) -> list[tuple[int, bytes]]:
        """Every stored version of the given uris and every record with the given content hashes, by seq."""
        wanted_uris, digests = reads.lookup_keys(uris, hashes)
        with self.engine.connect() as conn:
            found = reads.find(conn, self._codec, wanted_uris, digests)
        return reads.within(found, max_bytes)

    def iter_records(self, after_seq: int = 0, batch: int = 1_000) -> Iterable[tuple[int, Record]]:
        """Every stored record with its seq, in seq order (tools and tests; O(records))."""
        cursor = after_seq
        while True:
            rows = self.page(cursor, limit=batch, max_bytes=2**62).items
            for seq, raw in rows:
                yield seq, Record.model_validate_json(raw)
            if len(rows) < batch:
                return
            cursor = rows[-1][0]

    def recount(self) -> list[IndexBucket]:
        """The index recomputed from the stored records themselves: what `buckets()` must equal."""
        counts: dict[BucketKey, list[int]] = {}
        for seq, rec in self.iter_records():
            entry = counts.setdefault((rec.domain, rec.source, rec.fetched_at.date()), [0, 0, 0])
            entry[0] += 1
            entry[1] += rec.text_bytes
            entry[2] = max(entry[2], seq)
        return [IndexBucket(domain=d, source=s, day=day, count=c, bytes=n, newest_seq=newest)
                for (d, s, day), (c, n, newest) in sorted(counts.items())]

    def disk_bytes(self) -> int:
        """Bytes the store takes on disk: the SQLite files, or the PostgreSQL relations with their indexes."""
        if self.engine.dialect.name == "sqlite":
            path = Path(self.engine.url.database or "").expanduser()
            return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if not p.name.endswith(".lock"))
        with self.engine.connect() as conn:
            return sum(conn.execute(select(func.pg_total_relation_size(table.name))).scalar_one()
                       for table in (records, buckets, state, dictionaries))

    def row_count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(records)).scalar_one()
