"""Parquet shards of one domain, written with pyarrow directly: zstd, bounded row groups, bounded shards.

Row-group and shard boundaries depend only on the sequence of rows, never on how the rows were batched on
the way in, so the same accepted records always give byte-identical files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hub import constants
from hub.columns import DICTIONARY_COLUMNS, MEMORY_POOL, SCHEMA, STATISTICS_COLUMNS

# Per-row bytes beyond text and claimed_title (url, hash, timestamps, scores, signals), for the size bounds.
ROW_OVERHEAD_BYTES = 256


@dataclass(frozen=True)
class Shard:
    path: Path
    rows: int


def _row_sizes(table: pa.Table) -> np.ndarray:
    text = pc.binary_length(table.column("text")).to_numpy(zero_copy_only=False)
    title = pc.binary_length(table.column("claimed_title")).to_numpy(zero_copy_only=False)
    return text.astype(np.int64) + title + ROW_OVERHEAD_BYTES


def _cut(sizes: np.ndarray, max_rows: int, max_bytes: int) -> int:
    """Rows of the next chunk: up to `max_rows`, stopping at the row that reaches `max_bytes` (at least 1)."""
    head = sizes[:max_rows]
    over = np.flatnonzero(np.cumsum(head) >= max_bytes)
    return int(over[0]) + 1 if over.size else len(head)


class ShardWriter:
    """Streams rows into `folder/part-00000.parquet`, `part-00001.parquet`, ...; `close()` lists the shards."""

    def __init__(self, folder: Path, *, shard_rows: int = constants.SHARD_ROWS,
                 shard_bytes: int = constants.SHARD_BYTES, row_group_rows: int = constants.ROW_GROUP_ROWS,
                 row_group_bytes: int = constants.ROW_GROUP_BYTES) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._limits = (shard_rows, shard_bytes, row_group_rows, row_group_bytes)
        self._buffer: pa.Table | None = None
        self._sizes = np.zeros(0, dtype=np.int64)
        self._writer: pq.ParquetWriter | None = None
        self._shard_rows = 0
        self._shard_bytes = 0
        self._shards: list[Shard] = []

    def write(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Append rows (columns of `hub.columns.SCHEMA`); full row groups are written as they fill."""
        table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
        if table.num_rows == 0:
            return
        self._buffer = table if self._buffer is None else pa.concat_tables([self._buffer, table])
        self._sizes = np.concatenate([self._sizes, _row_sizes(table)])
        self._drain(final=False)

    def close(self) -> list[Shard]:
        """Write what is buffered and close the last shard."""
        self._drain(final=True)
        self._close_shard()
        return list(self._shards)

    def _drain(self, *, final: bool) -> None:
        shard_rows, shard_bytes, group_rows, group_bytes = self._limits
        while self._buffer is not None and self._buffer.num_rows:
            max_rows = min(group_rows, shard_rows - self._shard_rows)
            max_bytes = min(group_bytes, shard_bytes - self._shard_bytes)
            rows = _cut(self._sizes, max_rows, max_bytes)
            full = rows == max_rows or int(self._sizes[:rows].sum()) >= max_bytes
            if not full and not final:
                return  # wait for more rows so the group boundary does not depend on batching
            self._write_group(self._buffer.slice(0, rows), int(self._sizes[:rows].sum()))
            self._buffer = self._buffer.slice(rows)
            self._sizes = self._sizes[rows:]
            if self._shard_rows >= shard_rows or self._shard_bytes >= shard_bytes:
                self._close_shard()

    def _write_group(self, table: pa.Table, nbytes: int) -> None:
        if self._writer is None:
            path = self.folder / f"part-{len(self._shards):05d}.parquet"
            self._writer = pq.ParquetWriter(
                path, SCHEMA, compression=constants.PARQUET_COMPRESSION,
                compression_level=constants.PARQUET_COMPRESSION_LEVEL, use_dictionary=DICTIONARY_COLUMNS,
                write_statistics=STATISTICS_COLUMNS, memory_pool=MEMORY_POOL)
            self._shards.append(Shard(path, 0))
        self._writer.write_table(table, row_group_size=table.num_rows)
        self._shard_rows += table.num_rows
        self._shard_bytes += nbytes

    def _close_shard(self) -> None:
        if self._writer is None:
            return
        self._writer.close()
        self._writer = None
        last = self._shards[-1]
        self._shards[-1] = Shard(last.path, self._shard_rows)
        self._shard_rows = 0
        self._shard_bytes = 0
