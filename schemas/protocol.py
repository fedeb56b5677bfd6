"""Request/response models of the miner's HTTP API, version /v1, and the header naming the protocol version."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from schemas.record import DomainId, Record

# The routes' version (/v1): the shape of the URLs. It stays put when the protocol version (schemas.version) moves,
# so a peer on another protocol version still reaches the miner and gets its clear refusal instead of a 404.
API_VERSION = "v1"
API_PREFIX = f"/{API_VERSION}"
# Every request to a signed route carries the sender's schemas.version.PROTOCOL_VERSION here; a miner's refusal
# (HTTP 426) carries the miner's in the same header.
PROTOCOL_HEADER = "X-Glean-Protocol"

MAX_PAGE_RECORDS = 2_000
MAX_PAGE_BYTES = 16 * 1024 * 1024
MAX_LOOKUP_KEYS = 256
MAX_REQUEST_BYTES = 64 * 1024


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HealthResponse(_Message):
    """Unsigned liveness answer."""

    version: str
    protocol: str = API_VERSION
    hotkey: str
    newest_seq: int


class StoredRecord(_Message):
    """A record with the miner's sequence number."""

    seq: Annotated[int, Field(ge=1)]
    record: Record


class RecordsRequest(_Message):
    """A page of records after a cursor, optionally of one domain, bounded by count and bytes."""

    after_seq: Annotated[int, Field(ge=0)] = 0
    domain: DomainId | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE_RECORDS)] = 500
    max_bytes: Annotated[int, Field(ge=1024, le=MAX_PAGE_BYTES)] = 4 * 1024 * 1024


class RecordsResponse(_Message):
    """`next_seq` is the cursor for the following request; `more` says whether records remain after it."""

    records: list[StoredRecord]
    next_seq: Annotated[int, Field(ge=0)]
    more: bool


class LookupRequest(_Message):
    """Records by canonical uri or by content hash (for sampling)."""

    uris: Annotated[list[str], Field(max_length=MAX_LOOKUP_KEYS)] = Field(default_factory=list)
    hashes: Annotated[list[str], Field(max_length=MAX_LOOKUP_KEYS)] = Field(default_factory=list)


class LookupResponse(_Message):
    records: list[StoredRecord]


class ErrorResponse(_Message):
    """Body of every 4xx/5xx answer: what went wrong and what to do."""

    error: str
    detail: str
    hint: str | None = None
