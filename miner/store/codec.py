"""Record bodies on disk: the record's JSON, zstd-compressed, optionally with a shared dictionary.

A body starts with one format byte so old rows stay readable whatever the store writes next:
0 = raw JSON, 1 = zstd frame, 2 = 2-byte dictionary id (big-endian) then a zstd frame made with that dictionary.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

try:  # Python 3.14+
    from compression import zstd  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the interpreter
    from backports import zstd

from miner.constants import DICT_SIZE, MIN_COMPRESS_BYTES, PARALLEL_CODEC_MIN, ZSTD_LEVEL
from schemas.errors import StorageError

log = logging.getLogger(__name__)

RAW, ZSTD, ZSTD_DICT = 0, 1, 2
_RAW_HEADER = bytes((RAW,))
MAX_DICT_ID = 0xFFFF


class BodyCodec:
    """Encodes and decodes record bodies from any thread (compressors are per thread; zstd is not shared)."""

    def __init__(self) -> None:
        self._dicts: dict[int, zstd.ZstdDict] = {}
        self._current: int | None = None
        self._local = threading.local()
        self._workers = max(1, min(2, os.cpu_count() or 1))
        self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="miner-codec")

    @property
    def current_dictionary(self) -> int | None:
        return self._current

    def add_dictionary(self, dict_id: int, data: bytes, *, current: bool = True) -> None:
        """Make a stored dictionary available for decoding (and, if `current`, for encoding from now on)."""
        if not 0 < dict_id <= MAX_DICT_ID:
            raise StorageError(f"dictionary id {dict_id} out of range", hint="the store is damaged; restore a backup")
        self._dicts[dict_id] = zstd.ZstdDict(data)
        if current:
            self._current = dict_id

    def _compressor(self) -> tuple[bytes, zstd.ZstdCompressor]:
        """This thread's compressor for the current dictionary, and the header its frames get."""
        dict_id = self._current
        cached = getattr(self._local, "compressor", None)
        if cached is None or cached[0] != dict_id:
            zdict = self._dicts[dict_id] if dict_id is not None else None
            header = bytes((ZSTD,)) if dict_id is None else bytes((ZSTD_DICT,)) + dict_id.to_bytes(2, "big")
            cached = (dict_id, header, zstd.ZstdCompressor(level=ZSTD_LEVEL, zstd_dict=zdict))
            self._local.compressor = cached
        return cached[1], cached[2]

    def encode(self, raw: bytes) -> bytes:
        return self._encode_all([raw])[0]

    def _encode_all(self, raws: list[bytes]) -> list[bytes]:
        """`encode` over a list with one compressor for all (the codec threads need the GIL between two records:
        the less Python there, the less they hold up the writer)."""
        header, compressor = self._compressor()
        compress, end = compressor.compress, zstd.ZstdCompressor.FLUSH_FRAME
        return [header + compress(raw, end) if len(raw) >= MIN_COMPRESS_BYTES else _RAW_HEADER + raw for raw in raws]

    def encode_chunks(self, raws: list[bytes], size: int) -> Iterator[list[bytes]]:
        """`encode` over a batch, `size` bodies at a time, all chunks submitted to the pool at once: the caller
        writes the first chunk while the next ones compress (zstd and SQLite both release the GIL)."""
        parts = [raws[i:i + size] for i in range(0, len(raws), size)]
        if len(raws) < PARALLEL_CODEC_MIN or self._workers == 1:
            return (self._encode_all(part) for part in parts)
        futures = [self._pool.submit(self._encode_all, part) for part in parts]
        return (future.result() for future in futures)

    def decode_many(self, bodies: list[bytes]) -> list[bytes]:
        """`decode` over a batch, split across cores like `encode_many`."""
        if len(bodies) < PARALLEL_CODEC_MIN or self._workers == 1:
            return [self.decode(body) for body in bodies]
        step = -(-len(bodies) // self._workers)
        parts = self._pool.map(lambda part: [self.decode(body) for body in part],
                               [bodies[i:i + step] for i in range(0, len(bodies), step)])
        return [raw for part in parts for raw in part]

    def decode(self, body: bytes) -> bytes:
        kind = body[0]
        if kind == RAW:
            return bytes(body[1:])
        if kind == ZSTD:
            return _one_frame(zstd.ZstdDecompressor(), body[1:])
        if kind == ZSTD_DICT:
            dict_id = int.from_bytes(body[1:3], "big")
            zdict = self._dicts.get(dict_id)
            if zdict is None:
                raise StorageError(f"record body needs dictionary {dict_id}, which the store does not have",
                                   hint="the store is damaged; restore a backup or start a fresh data dir")
            # Digested: the dictionary's decoding tables are built once, not for every record.
            return _one_frame(zstd.ZstdDecompressor(zstd_dict=zdict.as_digested_dict), body[3:])
        raise StorageError(f"unknown record body format {kind}", hint="this store was written by a newer glean")

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def _one_frame(decompressor: zstd.ZstdDecompressor, frame: bytes) -> bytes:
    """A body holds exactly one frame: decode it without `zstd.decompress`'s multi-frame loop."""
    raw = decompressor.decompress(frame)
    if not decompressor.eof or decompressor.unused_data:
        raise StorageError("a record body is truncated or has trailing bytes",
                           hint="the store is damaged; restore a backup")
    return raw


def train_dictionary(samples: list[bytes]) -> bytes | None:
    """A zstd dictionary from sample bodies, or None when the samples are too few or too alike to train one."""
    try:
        return zstd.train_dict(samples, DICT_SIZE).dict_content
    except zstd.ZstdError as exc:
        log.info("zstd dictionary not trained samples=%d reason=%s", len(samples), exc)
        return None
