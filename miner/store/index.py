"""The index in memory: one bucket per (domain, source, day), the last seq and the totals, as committed; and the
changes of one write transaction, staged beside it until the commit succeeds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import Connection, bindparam, delete, insert, update

from miner.store.tables import buckets, state
from schemas.index import IndexBucket

BucketKey = tuple[str, str, date]
# Built once: a Core statement built per batch costs its construction and cache-key walk every time.
_GROW_BUCKETS = update(buckets).where(buckets.c.id == bindparam("b_id")).values(
    count=buckets.c.count + bindparam("b_count"), bytes=buckets.c.bytes + bindparam("b_bytes"),
    newest_seq=bindparam("b_newest"))


@dataclass(slots=True)
class Bucket:
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


class Staged:
    """Index and seq changes of one write transaction; applied to memory only after the commit succeeds."""

    def __init__(self, by_id: dict[int, Bucket], by_key: dict[BucketKey, int], last_seq: int,
                 total_count: int, total_bytes: int) -> None:
        self._by_id, self._by_key = by_id, by_key
        self.changed: dict[int, Bucket] = {}
        self.created: dict[BucketKey, int] = {}
        self.last_seq, self.total_count, self.total_bytes = last_seq, total_count, total_bytes

    def bucket(self, bucket_id: int) -> Bucket:
        """The staged copy of a bucket (copied on first touch; memory keeps the committed one)."""
        staged = self.changed.get(bucket_id)
        if staged is None:
            staged = self.changed[bucket_id] = replace(self._by_id[bucket_id])
        return staged

    def peek(self, bucket_id: int) -> Bucket:
        """The bucket as staged so far, without copying it (read only)."""
        return self.changed.get(bucket_id) or self._by_id[bucket_id]

    def bucket_id(self, conn: Connection, key: BucketKey) -> int:
        """The id of the bucket `key`, inserting an empty one if it does not exist yet."""
        found = self._by_key.get(key, self.created.get(key))
        if found is not None:
            return found
        domain, source, day = key
        new_id = conn.execute(insert(buckets).values(domain=domain, source=source, day=day, count=0, bytes=0,
                                                     newest_seq=0)).inserted_primary_key[0]
        self.created[key] = new_id
        self.changed[new_id] = Bucket(new_id, domain, source, day, 0, 0, 0)
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


class LiveIndex:
    """The committed index: buckets by id and by key, the last seq ever assigned, and the totals."""

    def __init__(self, rows: Iterable[Bucket], last_seq: int) -> None:
        self.by_id = {b.id: b for b in rows}
        self.by_key = {b.key: b.id for b in self.by_id.values()}
        self.last_seq = last_seq
        self.total_count = sum(b.count for b in self.by_id.values())
        self.total_bytes = sum(b.bytes for b in self.by_id.values())

    def stage(self) -> Staged:
        """A fresh set of staged changes on top of what is committed."""
        return Staged(self.by_id, self.by_key, self.last_seq, self.total_count, self.total_bytes)

    def apply(self, staged: Staged) -> None:
        """Make a committed transaction's staged changes the index."""
        for bucket_id, bucket in staged.changed.items():
            if bucket.count > 0:
                self.by_id[bucket_id] = bucket
                self.by_key[bucket.key] = bucket_id
            else:
                self.by_id.pop(bucket_id, None)
                self.by_key.pop(bucket.key, None)
        self.last_seq = staged.last_seq
        self.total_count, self.total_bytes = staged.total_count, staged.total_bytes

    def buckets(self) -> list[IndexBucket]:
        """The index as schema buckets, in (domain, source, day) order: O(buckets)."""
        return [IndexBucket(domain=b.domain, source=b.source, day=b.day, count=b.count, bytes=b.bytes,
                            newest_seq=b.newest_seq)
                for b in sorted(self.by_id.values(), key=lambda b: b.key)]
