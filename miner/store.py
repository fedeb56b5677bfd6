"""The miner's record store: idempotent bulk inserts with a monotonic `seq`, an index kept in the same
transaction, byte-cap and retention pruning from the oldest end, bounded pages and lookups.

One writer per database (the miner process): `seq` values are assigned here, so commits happen in `seq` order
and a reader paging by cursor can never skip a record. `AsyncStore` runs all of it off the event loop.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Dialect, Engine, bindparam, delete, event, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from miner import wire
from miner.codec import MAX_DICT_ID, BodyCodec, train_dictionary
from miner.constants import (
    DICT_RETRAIN_EVERY,
    DICT_TRAIN_AFTER,
    HASH_KEY_BYTES,
    INSERT_CHUNK,
    PAGE_FETCH_CHUNK,
    PRUNE_CHUNK,
    PRUNE_LOW_WATER,
    SQL_CHUNK,
    SQLITE_WAL_AUTOCHECKPOINT,
    URI_KEY_BYTES,
)
from miner.tables import VERSION_TABLE, buckets, dictionaries, records, state
from schemas.errors import ProtocolError, RecordError, StorageError
from schemas.index import IndexBucket, MinerIndex
from schemas.record import Record, utcnow
from schemas.urls import canonical_url
from storage import make_engine, upgrade

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# PostgreSQL advisory lock held by the writing miner (any fixed 64-bit number; "glean-mw" in ASCII).
WRITER_LOCK_KEY = int.from_bytes(b"glean-mw", "big") & 0x7FFF_FFFF_FFFF_FFFF
BucketKey = tuple[str, str, date]
# A record's identity in the store: (uri_key, hash_key), the columns of the unique index.
RecordKey = tuple[bytes, bytes]
# Built once: a Core statement built per batch costs its construction and cache-key walk every time.
_GROW_BUCKETS = update(buckets).where(buckets.c.id == bindparam("b_id")).values(
    count=buckets.c.count + bindparam("b_count"), bytes=buckets.c.bytes + bindparam("b_bytes"),
    newest_seq=bindparam("b_newest"))
# Column order of the rows `_rows` builds (the body last).
_INSERT_COLUMNS = ("seq", "content_hash", "hash_key", "uri_key", "domain", "bucket_id", "text_bytes", "body")


def uri_key(uri: str) -> bytes:
    """The short binary key a uri is indexed by."""
    return hashlib.sha256(uri.encode("utf-8")).digest()[:URI_KEY_BYTES]


@dataclass(frozen=True)
class AddResult:
    inserted: int
    duplicates: int
    pruned: int
    newest_seq: int


@dataclass(frozen=True)
class PageRows:
    """Records after a cursor as (seq, record JSON) pairs; `next_seq` is the caller's next cursor."""

    items: list[tuple[int, bytes]]
    next_seq: int
    more: bool


class PageTooSmall(ProtocolError):
    """The next record alone is larger than the caller's byte budget."""

    def __init__(self, seq: int, needed: int) -> None:
        super().__init__(f"record seq {seq} needs a page of {needed} bytes, more than max_bytes",
                         hint=f"ask again with max_bytes >= {needed}")
        self.seq = seq
        self.needed = needed


@dataclass(slots=True)
class _Bucket:
    id: int
    domain: str
    source: str
    day: date
    count: int
    bytes: int
    newest_seq: int

    @property
    def key(self) -> BucketKey:
        return (self.domain, self.source, self.day)


