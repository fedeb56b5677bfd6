"""First delivery wins while a batch waits: an original whose batch waits for evidence (its sample could not be
re-fetched) keeps its content against a copier that delivers the same records in a later step, whether the copier's
batch is judged in a step the original is not visited in, or is held by the source's outage and resolves while the
original still waits (the case found in session 7, docs/adversarial.md). Real miners, real steps, one miner a step."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from types import SimpleNamespace

import sqlalchemy as sa

from tests.validator.harness import local_net, real_miner
from validator import sampling
from validator.service import Validator
from validator.store.tables import FirstDeliveryRow

MAX_STEPS = 8  # the round visits each of the two miners once in every two steps


def _validator(net) -> Validator:
    return Validator(net.config(miners_per_step=1), chain=net.chain, wallet=net.validator, catalog=net.catalog)


async def _uid(net, hotkey: str) -> int:
    return (await net.chain.state()).by_hotkey(hotkey).uid


def _first_deliveries(v: Validator) -> dict[tuple[str, str], int]:
    """Every first delivery the validator keeps: (hotkey, content_hash) -> step."""
    with v.store.engine.connect() as conn:
        rows = conn.execute(sa.select(FirstDeliveryRow.hotkey, FirstDeliveryRow.content_hash, FirstDeliveryRow.step))
        return {(hotkey, content_hash): step for hotkey, content_hash, step in rows}


async def _until_accepted(v: Validator, uid: int, count: int) -> int:
    """Steps until `uid` has `count` accepted records (bounded); returns the steps taken."""
    for taken in range(1, MAX_STEPS + 1):
        await v.step()
        if v.store.miners()[uid].accepted >= count:
            return taken
    raise AssertionError(f"uid {uid} never reached {count} accepted records in {MAX_STEPS} steps")


@contextlib.asynccontextmanager
async def _copier_after_a_waiting_original(tmp_path, web, monkeypatch) -> AsyncIterator[SimpleNamespace]:
    """An original miner (6 records) through a first step in which nothing could be re-fetched (its batch waits),
    then a copier holding the same records registered: the scene, with `remembered` the first deliveries after the
    first step and `uids` (original, copier)."""
    async with local_net(tmp_path, web) as net:
        records = await net.records(6)
        async with real_miner(net, "original", records) as original:
            v = _validator(net)
            try:
                with monkeypatch.context() as m:
                    m.setattr(sampling, "refetch_budget", lambda _source: 0)  # nothing re-fetched: it waits
                    first = await v.step()
                remembered = _first_deliveries(v)
                async with real_miner(net, "copier", records) as copier:  # the same records, a step later
                    uids = await _uid(net, original.hotkey), await _uid(net, copier.hotkey)
                    yield SimpleNamespace(net=net, v=v, records=records, first=first, remembered=remembered,
                                          uids=uids, original=original.hotkey)
            finally:
                await v.close()


async def test_an_original_that_waits_keeps_its_content_against_a_copier_judged_while_it_is_not_visited(
        tmp_path, web, monkeypatch):
    async with _copier_after_a_waiting_original(tmp_path, web, monkeypatch) as sc:
        copied = await sc.v.step()  # the round's new uid: the copier alone
        await _until_accepted(sc.v, sc.uids[0], len(sc.records))
        for _ in range(2):  # the copier is visited again after the original's records were accepted
            await sc.v.step()
        miners, rejected, left = sc.v.store.miners(), sc.v.store.rejections(sc.uids[1]), _first_deliveries(sc.v)
    uids, records = sc.uids, sc.records
    assert sc.first.accepted == 0 and {h for h, _ in sc.remembered} == {sc.original}
    assert sorted(c for _, c in sc.remembered) == sorted(r.content_hash for r in records)
    assert copied.miners == [uids[1]] and copied.accepted == 0  # it waited for the original's delivery
    assert miners[uids[0]].accepted == len(records) and miners[uids[1]].accepted == 0
    assert miners[uids[1]].value_total == 0.0 and sum(n for (_, _, r), n in rejected.items()
                                                      if r.startswith("duplicate")) == len(records)
    assert not [k for k in left if k[0] == sc.original]  # decided: forgotten


async def test_a_copiers_held_batch_resolving_while_the_original_waits_does_not_take_its_content(
        tmp_path, web, monkeypatch):
    async with _copier_after_a_waiting_original(tmp_path, web, monkeypatch) as sc:
        sc.net.web.add_fault(status=503, path_prefix="/site/")
        held = await sc.v.step()  # the copier alone; the source down: its batch is held
        sc.net.web.clear_faults()
        with monkeypatch.context() as m:
            m.setattr(sampling, "refetch_budget", lambda _source: 0)  # the original still waits ...
            await sc.v.step()  # ... when the copier's held batch is due and its sample passes
        copier_after = sc.v.store.miners()[sc.uids[1]]
        await _until_accepted(sc.v, sc.uids[0], len(sc.records))
        miners, pending = sc.v.store.miners(), sc.v.store.pending_records()
    uids, records = sc.uids, sc.records
    assert held.miners == [uids[1]] and held.outcomes[uids[1]] == "unknown"
    assert copier_after.accepted == 0 and copier_after.value_total == 0.0
    assert miners[uids[0]].accepted == len(records) and miners[uids[1]].accepted == 0
    assert pending == {uids[1]: len(records)}  # postponed: it resolves later, into duplicates
