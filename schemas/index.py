"""MinerIndex: what a miner holds, per (domain, source, day); O(buckets), never O(records)."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from schemas.record import DomainId, SourceKind

MAX_BUCKETS = 50_000


class IndexBucket(BaseModel):
    """Counts for one (domain, source, day of fetch)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    domain: DomainId
    source: SourceKind
    day: date
    count: Annotated[int, Field(ge=0)]
    bytes: Annotated[int, Field(ge=0)]
    newest_seq: Annotated[int, Field(ge=0)]


def index_digest(buckets: list[IndexBucket]) -> str:
    """sha256 over the buckets in a fixed order: equal holdings give equal digests."""
    h = hashlib.sha256()
    for b in sorted(buckets, key=lambda b: (b.domain, b.source, b.day)):
        h.update(f"{b.domain}|{b.source}|{b.day.isoformat()}|{b.count}|{b.bytes}|{b.newest_seq}\n".encode())
    return h.hexdigest()


class MinerIndex(BaseModel):
    """A miner's holdings and its newest sequence number."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hotkey: str
    newest_seq: Annotated[int, Field(ge=0)]
    total_count: Annotated[int, Field(ge=0)]
    total_bytes: Annotated[int, Field(ge=0)]
    buckets: Annotated[list[IndexBucket], Field(max_length=MAX_BUCKETS)]
    digest: str

    @classmethod
    def from_buckets(cls, hotkey: str, buckets: list[IndexBucket], newest_seq: int) -> MinerIndex:
        return cls(hotkey=hotkey, newest_seq=newest_seq, total_count=sum(b.count for b in buckets),
                   total_bytes=sum(b.bytes for b in buckets), buckets=buckets, digest=index_digest(buckets))
