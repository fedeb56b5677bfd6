"""Who is served (a LocalChain metagraph) and how fast (per-caller token buckets)."""

from __future__ import annotations

import asyncio

from chain import LocalChain
from miner.gate import ValidatorGate
from miner.ratelimit import RateLimiter
from tests.miner.support import registered


async def test_callers_are_refused_until_the_metagraph_is_loaded(tmp_path):
    chain = LocalChain(tmp_path / "chain.sqlite")
    try:
        validator = await registered(chain, "validator", stake=5.0)
        gate = ValidatorGate(chain, min_stake=1.0)
        assert gate.refuse(validator.hotkey.ss58_address).status == 503
        await gate.refresh()
        assert gate.refuse(validator.hotkey.ss58_address) is None
    finally:
        await chain.close()


async def test_background_refresh_sees_a_new_validator_and_stops_on_request(tmp_path):
    chain = LocalChain(tmp_path / "chain.sqlite")
    stop = asyncio.Event()
    try:
        gate = ValidatorGate(chain, min_stake=0.0, refresh_seconds=0.05)
        task = asyncio.create_task(gate.run(stop))
        late = await registered(chain, "late-validator", stake=3.0)
        for _ in range(600):  # bounded (30 s): a refresh every 50 ms, however busy the machine
            if gate.state is not None and gate.is_validator(late.hotkey.ss58_address):
                break
            await asyncio.sleep(0.05)
        assert gate.is_validator(late.hotkey.ss58_address)
        stop.set()
        await asyncio.wait_for(task, timeout=5)
    finally:
        await chain.close()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_allowed_then_the_rate_applies():
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=3, clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == 1.0  # one token per second
    clock.now = 1.0
    assert limiter.take("a") == 0.0


def test_callers_have_separate_buckets_and_memory_is_bounded():
    limiter = RateLimiter(per_minute=60, burst=1, clock=Clock(), max_callers=2)
    assert limiter.take("a") == 0.0 and limiter.take("b") == 0.0
    assert limiter.take("a") > 0
    limiter.take("c")  # "b", least recently seen, is forgotten
    assert limiter.take("b") == 0.0