class _Staged:
    """Index and seq changes of one write transaction; applied to memory only after the commit succeeds."""

    def __init__(self, by_id: dict[int, _Bucket], by_key: dict[BucketKey, int], last_seq: int,
                 total_count: int, total_bytes: int) -> None:
        self._by_id, self._by_key = by_id, by_key
        self.changed: dict[int, _Bucket] = {}
        self.created: dict[BucketKey, int] = {}
        self.last_seq, self.total_count, self.total_bytes = last_seq, total_count, total_bytes

    def bucket(self, bucket_id: int) -> _Bucket:
        """The staged copy of a bucket (copied on first touch; memory keeps the committed one)."""
        staged = self.changed.get(bucket_id)
        if staged is None:
            staged = self.changed[bucket_id] = replace(self._by_id[bucket_id])
        return staged

    def peek(self, bucket_id: int) -> _Bucket:
        """The bucket as staged so far, without copying it (read only)."""
        return self.changed.get(bucket_id) or self._by_id[bucket_id]

    def bucket_id(self, conn: Connection, key: BucketKey) -> int:
        found = self._by_key.get(key, self.created.get(key))
        if found is not None:
            return found
        domain, source, day = key
        new_id = conn.execute(insert(buckets).values(domain=domain, source=source, day=day, count=0, bytes=0,
                                                     newest_seq=0)).inserted_primary_key[0]
        self.created[key] = new_id
        self.changed[new_id] = _Bucket(new_id, domain, source, day, 0, 0, 0)
        return new_id

    def grow(self, bucket_id: int, text_bytes: int, seq: int) -> None:
        b = self.bucket(bucket_id)
        b.count, b.bytes, b.newest_seq = b.count + 1, b.bytes + text_bytes, seq
        self.total_count += 1
        self.total_bytes += text_bytes

    def shrink(self, bucket_id: int, text_bytes: int) -> None:
        b = self.bucket(bucket_id)
        # Pruning removes the oldest seqs, so a bucket that keeps any row keeps its newest one.
        b.count, b.bytes = b.count - 1, b.bytes - text_bytes
        self.total_count -= 1
        self.total_bytes -= text_bytes

    def oldest_day(self) -> date | None:
        live = {**self._by_id, **self.changed}
        return min((b.day for b in live.values() if b.count > 0), default=None)

    def flush(self, conn: Connection) -> None:
        """Write the index changes and the last seq (same transaction as the records)."""
        live = []
        for bucket_id, b in self.changed.items():
            before = self._by_id.get(bucket_id)
            if b.count > 0:
                live.append({"b_id": bucket_id, "b_count": b.count - (before.count if before else 0),
                             "b_bytes": b.bytes - (before.bytes if before else 0), "b_newest": b.newest_seq})
        if live:
            conn.execute(_GROW_BUCKETS, live)
        empty = [i for i, b in self.changed.items() if b.count == 0]
        if empty:
            conn.execute(delete(buckets).where(buckets.c.id.in_(empty)))
        conn.execute(update(state).where(state.c.id == 1).values(last_seq=self.last_seq))


