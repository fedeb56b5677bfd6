"""Weights go through the Chain seam with glean's versions as their version_key."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.version import PROTOCOL_VERSION, SCORING_VERSION, WEIGHTS_VERSION_KEY
from validator.metrics import ValidatorMetrics
from validator.store import ValidatorStore
from validator.weights import WeightSetter


class RecordingChain:
    """A chain that allows every set and records what it was given."""

    netuid = 1

    def __init__(self) -> None:
        self.sets: list[tuple[dict[int, float], int]] = []

    async def weights_rate_limit(self) -> int:
        return 0

    async def blocks_since_last_update(self, uid: int) -> int:
        return 100

    async def set_weights(self, wallet, weights, *, version_key: int = 0) -> None:
        self.sets.append((dict(weights), version_key))


@pytest.fixture
def store(tmp_path: Path):
    s = ValidatorStore.open(f"sqlite:///{tmp_path / 'v.sqlite'}")
    yield s
    s.close()


def test_the_version_key_names_both_the_protocol_and_the_scoring_version():
    assert WEIGHTS_VERSION_KEY == PROTOCOL_VERSION * 1000 + SCORING_VERSION and SCORING_VERSION < 1000


async def test_weights_are_set_with_the_version_key(store):
    chain = RecordingChain()
    setter = WeightSetter(chain, object(), store, ValidatorMetrics())
    assert await setter.maybe_set(100, 10, 0, {1: 0.25, 2: 0.75})
    [(weights, version_key)] = chain.sets
    assert version_key == WEIGHTS_VERSION_KEY and weights == pytest.approx({1: 0.25, 2: 0.75})
