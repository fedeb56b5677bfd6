"""A sorted uint32 -> uint32 multimap: the novelty index's lookup tables without a Python object per entry."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from scoring import constants as k

_BUCKETS = 1 << k.MULTIMAP_BUCKET_BITS
_LOW_MASK = np.uint32((1 << (32 - k.MULTIMAP_BUCKET_BITS)) - 1)


class Multimap:
    """Entries sorted by key in buckets of its high MULTIMAP_BUCKET_BITS bits: per entry only the key's low 16 bits
    and the value are stored (2 + 4 bytes), plus one offset per bucket; a small dict of recent additions is merged
    in batches. Keys are 32-bit: a key shared by chance only adds a candidate, which the caller verifies."""

    def __init__(self, offsets: np.ndarray | None = None, low: np.ndarray | None = None,
                 vals: np.ndarray | None = None) -> None:
        self._offsets = np.zeros(_BUCKETS + 1, np.int64) if offsets is None else offsets
        self._low = np.empty(0, np.uint16) if low is None else low
        self._vals = np.empty(0, np.uint32) if vals is None else vals
        self._depth = _depth(self._offsets)
        self._pending: dict[int, list[int]] = {}
        self._pending_n = 0

    def __len__(self) -> int:
        return len(self._vals) + self._pending_n

    @classmethod
    def sorted_from(cls, parts: list[tuple[np.ndarray, np.ndarray]]) -> Multimap:
        """A map of (keys, values) array pairs, sorted once."""
        if not parts:
            return cls()
        keys = np.concatenate([key for key, _ in parts]).astype(np.uint32, copy=False)
        vals = np.concatenate([val for _, val in parts]).astype(np.uint32, copy=False)
        order = np.argsort(keys, kind="stable")
        return cls(*_split(keys[order]), vals[order])

    def add(self, keys: Iterable[int], val: int) -> None:
        """File `val` under each key (merged into the arrays every LSH_MERGE_EVERY × BANDS additions)."""
        for key in keys:
            self._pending.setdefault(key, []).append(val)
            self._pending_n += 1
        if self._pending_n >= k.LSH_MERGE_EVERY * k.BANDS:
            self.merge()

    def merge(self) -> None:
        """Fold the recent additions into the sorted arrays."""
        if not self._pending:
            return
        keys = np.fromiter((key for key, vals in self._pending.items() for _ in vals), np.uint32, self._pending_n)
        vals = np.fromiter((v for vs in self._pending.values() for v in vs), np.uint32, self._pending_n)
        self._pending.clear()
        self._pending_n = 0
        order = np.argsort(keys, kind="stable")
        keys, vals = keys[order], vals[order]
        full = self._keys()
        at = np.searchsorted(full, keys, side="right")
        self._offsets, self._low = _split(np.insert(full, at, keys))
        self._vals = np.insert(self._vals, at, vals)
        self._depth = _depth(self._offsets)

    def _keys(self) -> np.ndarray:
        """The full sorted uint32 keys, put back together from the buckets."""
        high = np.repeat(np.arange(_BUCKETS, dtype=np.uint32) << np.uint32(32 - k.MULTIMAP_BUCKET_BITS),
                         np.diff(self._offsets))
        return high | self._low

    def find(self, keys: np.ndarray) -> list[list[int]]:
        """The values of each key (in key order of `keys`)."""
        keys = keys.astype(np.uint32, copy=False)
        bucket = keys >> np.uint32(32 - k.MULTIMAP_BUCKET_BITS)
        start, end = self._offsets[bucket], self._offsets[bucket + 1]
        low = (keys & _LOW_MASK).astype(np.uint16)
        lo = self._search(start, end, low, right=False)
        hi = self._search(lo, end, low, right=True)
        found: list[list[int]] = [[] for _ in range(len(keys))]
        for i in np.flatnonzero(hi > lo):
            found[i] = self._vals[lo[i]:hi[i]].tolist()
        if self._pending:
            for i, key in enumerate(keys.tolist()):
                extra = self._pending.get(key)
                if extra:
                    found[i] = found[i] + extra
        return found

    def _search(self, lo: np.ndarray, hi: np.ndarray, low: np.ndarray, *, right: bool) -> np.ndarray:
        """Binary search of every query at once, each within its own bucket [lo, hi): the first position whose low
        bits are >= (or > when `right`) the query's."""
        lo, hi = lo.copy(), hi.copy()
        for _ in range(self._depth):
            mid = (lo + hi) // 2
            probe = self._low[np.minimum(mid, len(self._low) - 1)] if len(self._low) else low
            go_right = (probe <= low) if right else (probe < low)
            go_right &= mid < hi
            lo = np.where(go_right, mid + 1, lo)
            hi = np.where(go_right, hi, mid)
        return lo

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(bucket offsets, low key bits, values), recent additions merged in: what `Multimap(...)` takes back."""
        self.merge()
        return self._offsets, self._low, self._vals

    def nbytes(self) -> int:
        """Bytes held in the arrays."""
        return self._offsets.nbytes + self._low.nbytes + self._vals.nbytes


def _split(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bucket offsets, low bits) of sorted uint32 keys."""
    counts = np.bincount(keys >> np.uint32(32 - k.MULTIMAP_BUCKET_BITS), minlength=_BUCKETS)
    offsets = np.zeros(_BUCKETS + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets, (keys & _LOW_MASK).astype(np.uint16)


def _depth(offsets: np.ndarray) -> int:
    """Halvings that narrow the largest bucket to one position."""
    return int(np.diff(offsets).max(initial=0)).bit_length() + 1