class Store:
    """Synchronous store; one instance per process writes (see AsyncStore for the event-loop side)."""

    def __init__(self, engine: Engine, *, max_bytes: int | None = None, retention_days: float | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _tune_sqlite)
            engine.dispose()  # connections opened before (migrations) reconnect with the setting
        self.max_bytes = max_bytes
        self.retention = timedelta(days=retention_days) if retention_days else None
        self._clock = clock
        self._codec = BodyCodec()
        self._sql = _DriverSql(engine.dialect)
        self._write_lock = threading.Lock()
        self._index_lock = threading.Lock()
        self._index_cache: tuple[int, str, MinerIndex, bytes] | None = None
        self._version = 0
        self._samples: deque[bytes] = deque(maxlen=DICT_TRAIN_AFTER)
        self._since_dictionary = 0
        # Training takes ~0.3 s: it runs beside the writer, which keeps compressing with the previous dictionary.
        self._trainer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="miner-zstd-train")
        self._training: Future | None = None
        self._writer_claim = None
        self._load()

    @classmethod
    def open(cls, url: str, **options) -> Store:
        """Engine, migrations (version table `alembic_version_miner`) and in-memory state."""
        engine = make_engine(url)
        upgrade(engine, MIGRATIONS_DIR, VERSION_TABLE)
        return cls(engine, **options)

    def claim_writer(self) -> None:
        """Make this process the database's only writer (seq order depends on it); released by close() or death."""
        if self.engine.dialect.name == "sqlite":
            path = Path(self.engine.url.database or "").expanduser()
            handle = open(f"{path}.writer.lock", "a+b")  # noqa: SIM115 - held open for the store's lifetime
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                raise StorageError(f"another miner is already writing to {path}",
                                   hint="stop the other `glean miner run`, or give this one its own --data-dir",
                                   ) from None
            self._writer_claim = handle
            return
        conn = self.engine.connect()
        if not conn.execute(select(func.pg_try_advisory_lock(WRITER_LOCK_KEY))).scalar_one():
            conn.close()
            raise StorageError("another miner is already writing to this PostgreSQL database",
                               hint="stop the other `glean miner run`, or point this one at its own database")
        conn.commit()
        self._writer_claim = conn

    def close(self) -> None:
        with self._write_lock:
            self._trainer.shutdown(wait=True)
            self._codec.close()
            if self._writer_claim is not None:
                self._writer_claim.close()
                self._writer_claim = None
            self.engine.dispose()

    # --- state ------------------------------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(select(buckets)).all()
                last_seq = conn.execute(select(state.c.last_seq).where(state.c.id == 1)).scalar_one()
                dicts = conn.execute(select(dictionaries.c.id, dictionaries.c.data)
                                     .order_by(dictionaries.c.id)).all()
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read the miner store: {exc.__class__.__name__}: {exc}",
                               hint="check miner.database_url and that the database is reachable") from exc
        self._by_id = {r.id: _Bucket(r.id, r.domain, r.source, r.day, r.count, r.bytes, r.newest_seq) for r in rows}
        self._by_key = {b.key: b.id for b in self._by_id.values()}
        self._last_seq = last_seq
        self._total_count = sum(b.count for b in self._by_id.values())
        self._total_bytes = sum(b.bytes for b in self._by_id.values())
        for dict_id, data in dicts:
            self._codec.add_dictionary(dict_id, data)

    @property
    def newest_seq(self) -> int:
        return self._last_seq

    @property
    def total_count(self) -> int:
        return self._total_count

    @property
    def total_bytes(self) -> int:
        return self._total_bytes

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
            return AddResult(0, 0, 0, self._last_seq)
        rows: list[tuple] = []
        with self._write_lock:
            staged = self._stage()
            try:
                with self.engine.begin() as conn:
                    existing = self._existing(conn, list(candidates))
                    fresh = [(key, *found) for key, found in candidates.items() if key not in existing]
                    if not fresh:
                        return AddResult(0, len(batch), 0, self._last_seq)
                    rows, bodies = self._rows(conn, staged, fresh)
                    for start, chunk in zip(range(0, len(rows), INSERT_CHUNK), bodies, strict=True):
                        part = rows[start:start + INSERT_CHUNK]
                        conn.exec_driver_sql(self._sql.insert,
                                             [(*row, body) for row, body in zip(part, chunk, strict=True)])
                    pruned = self._prune(conn, staged)
                    staged.flush(conn)
            except SQLAlchemyError as exc:
                raise StorageError(f"writing {len(rows)} records failed: {exc.__class__.__name__}: {exc}",
                                   hint="check the database (disk space, permissions, connectivity)") from exc
            self._apply(staged)
            self._maybe_train(rows)
        return AddResult(len(rows), len(batch) - len(rows), pruned, self._last_seq)

    def prune(self) -> int:
        """Apply the byte cap and the retention window now; returns the number of records removed."""
        with self._write_lock:
            staged = self._stage()
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

    def _stage(self) -> _Staged:
        return _Staged(self._by_id, self._by_key, self._last_seq, self._total_count, self._total_bytes)

    def _existing(self, conn: Connection, keys: list[RecordKey]) -> set[RecordKey]:
        found: set[RecordKey] = set()
        uri_keys = sorted({u for u, _ in keys})
        for start in range(0, len(uri_keys), SQL_CHUNK):
            chunk = uri_keys[start:start + SQL_CHUNK]
            found.update((bytes(u), bytes(h)) for u, h in conn.exec_driver_sql(self._sql.known_keys(len(chunk)),
                                                                              tuple(chunk)))
        return found

    def _rows(self, conn: Connection, staged: _Staged,
              fresh: list[tuple[RecordKey, bytes, Record]]) -> tuple[list[tuple], Iterator[list[bytes]]]:
        """Rows without their bodies, seqs and index changes staged; the bodies come compressed, in chunks."""
        rows = []
        for (ukey, hkey), digest, rec in fresh:
            bucket_id = staged.bucket_id(conn, (rec.domain, rec.source, rec.fetched_at.date()))
            staged.last_seq += 1
            text_bytes = rec.text_bytes
            staged.grow(bucket_id, text_bytes, staged.last_seq)
            rows.append((staged.last_seq, digest, hkey, ukey, rec.domain, bucket_id, text_bytes))
        # Compression starts last: the codec threads need the GIL between two records, so Python work here would
        # stall them, while the writes that follow release it.
        raws = [_record_json(rec) for _, _, rec in fresh]
        bodies = self._codec.encode_chunks(raws, INSERT_CHUNK)
        self._samples.extend(raws[-DICT_TRAIN_AFTER:])
        return rows, bodies

    def _apply(self, staged: _Staged) -> None:
        for bucket_id, bucket in staged.changed.items():
            if bucket.count > 0:
                self._by_id[bucket_id] = bucket
                self._by_key[bucket.key] = bucket_id
            else:
                self._by_id.pop(bucket_id, None)
                self._by_key.pop(bucket.key, None)
        self._last_seq = staged.last_seq
        self._total_count, self._total_bytes = staged.total_count, staged.total_bytes
        self._version += 1

    def _prune(self, conn: Connection, staged: _Staged) -> int:
        removed = 0
        if self.max_bytes is not None and staged.total_bytes > self.max_bytes:
            target = int(self.max_bytes * PRUNE_LOW_WATER)
            removed += self._delete_oldest(conn, staged, lambda _bucket_id: staged.total_bytes <= target)
            log.info("pruned for the byte cap records=%d cap=%d bytes_now=%d", removed, self.max_bytes,
                     staged.total_bytes)
        if self.retention is not None:
            cutoff = (self._clock() - self.retention).date()
            oldest = staged.oldest_day()
            if oldest is not None and oldest < cutoff:
                expired = self._delete_oldest(conn, staged, lambda bucket_id: staged.peek(bucket_id).day >= cutoff)
                log.info("pruned for retention records=%d before_day=%s", expired, cutoff.isoformat())
                removed += expired
        return removed

    def _delete_oldest(self, conn: Connection, staged: _Staged, stop: Callable[[int], bool]) -> int:
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

    def _maybe_train(self, rows: list[tuple]) -> None:
        """Train (or re-train) the shared zstd dictionary in the background once enough records were seen."""
        self._since_dictionary += len(rows)
        due = DICT_TRAIN_AFTER if self._codec.current_dictionary is None else DICT_RETRAIN_EVERY
        if self._since_dictionary < due or len(self._samples) < DICT_TRAIN_AFTER or self._training is not None:
            return
        self._since_dictionary = 0
        self._training = self._trainer.submit(self._train, list(self._samples))

    def _train(self, samples: list[bytes]) -> None:
        """Runs on the trainer thread: the dictionary row commits before any body can name it."""
        try:
            data = train_dictionary(samples)
            new_id = (self._codec.current_dictionary or 0) + 1
            if data is None or new_id > MAX_DICT_ID:
                return
            with self.engine.begin() as conn:
                conn.execute(insert(dictionaries).values(id=new_id, created_at=utcnow(), data=data))
            self._codec.add_dictionary(new_id, data)
            log.info("zstd dictionary trained id=%d samples=%d", new_id, len(samples))
        except (SQLAlchemyError, StorageError) as exc:
            log.warning("zstd dictionary not saved error=%s", exc)
        finally:
            self._training = None

    def wait_background(self) -> None:
        """Wait for a dictionary being trained (tests, shutdown)."""
        pending = self._training
        if pending is not None:
            pending.result()

    # --- reads ------------------------------------------------------------------------------------------------

    def buckets(self) -> list[IndexBucket]:
        """The index as schema buckets, in (domain, source, day) order: O(buckets)."""
        return [IndexBucket(domain=b.domain, source=b.source, day=b.day, count=b.count, bytes=b.bytes,
                            newest_seq=b.newest_seq)
                for b in sorted(self._by_id.values(), key=lambda b: b.key)]

    def index(self, hotkey: str) -> MinerIndex:
        return self._cached_index(hotkey)[0]

    def index_json(self, hotkey: str) -> bytes:
        """The index encoded once per change of the store."""
        return self._cached_index(hotkey)[1]

    def _cached_index(self, hotkey: str) -> tuple[MinerIndex, bytes]:
        with self._index_lock:
            cached = self._index_cache
            if cached is None or cached[0] != self._version or cached[1] != hotkey:
                version, last_seq = self._version, self._last_seq
                built = MinerIndex.from_buckets(hotkey, self.buckets(), last_seq)
                cached = (version, hotkey, built, built.model_dump_json().encode())
                self._index_cache = cached
            return cached[2], cached[3]

    def page(self, after_seq: int, *, limit: int, max_bytes: int, domain: str | None = None) -> PageRows:
        """Records with seq > after_seq (optionally of one domain), at most `limit`, encoded within `max_bytes`."""
        budget = max_bytes - wire.ENVELOPE_BYTES
        items: list[tuple[int, bytes]] = []
        used, cursor, more = 0, after_seq, False
        try:
            with self.engine.connect() as conn:
                while len(items) < limit and not more:
                    want = min(PAGE_FETCH_CHUNK, limit - len(items))
                    chunk = conn.execute(self._after(cursor, domain).limit(want)).all()
                    raws = self._codec.decode_many([body for _, body in chunk])
                    for (seq, _), raw in zip(chunk, raws, strict=True):
                        size = wire.item_bytes(seq, raw)
                        if used + size > budget:
                            if not items:
                                raise PageTooSmall(seq, size + wire.ENVELOPE_BYTES)
                            more = True
                            break
                        items.append((seq, raw))
                        used += size
                    if len(chunk) < want:
                        break
                    cursor = chunk[-1].seq
                if items and not more and len(items) == limit:
                    more = conn.execute(self._after(items[-1][0], domain).limit(1)).first() is not None
        except SQLAlchemyError as exc:
            raise StorageError(f"reading records failed: {exc.__class__.__name__}: {exc}",
                               hint="check the database (connectivity, permissions)") from exc
        return PageRows(items, items[-1][0] if items else after_seq, more)

    @staticmethod
    def _after(cursor: int, domain: str | None):
        query = select(records.c.seq, records.c.body).where(records.c.seq > cursor)
        if domain is not None:
            query = query.where(records.c.domain == domain)
        return query.order_by(records.c.seq)

    def lookup(self, *, uris: Iterable[str] = (), hashes: Iterable[str] = (),
               max_bytes: int | None = None) -> list[tuple[int, bytes]]:
        """Every stored version of the given uris and every record with the given content hashes, by seq."""
        wanted_uris = {_canonical_or_raw(u) for u in uris}
        try:
            digests = sorted({bytes.fromhex(h) for h in hashes})
        except ValueError:
            raise ProtocolError("a content hash is not hex", hint="send sha256 hex digests (64 characters)") from None
        found: dict[int, bytes] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(digests), SQL_CHUNK):
                chunk = digests[start:start + SQL_CHUNK]
                hash_keys = sorted({d[:HASH_KEY_BYTES] for d in chunk})
                # The indexed short key finds the candidates; the full hash in the row makes the answer exact.
                for seq, body in conn.execute(select(records.c.seq, records.c.body)
                                              .where(records.c.hash_key.in_(hash_keys),
                                                     records.c.content_hash.in_(chunk))):
                    found[seq] = self._codec.decode(body)
            keys = sorted({uri_key(u) for u in wanted_uris})
            for start in range(0, len(keys), SQL_CHUNK):
                chunk = keys[start:start + SQL_CHUNK]
                for seq, body in conn.execute(select(records.c.seq, records.c.body)
                                              .where(records.c.uri_key.in_(chunk))):
                    raw = self._codec.decode(body)
                    if json.loads(raw)["uri"] in wanted_uris:  # the short key may collide; the uri decides
                        found[seq] = raw
        items, used = [], wire.ENVELOPE_BYTES
        for seq in sorted(found):
            used += wire.item_bytes(seq, found[seq])
            if max_bytes is not None and used > max_bytes:
                log.info("lookup answer truncated records=%d of=%d max_bytes=%d", len(items), len(found), max_bytes)
                break
            items.append((seq, found[seq]))
        return items

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


