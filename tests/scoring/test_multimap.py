"""The bucketed multimap behind the novelty index finds exactly what a dict of lists would."""

from __future__ import annotations

import numpy as np
import pytest

from scoring import constants as k
from scoring.multimap import Multimap


def _entries(seed: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    spread = rng.integers(0, 2**32, 30_000, dtype=np.uint32)
    crowded = (np.uint32(0xABCD) << np.uint32(16)) | rng.integers(0, 50, 5_000, dtype=np.uint32)  # one bucket
    edges = np.array([0, 1, 0xFFFF, 0x10000, 2**32 - 1, 2**32 - 1], np.uint32)
    keys = np.concatenate([spread, crowded, edges])
    return keys, np.arange(len(keys), dtype=np.uint32)


def _expected(keys: np.ndarray, vals: np.ndarray) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for key, val in zip(keys.tolist(), vals.tolist(), strict=True):
        found.setdefault(key, []).append(val)
    return found


def _queries(keys: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(9)
    return np.concatenate([keys[::7], rng.integers(0, 2**32, 2_000, dtype=np.uint32), keys[-6:]])


def test_a_sorted_map_finds_every_value_of_a_key() -> None:
    keys, vals = _entries()
    expected = _expected(keys, vals)
    table = Multimap.sorted_from([(keys[:20_000], vals[:20_000]), (keys[20_000:], vals[20_000:])])
    queries = _queries(keys)
    assert table.find(queries) == [expected.get(q, []) for q in queries.tolist()]
    assert len(table) == len(keys)


@pytest.mark.parametrize("merge_every", [1, 3, 10_000])
def test_added_entries_are_found_before_and_after_merging(merge_every: int, monkeypatch) -> None:
    monkeypatch.setattr(k, "LSH_MERGE_EVERY", merge_every)
    keys, vals = _entries(seed=6)
    keys, vals = keys[-3_000:], vals[-3_000:]
    table = Multimap()
    for key, val in zip(keys.tolist(), vals.tolist(), strict=True):
        table.add([key], val)
    queries = _queries(keys)
    expected = _expected(keys, vals)
    assert table.find(queries) == [expected.get(q, []) for q in queries.tolist()]
    again = Multimap(*table.arrays())
    assert again.find(queries) == [expected.get(q, []) for q in queries.tolist()]


def test_an_empty_map_finds_nothing() -> None:
    assert Multimap().find(np.array([0, 5, 2**32 - 1], np.uint32)) == [[], [], []]
