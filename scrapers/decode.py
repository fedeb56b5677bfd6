"""Bounded decoding of HTTP bodies from a side we do not trust (a miner, a page a miner named).

httpx's `aiter_bytes()` decodes gzip/brotli/deflate/zstd with no output limit: a few KB on the wire can become
hundreds of MB in one chunk before any size cap looks at it. `read_bounded` reads `aiter_raw()` instead and decodes
each chunk with an output limit of what is left of the cap, so neither the wire bytes nor the decoded bytes ever
pass `cap` (+ one chunk of wire bytes). Used by the validator's pulls from miners and by every re-fetch.

Written by hand (no library bounds a streaming decoder's output): zlib, brotli and zstd each take an output limit.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator

import httpx

from scrapers import reasons

try:  # Python 3.14+
    from compression import zstd  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the interpreter
    from backports import zstd

try:  # brotli comes with Scrapy; without it "br" is neither asked for nor accepted
    import brotli
except ImportError:  # pragma: no cover - depends on the environment
    brotli = None

# What a corrupt compressed body raises in each decoder.
_CORRUPT: tuple[type[Exception], ...] = (zlib.error, zstd.ZstdError) + ((brotli.error,) if brotli is not None else ())

# Bytes read from the socket per step: the unit by which the wire may overshoot the cap.
STREAM_CHUNK = 64 * 1024
# What we ask servers for: exactly the encodings this module decodes with a bound.
ACCEPT_ENCODING = ", ".join(["gzip", "deflate", *(["br"] if brotli is not None else []), "zstd"])


class BodyError(Exception):
    """A body we refuse to read; `reason` is the short label it is counted under."""

    reason = reasons.BAD_ENCODING


class BodyTooLarge(BodyError):
    reason = reasons.TOO_LARGE


class BadEncoding(BodyError):
    reason = reasons.BAD_ENCODING


class _Identity:
    eof = True

    def step(self, chunk: bytes, limit: int) -> tuple[bytes, bool]:
        return chunk, False


class _Zlib:
    """gzip or deflate; deflate falls back to a raw stream (some servers send one) if the zlib header is wrong."""

    def __init__(self, wbits: int, raw_fallback: bool = False) -> None:
        self._d = zlib.decompressobj(wbits)
        self._fallback = raw_fallback
        self._started = False

    @property
    def eof(self) -> bool:
        return self._d.eof

    def step(self, chunk: bytes, limit: int) -> tuple[bytes, bool]:
        try:
            out = self._d.decompress(chunk, limit)
        except zlib.error:
            if not self._fallback or self._started:
                raise
            self._d, self._fallback = zlib.decompressobj(-zlib.MAX_WBITS), False
            out = self._d.decompress(chunk, limit)
        self._started = True
        return out, bool(self._d.unconsumed_tail)  # input left over means the output limit was hit


class _Brotli:
    def __init__(self) -> None:
        self._d = brotli.Decompressor()

    @property
    def eof(self) -> bool:
        return self._d.is_finished()

    def step(self, chunk: bytes, limit: int) -> tuple[bytes, bool]:
        out = self._d.process(chunk, output_buffer_limit=limit)
        return out, not self._d.can_accept_more_data()  # output is still pending beyond the limit


class _Zstd:
    def __init__(self) -> None:
        self._d = zstd.ZstdDecompressor()

    @property
    def eof(self) -> bool:
        return self._d.eof

    def step(self, chunk: bytes, limit: int) -> tuple[bytes, bool]:
        if self._d.eof:
            return b"", False  # data after the frame is ignored (as for gzip members)
        out = self._d.decompress(chunk, limit)
        return out, not self._d.eof and not self._d.needs_input


def _codec(encoding: str):
    name = encoding.strip().lower()
    if name in ("", "identity"):
        return _Identity()
    if name in ("gzip", "x-gzip"):
        return _Zlib(16 + zlib.MAX_WBITS)
    if name == "deflate":
        return _Zlib(zlib.MAX_WBITS, raw_fallback=True)
    if name == "br" and brotli is not None:
        return _Brotli()
    if name == "zstd":
        return _Zstd()
    raise BadEncoding(f"unsupported content-encoding {encoding!r}")


class BoundedDecoder:
    """Decodes a body as it streams and refuses to grow past `cap` decoded bytes (compression bombs included)."""

    def __init__(self, encoding: str, cap: int) -> None:
        self.cap = cap
        self.buf = bytearray()
        self._codec = _codec(encoding)

    def feed(self, chunk: bytes) -> None:
        try:
            out, more_pending = self._codec.step(chunk, self.cap - len(self.buf) + 1)
        except _CORRUPT as exc:
            raise BadEncoding(f"corrupt compressed body: {exc}") from None
        self.buf += out
        if more_pending or len(self.buf) > self.cap:
            self.too_large()

    def finish(self) -> bytes:
        if not self._codec.eof:
            raise BadEncoding("truncated compressed body")
        return bytes(self.buf)

    def too_large(self) -> None:
        raise BodyTooLarge(f"answer larger than {self.cap} bytes")


async def read_bounded(response: httpx.Response, cap: int, *, chunk: int = STREAM_CHUNK) -> bytes:
    """The decoded body, streamed from `aiter_raw`; BodyTooLarge as soon as wire or decoded bytes pass `cap`,
    BadEncoding for an unknown, corrupt or truncated encoding."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise BodyTooLarge(f"answer declares {declared} bytes, more than {cap}")
    encodings = [e for e in response.headers.get("content-encoding", "").split(",") if e.strip()]
    if len(encodings) > 1:  # stacked encodings: nobody we talk to needs them, and each layer is another bomb
        raise BadEncoding(f"stacked content-encodings {encodings!r}")
    decoder = BoundedDecoder(encodings[0] if encodings else "", cap)
    await _feed(decoder, response.aiter_raw(chunk), cap)
    return decoder.finish()


async def _feed(decoder: BoundedDecoder, chunks: AsyncIterator[bytes], cap: int) -> None:
    wire = 0
    async for piece in chunks:
        wire += len(piece)
        if wire > cap:
            decoder.too_large()
        decoder.feed(piece)
