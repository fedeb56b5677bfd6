"""Shard writer: bounded row groups and shards, boundaries independent of input batching."""

from __future__ import annotations

import pyarrow.parquet as pq

from hub.columns import to_batch
from hub.shards import ShardWriter
from tests.hub.records import accepted


def _records(n: int):
    return [accepted(i, approx_bytes=300) for i in range(1, n + 1)]


def test_row_groups_and_shards_stay_within_their_row_bounds(tmp_path):
    writer = ShardWriter(tmp_path, shard_rows=100, shard_bytes=1 << 30, row_group_rows=30, row_group_bytes=1 << 30)
    writer.write(to_batch(_records(250), "r00000001"))
    shards = writer.close()

    assert [s.rows for s in shards] == [100, 100, 50]
    groups = [pq.ParquetFile(s.path).metadata.row_group(i).num_rows
              for s in shards for i in range(pq.ParquetFile(s.path).metadata.num_row_groups)]
    assert groups == [30, 30, 30, 10, 30, 30, 30, 10, 30, 20]


def test_byte_bound_closes_row_groups_and_shards_early(tmp_path):
    writer = ShardWriter(tmp_path, shard_rows=10_000, shard_bytes=20_000, row_group_rows=10_000,
                         row_group_bytes=5_000)
    writer.write(to_batch(_records(100), "r00000001"))
    shards = writer.close()

    assert len(shards) > 1 and sum(s.rows for s in shards) == 100
    for s in shards:
        meta = pq.ParquetFile(s.path).metadata
        assert all(meta.row_group(i).num_rows < 100 for i in range(meta.num_row_groups))


def test_shards_do_not_depend_on_how_rows_were_batched(tmp_path):
    records = _records(120)
    whole = ShardWriter(tmp_path / "whole", shard_rows=50, row_group_rows=20)
    whole.write(to_batch(records, "r00000001"))
    pieces = ShardWriter(tmp_path / "pieces", shard_rows=50, row_group_rows=20)
    for start in range(0, 120, 7):
        pieces.write(to_batch(records[start:start + 7], "r00000001"))

    a, b = whole.close(), pieces.close()
    assert [s.path.read_bytes() for s in a] == [s.path.read_bytes() for s in b]


def test_shards_are_zstd_compressed(tmp_path):
    writer = ShardWriter(tmp_path)
    writer.write(to_batch(_records(10), "r00000001"))
    shard = writer.close()[0]

    column = pq.ParquetFile(shard.path).metadata.row_group(0).column(0)
    assert column.compression == "ZSTD"
