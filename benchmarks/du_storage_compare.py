"""The same ingest + index workload through Data Universe's miner storage approach, for comparison.

Data Universe (macrocosm-os/data-universe, storage/miner/sqlite_miner_storage.py) keeps one SQLite table
`DataEntity(uri TEXT PRIMARY KEY, datetime, timeBucketId, source, label, content BLOB, contentSizeBytes)
WITHOUT ROWID` with an index on (timeBucketId, source, label, contentSizeBytes); every store call first sums
`contentSizeBytes` over the table (to enforce its size cap), then `REPLACE INTO … executemany`; the miner index is
a `GROUP BY timeBucketId, source, label` query over the whole table; a bucket is served by selecting its rows.
Written here from that description (not copied); content is the record JSON uncompressed, as DU stores content.
Pragmas as glean's store (WAL, synchronous=NORMAL) so the comparison is of the storage approach, not durability.
Run with the miner benchmark (`python -m benchmarks miner`), which prints both side by side.
"""

from __future__ import annotations

import sqlite3
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

_CREATE = """CREATE TABLE IF NOT EXISTS DataEntity (
    uri TEXT PRIMARY KEY, datetime TIMESTAMP(6) NOT NULL, timeBucketId INTEGER NOT NULL, source INTEGER NOT NULL,
    label CHAR(32), content BLOB NOT NULL, contentSizeBytes INTEGER NOT NULL) WITHOUT ROWID"""
_INDEX = ("CREATE INDEX IF NOT EXISTS data_entity_bucket_index2 "
          "ON DataEntity (timeBucketId, source, label, contentSizeBytes)")
_GROUP_BY = """SELECT SUM(contentSizeBytes) AS bucketSize, COUNT(*), timeBucketId, source, label FROM DataEntity
    WHERE timeBucketId >= ? GROUP BY timeBucketId, source, label ORDER BY bucketSize DESC LIMIT ?"""
_BUCKET_ROWS = "SELECT * FROM DataEntity WHERE timeBucketId = ? AND source = ? AND label = ? LIMIT ?"
MAX_BUCKETS = 350_000  # DU's index limit per protocol 5


@dataclass(frozen=True)
class DuRow:
    """One record as DU would store it."""

    uri: str
    datetime: str
    time_bucket: int  # hours since the epoch
    source: int
    label: str
    content: bytes


class DuStore:
    def __init__(self, path: Path, max_bytes: int = 250 * 1024**3) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.conn = sqlite3.connect(path, timeout=60)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL"):
            self.conn.execute(f"PRAGMA {pragma}")
        self.conn.execute(_CREATE)
        self.conn.execute(_INDEX)

    def store(self, rows: Sequence[DuRow]) -> None:
        added = sum(len(r.content) for r in rows)
        current = self.conn.execute("SELECT SUM(contentSizeBytes) FROM DataEntity").fetchone()[0] or 0
        if current + added > self.max_bytes:
            raise RuntimeError("the comparison never fills DU's cap")
        self.conn.executemany("REPLACE INTO DataEntity VALUES (?,?,?,?,?,?,?)",
                              [(r.uri, r.datetime, r.time_bucket, r.source, r.label, r.content, len(r.content))
                               for r in rows])
        self.conn.commit()

    def index(self, oldest_bucket: int = 0) -> list[tuple]:
        return self.conn.execute(_GROUP_BY, (oldest_bucket, MAX_BUCKETS)).fetchall()

    def bucket_rows(self, bucket: tuple, limit: int) -> list[tuple]:
        _size, _count, time_bucket, source, label = bucket
        return self.conn.execute(_BUCKET_ROWS, (time_bucket, source, label, limit)).fetchall()

    def bytes_on_disk(self) -> int:
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*"))

    def close(self) -> None:
        self.conn.close()


@dataclass(frozen=True)
class DuFigures:
    ingest_per_s: float
    ingest_per_cpu_s: float
    fill_seconds: float
    index_ms: float
    bucket_page_ms: float
    disk_per_text_byte: float
    disk_per_text_byte_scale: float


def _median_ms(work, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def run(ingest: Sequence[DuRow], scale: Iterable[DuRow], ingest_text_bytes: int, scale_text_bytes: int,
        workdir: Path, batch: int = 1_000) -> DuFigures:
    """Ingest rate on `ingest`, then index and bucket-page latency and disk use with `scale` (streamed) stored."""
    small = DuStore(workdir / "du-ingest.sqlite")
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(ingest), batch):
        small.store(ingest[i:i + batch])
    ingest_per_s = len(ingest) / (time.perf_counter() - start)
    ingest_per_cpu_s = len(ingest) / (time.process_time() - cpu)
    disk_small = small.bytes_on_disk() / ingest_text_bytes
    small.close()

    big = DuStore(workdir / "du-scale.sqlite")
    start, pending = time.perf_counter(), []
    for row in scale:
        pending.append(row)
        if len(pending) == batch:
            big.store(pending)
            pending = []
    if pending:
        big.store(pending)
    fill_seconds = time.perf_counter() - start
    index_ms = _median_ms(big.index, 5)
    largest = big.index()[0]
    page_ms = _median_ms(lambda: big.bucket_rows(largest, 1_000), 10)
    disk_big = big.bytes_on_disk() / scale_text_bytes
    big.close()
    return DuFigures(ingest_per_s, ingest_per_cpu_s, fill_seconds, index_ms, page_ms, disk_small, disk_big)


if __name__ == "__main__":
    from benchmarks.bench_miner import main

    main()
