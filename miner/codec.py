"""Record bodies on disk: the record's JSON, zstd-compressed, optionally with a shared dictionary.

A body starts with one format byte so old rows stay readable whatever the store writes next:
0 = raw JSON, 1 = zstd frame, 2 = 2-byte dictionary id (big-endian) then a zstd frame made with that dictionary.
"""

from __future__ import annotations

import logging
import threading

try:  # Python 3.14+
    from compression import zstd  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the interpreter
    from backports import zstd

from miner.constants import DICT_SIZE, MIN_COMPRESS_BYTES, ZSTD_LEVEL
from schemas.errors import StorageError

log = logging.getLogger(__name__)

RAW, ZSTD, ZSTD_DICT = 0, 1, 2
MAX_DICT_ID = 0xFFFF


class BodyCodec:
    """Encodes in the store's writer thread; decodes from any thread."""

    def __init__(self) -> None:
        self._dicts: dict[int, zstd.ZstdDict] = {}
        self._current: int | None = None
        self._plain = zstd.ZstdCompressor(level=ZSTD_LEVEL)
        self._with_dict: zstd.ZstdCompressor | None = None
        self._lock = threading.Lock()  # guards the compressors if a caller encodes off the writer thread

    @property
    def current_dictionary(self) -> int | None:
        return self._current

    def add_dictionary(self, dict_id: int, data: bytes, *, current: bool = True) -> None:
        """Make a stored dictionary available for decoding (and, if `current`, for encoding)."""
        if not 0 < dict_id <= MAX_DICT_ID:
            raise StorageError(f"dictionary id {dict_id} out of range", hint="the store is damaged; restore a backup")
        zdict = zstd.ZstdDict(data)
        self._dicts[dict_id] = zdict
        if current:
            with self._lock:
                self._current = dict_id
                self._with_dict = zstd.ZstdCompressor(level=ZSTD_LEVEL, zstd_dict=zdict)

    def encode(self, raw: bytes) -> bytes:
        if len(raw) < MIN_COMPRESS_BYTES:
            return bytes((RAW,)) + raw
        with self._lock:
            if self._with_dict is not None and self._current is not None:
                frame = self._with_dict.compress(raw, zstd.ZstdCompressor.FLUSH_FRAME)
                return bytes((ZSTD_DICT,)) + self._current.to_bytes(2, "big") + frame
            return bytes((ZSTD,)) + self._plain.compress(raw, zstd.ZstdCompressor.FLUSH_FRAME)

    def decode(self, body: bytes) -> bytes:
        kind = body[0]
        if kind == RAW:
            return bytes(body[1:])
        if kind == ZSTD:
            return zstd.decompress(body[1:])
        if kind == ZSTD_DICT:
            dict_id = int.from_bytes(body[1:3], "big")
            zdict = self._dicts.get(dict_id)
            if zdict is None:
                raise StorageError(f"record body needs dictionary {dict_id}, which the store does not have",
                                   hint="the store is damaged; restore a backup or start a fresh data dir")
            return zstd.decompress(body[3:], zstd_dict=zdict)
        raise StorageError(f"unknown record body format {kind}", hint="this store was written by a newer glean")


def train_dictionary(samples: list[bytes]) -> bytes | None:
    """A zstd dictionary from sample bodies, or None when the samples are too few or too alike to train one."""
    try:
        return zstd.train_dict(samples, DICT_SIZE).dict_content
    except zstd.ZstdError as exc:
        log.info("zstd dictionary not trained samples=%d reason=%s", len(samples), exc)
        return None
