"""A sorted uint32 -> uint32 multimap: the novelty index's lookup tables without a Python object per entry."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from scoring import constants as k


class Multimap:
    """Sorted parallel arrays (4 + 4 bytes an entry) plus a small dict of recent additions, merged in batches. Keys
    are 32-bit: a key shared by chance only adds a candidate, which the caller verifies."""

    def __init__(self, keys: np.ndarray | None = None, vals: np.ndarray | None = None) -> None:
        self._keys = np.empty(0, np.uint32) if keys is None else keys
        self._vals = np.empty(0, np.uint32) if vals is None else vals
        self._pending: dict[int, list[int]] = {}
        self._pending_n = 0

    def __len__(self) -> int:
        return len(self._keys) + self._pending_n

    @classmethod
    def sorted_from(cls, parts: list[tuple[np.ndarray, np.ndarray]]) -> Multimap:
        """A map of (keys, values) array pairs, sorted once."""
        if not parts:
            return cls()
        keys = np.concatenate([key for key, _ in parts]).astype(np.uint32, copy=False)
        vals = np.concatenate([val for _, val in parts]).astype(np.uint32, copy=False)
        order = np.argsort(keys, kind="stable")
        return cls(keys[order], vals[order])

    def add(self, keys: Iterable[int], val: int) -> None:
        """File `val` under each key (merged into the arrays every LSH_MERGE_EVERY × BANDS additions)."""
        for key in keys:
            self._pending.setdefault(key, []).append(val)
            self._pending_n += 1
        if self._pending_n >= k.LSH_MERGE_EVERY * k.BANDS:
            self.merge()

    def extend(self, keys: np.ndarray, vals: np.ndarray) -> None:
        """Bulk insert (rebuild): merged at once."""
        self.merge()
        self._merge_sorted(keys.astype(np.uint32, copy=False), vals.astype(np.uint32, copy=False))

    def merge(self) -> None:
        """Fold the recent additions into the sorted arrays."""
        if not self._pending:
            return
        keys = np.fromiter((key for key, vals in self._pending.items() for _ in vals), np.uint32, self._pending_n)
        vals = np.fromiter((v for vs in self._pending.values() for v in vs), np.uint32, self._pending_n)
        self._pending.clear()
        self._pending_n = 0
        self._merge_sorted(keys, vals)

    def _merge_sorted(self, keys: np.ndarray, vals: np.ndarray) -> None:
        order = np.argsort(keys, kind="stable")
        keys, vals = keys[order], vals[order]
        if not len(self._keys):
            self._keys, self._vals = keys, vals
            return
        at = np.searchsorted(self._keys, keys, side="right")
        self._keys = np.insert(self._keys, at, keys)
        self._vals = np.insert(self._vals, at, vals)

    def find(self, keys: np.ndarray) -> list[list[int]]:
        """The values of each key (in key order of `keys`)."""
        lo = np.searchsorted(self._keys, keys, side="left")
        hi = np.searchsorted(self._keys, keys, side="right")
        found: list[list[int]] = [[] for _ in range(len(keys))]
        for i in np.flatnonzero(hi > lo):
            found[i] = self._vals[lo[i]:hi[i]].tolist()
        if self._pending:
            for i, key in enumerate(keys.tolist()):
                extra = self._pending.get(key)
                if extra:
                    found[i] = found[i] + extra
        return found

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The sorted (keys, values) arrays, recent additions merged in."""
        self.merge()
        return self._keys, self._vals

    def nbytes(self) -> int:
        """Bytes held in the sorted arrays."""
        return self._keys.nbytes + self._vals.nbytes