# `model_dump_json().encode()` without the wrapper and the str round trip: the same bytes, ~1.4 of its ~5 us less.
_record_json = Record.__pydantic_serializer__.to_json


class _DriverSql:
    """The writer's per-record statements as driver SQL with positional placeholders (sqlite3's `?`, psycopg's
    `%s`), rows as tuples: Core builds and processes a parameter dict per row of an executemany and each element of
    an expanding IN, ~4 us per record inserted and ~1 us per key checked, on the writer's critical path."""

    def __init__(self, dialect: Dialect) -> None:
        self._mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.insert = (f"INSERT INTO {records.name} ({', '.join(_INSERT_COLUMNS)}) "
                       f"VALUES ({self._marks(len(_INSERT_COLUMNS))})")

    def known_keys(self, count: int) -> str:
        """The keys stored for `count` uri keys, answered from the unique index alone (both columns are in it)."""
        return (f"SELECT {records.c.uri_key.name}, {records.c.hash_key.name} FROM {records.name} "
                f"WHERE {records.c.uri_key.name} IN ({self._marks(count)})")

    def _marks(self, count: int) -> str:
        return ", ".join([self._mark] * count)


def _tune_sqlite(dbapi_conn, _record) -> None:
    # Each batch rewrites a leaf page of the two hash-keyed indexes per record; checkpointing every 16k pages
    # (128 MiB of WAL) instead of SQLite's 1k writes each such page once per many batches: ~1.7x faster fills
    # at 400k records.
    dbapi_conn.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT}")


