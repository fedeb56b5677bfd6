"""Which miners a step visits: rounds in which every miner uid is visited once before any repeats, each round in an
order seeded by a recent block hash (so no miner can predict or choose its slot)."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Collection
from dataclasses import dataclass, field


def seeded_order(uids: Collection[int], block_hash: str) -> list[int]:
    """A permutation of `uids` that every validator derives identically from the block hash."""
    rng = random.Random(int.from_bytes(hashlib.sha256(f"glean-round|{block_hash}".encode()).digest(), "big"))
    order = sorted(uids)
    rng.shuffle(order)
    return order


@dataclass
class Round:
    """The uids still to visit in this round and those already visited (persisted between steps)."""

    remaining: list[int] = field(default_factory=list)
    visited: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, list[int]]:
        return {"remaining": list(self.remaining), "visited": list(self.visited)}

    @classmethod
    def from_json(cls, data: dict | None) -> Round:
        data = data or {}
        return cls([int(u) for u in data.get("remaining", [])], [int(u) for u in data.get("visited", [])])

    def take(self, miners: Collection[int], count: int, block_hash: str) -> list[int]:
        """The next `count` uids to visit; uids that left are dropped, new uids join the current round."""
        present = set(miners)
        self.remaining = [u for u in self.remaining if u in present]
        self.visited = [u for u in self.visited if u in present]
        known = set(self.remaining) | set(self.visited)
        self.remaining += seeded_order(present - known, block_hash)
        chosen: list[int] = []
        while len(chosen) < min(count, len(present)):
            if not self.remaining:
                # A new round; the uids this step already took go last, so nobody repeats before everyone had a turn.
                fresh = seeded_order(present, block_hash)
                self.remaining = [u for u in fresh if u not in chosen] + [u for u in fresh if u in chosen]
                self.visited = []
            uid = self.remaining.pop(0)
            chosen.append(uid)
            self.visited.append(uid)
        return chosen
