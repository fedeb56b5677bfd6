"""Read-only checks against a real endpoint: run with GLEAN_LIVE_ENDPOINT=ws://… (and GLEAN_LIVE_NETUID)."""

from __future__ import annotations

import os

import pytest

from chain import BittensorChain

ENDPOINT = os.environ.get("GLEAN_LIVE_ENDPOINT")
NETUID = int(os.environ.get("GLEAN_LIVE_NETUID", "1"))

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(not ENDPOINT, reason="set GLEAN_LIVE_ENDPOINT to a real chain endpoint")]


@pytest.fixture
async def live():
    chain = BittensorChain.for_network(ENDPOINT, NETUID)
    yield chain
    await chain.close()


async def test_live_state_decodes_the_metagraph(live: BittensorChain) -> None:
    state = await live.state()
    assert state.netuid == NETUID and state.tempo > 0
    assert [n.uid for n in state.neurons] == list(range(len(state.neurons)))
    assert state.block_hash == await live.block_hash(state.block)


async def test_live_rate_limit_and_block_are_readable(live: BittensorChain) -> None:
    assert await live.weights_rate_limit() >= 0
    assert await live.block() > 0