def _canonical_or_raw(uri: str) -> str:
    try:
        return canonical_url(uri)
    except RecordError:
        return uri


class AsyncStore:
    """The store for asyncio code: writes on one dedicated thread (in seq order), reads on the default pool."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="miner-store-writer")
        self._closed = False

    async def add(self, batch: Sequence[Record]) -> AddResult:
        # A cancelled caller does not stop the thread: the batch in flight still commits before close() returns.
        return await asyncio.get_running_loop().run_in_executor(self._writer, self.store.add, list(batch))

    async def prune(self) -> int:
        return await asyncio.get_running_loop().run_in_executor(self._writer, self.store.prune)

    async def page(self, after_seq: int, *, limit: int, max_bytes: int, domain: str | None = None) -> PageRows:
        return await asyncio.to_thread(self.store.page, after_seq, limit=limit, max_bytes=max_bytes, domain=domain)

    async def lookup(self, *, uris: Sequence[str], hashes: Sequence[str], max_bytes: int) -> list[tuple[int, bytes]]:
        return await asyncio.to_thread(self.store.lookup, uris=uris, hashes=hashes, max_bytes=max_bytes)

    async def close(self) -> None:
        """Wait for the batch in flight, then close the database."""
        if self._closed:
            return
        self._closed = True
        await asyncio.to_thread(self._writer.shutdown, wait=True)
        self.store.close()
