"""Bounded decoding in the re-fetch: compression bombs from a loopback server stop at the cap in bounded memory."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import brotli
import pytest

from scrapers import fetch_one, reasons
from scrapers.decode import ACCEPT_ENCODING, BadEncoding, BodyTooLarge, BoundedDecoder
from tests.scrapers.recorded import html_page, make_domain, source
from tests.support.site import Page

try:  # Python 3.14+
    from compression import zstd  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the interpreter
    from backports import zstd

MB = 1 << 20
CAP = 1 * MB  # the re-fetch's max_bytes in these tests
PEAK_LIMIT = 12 * MB  # what one bounded re-fetch may allocate at most (cap + chunks + parser slack)


def _stream(compressor, finish, megabytes: int) -> bytes:
    zero = bytes(MB)
    return b"".join(compressor(zero) for _ in range(megabytes)) + finish()


@pytest.fixture(scope="module")
def bombs() -> dict[str, tuple[bytes, int]]:
    """encoding -> (body on the wire, bytes it decodes to): hundreds of MB from KB on the wire."""
    gz = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    br = brotli.Compressor(quality=5)
    zs = zstd.ZstdCompressor()
    return {"gzip": (_stream(gz.compress, gz.flush, 200), 200 * MB),
            "br": (_stream(br.process, br.finish, 500), 500 * MB),
            "zstd": (_stream(zs.compress, zs.flush, 300), 300 * MB)}


async def _refetch(site, path: str):
    domain = make_domain(source("web", seeds=[site.url("/")]))
    return await fetch_one(domain, domain.sources[0], site.url(path), max_bytes=CAP, allow_private=True)


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
async def test_a_compression_bomb_stops_at_the_cap_in_bounded_memory(site, bombs, encoding):
    body, decoded = bombs[encoding]
    assert len(body) < 300 * 1024 and decoded >= 200 * MB
    site.add("/bomb", Page(body, headers={"Content-Encoding": encoding}))
    tracemalloc.start()
    try:
        result = await _refetch(site, "/bomb")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (result.status, result.reason) == ("unavailable", reasons.TOO_LARGE)
    assert peak < PEAK_LIMIT, f"{encoding} bomb allocated {peak / MB:.1f} MB"


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd", "deflate"])
async def test_an_honest_compressed_page_is_decoded(site, encoding):
    page = html_page("A compressed article", first=2, count=4).payload()
    packed = {"gzip": gzip.compress, "br": brotli.compress, "deflate": zlib.compress,
              "zstd": lambda b: zstd.ZstdCompressor().compress(b, zstd.ZstdCompressor.FLUSH_FRAME)}[encoding](page)
    site.add("/a", Page(packed, headers={"Content-Encoding": encoding}))
    result = await _refetch(site, "/a")
    assert result.status == "content" and result.record.title == "A compressed article"


async def test_a_corrupt_compressed_page_is_unavailable_bad_encoding(site):
    site.add("/a", Page(b"\x1f\x8b\x08\x00garbage-not-gzip" * 10, headers={"Content-Encoding": "gzip"}))
    result = await _refetch(site, "/a")
    assert (result.status, result.reason) == ("unavailable", reasons.BAD_ENCODING)


async def test_an_encoding_nobody_asked_for_is_unavailable_bad_encoding(site):
    site.add("/a", Page(b"whatever", headers={"Content-Encoding": "compress"}))
    result = await _refetch(site, "/a")
    assert (result.status, result.reason) == ("unavailable", reasons.BAD_ENCODING)


async def test_the_refetch_asks_only_for_encodings_it_decodes_with_a_bound(site):
    site.add("/a", html_page("Plain"))
    await _refetch(site, "/a")
    assert set(ACCEPT_ENCODING.split(", ")) == {"gzip", "deflate", "br", "zstd"}


def test_the_decoder_refuses_output_past_the_cap_within_one_chunk():
    decoder = BoundedDecoder("gzip", 1000)
    with pytest.raises(BodyTooLarge):
        decoder.feed(gzip.compress(bytes(10 * MB)))
    assert len(decoder.buf) <= 1001


def test_a_truncated_compressed_body_is_refused():
    decoder = BoundedDecoder("br", MB)
    decoder.feed(brotli.compress(b"x" * 5000)[:-3])
    with pytest.raises(BadEncoding):
        decoder.finish()
