"""Reads for callers: pages of records after a seq cursor within a byte budget, and lookups by uri or hash."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, select

from miner import wire
from miner.constants import HASH_KEY_BYTES, PAGE_FETCH_CHUNK, SQL_CHUNK
from miner.store.codec import BodyCodec
from miner.store.tables import records, uri_key
from schemas.errors import ProtocolError, RecordError
from schemas.urls import canonical_url

log = logging.getLogger(__name__)


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


def page(conn: Connection, codec: BodyCodec, after_seq: int, *, limit: int, max_bytes: int,
         domain: str | None = None) -> PageRows:
    """Records with seq > after_seq (optionally of one domain), at most `limit`, encoded within `max_bytes`."""
    budget = max_bytes - wire.ENVELOPE_BYTES
    items: list[tuple[int, bytes]] = []
    used, cursor, more = 0, after_seq, False
    while len(items) < limit and not more:
        want = min(PAGE_FETCH_CHUNK, limit - len(items))
        chunk = conn.execute(_after(cursor, domain).limit(want)).all()
        raws = codec.decode_many([body for _, body in chunk])
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
        more = conn.execute(_after(items[-1][0], domain).limit(1)).first() is not None
    return PageRows(items, items[-1][0] if items else after_seq, more)


def _after(cursor: int, domain: str | None):
    query = select(records.c.seq, records.c.body).where(records.c.seq > cursor)
    if domain is not None:
        query = query.where(records.c.domain == domain)
    return query.order_by(records.c.seq)


def lookup_keys(uris: Iterable[str], hashes: Iterable[str]) -> tuple[set[str], list[bytes]]:
    """The canonical uris and the sorted hash digests a lookup asks for (a hash that is not hex is refused)."""
    wanted_uris = {_canonical_or_raw(u) for u in uris}
    try:
        digests = sorted({bytes.fromhex(h) for h in hashes})
    except ValueError:
        raise ProtocolError("a content hash is not hex", hint="send sha256 hex digests (64 characters)") from None
    return wanted_uris, digests


def find(conn: Connection, codec: BodyCodec, wanted_uris: set[str], digests: list[bytes]) -> dict[int, bytes]:
    """seq -> record JSON of every stored version of the uris and every record with one of the hashes."""
    found: dict[int, bytes] = {}
    for start in range(0, len(digests), SQL_CHUNK):
        chunk = digests[start:start + SQL_CHUNK]
        hash_keys = sorted({d[:HASH_KEY_BYTES] for d in chunk})
        # The indexed short key finds the candidates; the full hash in the row makes the answer exact.
        for seq, body in conn.execute(select(records.c.seq, records.c.body)
                                      .where(records.c.hash_key.in_(hash_keys), records.c.content_hash.in_(chunk))):
            found[seq] = codec.decode(body)
    keys = sorted({uri_key(u) for u in wanted_uris})
    for start in range(0, len(keys), SQL_CHUNK):
        chunk = keys[start:start + SQL_CHUNK]
        for seq, body in conn.execute(select(records.c.seq, records.c.body).where(records.c.uri_key.in_(chunk))):
            raw = codec.decode(body)
            if json.loads(raw)["uri"] in wanted_uris:  # the short key may collide; the uri decides
                found[seq] = raw
    return found


def within(found: dict[int, bytes], max_bytes: int | None) -> list[tuple[int, bytes]]:
    """The found records by seq, as many as fit an answer of `max_bytes` (all when None)."""
    items, used = [], wire.ENVELOPE_BYTES
    for seq in sorted(found):
        used += wire.item_bytes(seq, found[seq])
        if max_bytes is not None and used > max_bytes:
            log.info("lookup answer truncated records=%d of=%d max_bytes=%d", len(items), len(found), max_bytes)
            break
        items.append((seq, found[seq]))
    return items


def _canonical_or_raw(uri: str) -> str:
    try:
        return canonical_url(uri)
    except RecordError:
        return uri
