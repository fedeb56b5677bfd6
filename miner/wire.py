"""Pages on the wire: stored record JSON is spliced into the response as is, never re-parsed or re-serialised.

The bytes produced here parse as `schemas.protocol.RecordsResponse` / `LookupResponse`; the size functions let
the store stop a page before the encoded response would pass the caller's `max_bytes`.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from concurrent.futures import Executor

_ITEM_HEAD = b'{"seq":'
_ITEM_MID = b',"record":'
_ITEM_TAIL = b"}"
_MAX_INT_DIGITS = 20
# '{"records":[' + '],"next_seq":' + digits + ',"more":false}'
ENVELOPE_BYTES = len(b'{"records":[') + len(b'],"next_seq":') + _MAX_INT_DIGITS + len(b',"more":false}')


def item_bytes(seq: int, record_json: bytes) -> int:
    """Encoded size of one `{"seq":…,"record":…}` item plus its separating comma."""
    return len(_ITEM_HEAD) + len(str(seq)) + len(_ITEM_MID) + len(record_json) + len(_ITEM_TAIL) + 1


def _items(items: Sequence[tuple[int, bytes]]) -> bytes:
    return b",".join(_ITEM_HEAD + str(seq).encode() + _ITEM_MID + raw + _ITEM_TAIL for seq, raw in items)


def encode_page(items: Sequence[tuple[int, bytes]], next_seq: int, more: bool) -> bytes:
    """A RecordsResponse body."""
    tail = b'],"next_seq":' + str(next_seq).encode() + (b',"more":true}' if more else b',"more":false}')
    return b'{"records":[' + _items(items) + tail


def encode_lookup(items: Sequence[tuple[int, bytes]]) -> bytes:
    """A LookupResponse body."""
    return b'{"records":[' + _items(items) + b"]}"


def gzip_parallel(body: bytes, *, level: int, chunk_size: int, pool: Executor) -> bytes:
    """One gzip member made of independently deflated chunks (the pigz technique), compressed on `pool`.

    Each chunk but the last ends with a sync flush (byte-aligned, not final), so the concatenation is a single
    valid deflate stream; zlib releases the GIL while compressing, so chunks run on every core.
    """
    chunks = [body[i:i + chunk_size] for i in range(0, len(body), chunk_size)] or [b""]
    last = len(chunks) - 1
    parts = pool.map(lambda ic: _deflate(ic[1], level, final=ic[0] == last), enumerate(chunks))
    crc = zlib.crc32(body)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # gzip, deflate, no flags, no mtime, unknown OS
    return header + b"".join(parts) + struct.pack("<II", crc, len(body) & 0xFFFFFFFF)


def _deflate(chunk: bytes, level: int, *, final: bool) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(chunk) + compressor.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)
