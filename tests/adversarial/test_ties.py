"""Ties, copiers and sybils, step by step: real miners (miner.app on loopback, tests/validator/harness.py) holding
exactly the records each case needs, and the real validator stepping over them.

A copier that fetched later, or that re-serves an honest miner's records, must not earn; a sybil group sharing one
stream must not earn more than one miner would with it. Each case drives the step where the copy first ties with the
original after the validator has seen the copier behind the original before (see docs/adversarial.md: with no
history at all, a tie splits evenly, as the design says)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from tests.validator.harness import local_net, real_miner
from validator.service import Validator

BACKLOG = 12  # records the honest miner delivered alone before the copiers showed up behind it
NEW = 6  # records then delivered by the original and its copies in the same step
# Steps a tie may wait for evidence: the web kind's re-fetch budget is shared by every miner of a step, so a batch
# tied with three copies can need a few steps of checks before it reaches the evidence floor (pay for evidence).
MAX_WAIT_STEPS = 4


def _validator(net) -> Validator:
    return Validator(net.config(step_seconds=20.0, miners_per_step=16, concurrency=8), chain=net.chain,
                     wallet=net.validator, catalog=net.catalog)


async def _copied_stream(tmp_path, web, copiers: int) -> dict:
    """The honest miner delivers a backlog alone; the copiers (empty when first visited) then serve copies of it
    (late duplicates), then new records show up at the original and every copy before the next step (a tie)."""
    async with local_net(tmp_path, web) as net:
        records = await net.records(BACKLOG + NEW)
        async with contextlib.AsyncExitStack() as stack:
            honest = await stack.enter_async_context(real_miner(net, "honest", records[:BACKLOG]))
            copies = [await stack.enter_async_context(real_miner(net, f"copier{i}", [])) for i in range(copiers)]
            v = _validator(net)
            try:
                await v.step()  # the backlog, from the honest miner alone; the copiers are visited empty
                for c in copies:
                    c.miner.store.store.add(records[:BACKLOG])
                await v.step()  # the copies of the backlog: duplicates, and evidence the copiers are behind
                for m in (honest, *copies):
                    m.miner.store.store.add(records[BACKLOG:])
                await v.step()  # the new records: a tie between the original and every copy
                uids = {m.hotkey: uid for uid, m in v.store.miners().items()}
                for _ in range(MAX_WAIT_STEPS):  # a tied batch with too little evidence yet waits for more checks
                    if v.store.miners()[uids[honest.hotkey]].accepted >= BACKLOG + NEW:
                        break
                    await v.step()
                miners = {name: v.store.miners()[uids[m.hotkey]]
                          for name, m in [("honest", honest), *((f"copier{i}", c) for i, c in enumerate(copies))]}
                provenance = {row.miner_hotkey for row in v.store.accepted_after(0, 1000)}
            finally:
                await v.close()
            return {"miners": miners, "provenance": provenance, "honest_hotkey": honest.hotkey}


@pytest.fixture(scope="module")
def one_copier(tmp_path_factory, web) -> dict:
    return asyncio.run(_copied_stream(tmp_path_factory.mktemp("copier"), web, copiers=1))


@pytest.fixture(scope="module")
def sybil_copiers(tmp_path_factory, web) -> dict:
    return asyncio.run(_copied_stream(tmp_path_factory.mktemp("sybils"), web, copiers=3))


def test_a_live_copier_that_fetched_later_earns_under_one_percent_of_the_tie(one_copier):
    honest, copier = one_copier["miners"]["honest"], one_copier["miners"]["copier0"]
    assert honest.accepted == BACKLOG + NEW
    assert copier.value_total <= 0.01 * honest.value_total


def test_the_original_not_the_copy_is_kept_in_the_dataset(one_copier):
    assert one_copier["provenance"] == {one_copier["honest_hotkey"]}


def test_a_sybil_group_copying_a_miner_earns_under_one_percent_together(sybil_copiers):
    miners = sybil_copiers["miners"]
    group = sum(m.value_total for name, m in miners.items() if name.startswith("copier"))
    assert miners["honest"].accepted == BACKLOG + NEW
    assert group <= 0.01 * miners["honest"].value_total
    assert sybil_copiers["provenance"] == {sybil_copiers["honest_hotkey"]}


async def _late_joiner(tmp_path, web) -> dict:
    """The copier registers after the original's backlog was accepted, and its very first delivery holds copies
    of that backlog and copies of records the original delivers in the same step."""
    async with local_net(tmp_path, web) as net:
        records = await net.records(BACKLOG + NEW)
        async with real_miner(net, "honest", records[:BACKLOG]) as honest:
            v = _validator(net)
            try:
                await v.step()
                honest.miner.store.store.add(records[BACKLOG:])
                async with real_miner(net, "copier", records) as copier:
                    await v.step()
                    miners = {m.hotkey: m for m in v.store.miners().values()}
                    provenance = {row.miner_hotkey for row in v.store.accepted_after(0, 1000)}
            finally:
                await v.close()
            return {"honest": miners[honest.hotkey], "copier": miners[copier.hotkey], "provenance": provenance,
                    "honest_hotkey": honest.hotkey}


def test_a_copier_joining_with_copies_of_accepted_and_fresh_records_earns_under_one_percent(tmp_path, web):
    joined = asyncio.run(_late_joiner(tmp_path, web))
    assert joined["honest"].accepted == BACKLOG + NEW
    assert joined["copier"].value_total <= 0.01 * joined["honest"].value_total
    assert joined["provenance"] == {joined["honest_hotkey"]}


async def _own_stream(tmp_path, web, hotkeys: int) -> float:
    """`hotkeys` miners of one operator serving the same records (nobody else has them): their credited value."""
    async with local_net(tmp_path, web) as net:
        records = await net.records(NEW, start=BACKLOG)
        async with contextlib.AsyncExitStack() as stack:
            group = [await stack.enter_async_context(real_miner(net, f"sybil{i}", records)) for i in range(hotkeys)]
            v = _validator(net)
            try:
                await v.step()
                hotkeys_ = {m.hotkey for m in group}
                return sum(m.value_total for m in v.store.miners().values() if m.hotkey in hotkeys_)
            finally:
                await v.close()


def test_a_sybil_group_on_its_own_stream_earns_no_more_than_one_miner_would(tmp_path, web):
    """Splitting a stream over hotkeys never pays more. Under pay for evidence it pays somewhat less: each hotkey has
    its own evidence window and the step's re-fetch budget is shared, so each bound rests on fewer checks."""
    alone = asyncio.run(_own_stream(tmp_path / "one", web, 1))
    group = asyncio.run(_own_stream(tmp_path / "three", web, 3))
    assert alone > 0
    assert group <= alone * (1 + 1e-6)
