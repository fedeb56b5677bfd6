"""The validator end to end on loopback: a LocalChain, real miners (miner.app), the sample web as the sources."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
import sqlalchemy as sa

from chain.commitment import Commitment
from schemas.record import Record
from scoring.constants import INITIAL_CREDIBILITY
from tests.validator.harness import DOMAIN, local_net, real_miner, registered
from validator.service import Validator


def _validator(net, **validator) -> Validator:
    return Validator(net.config(**validator), chain=net.chain, wallet=net.validator, catalog=net.catalog)


def _value_by_miner(v: Validator) -> dict[int, float]:
    with v.store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT miner_uid, SUM(value) FROM validator_accepted GROUP BY miner_uid"))
        return {int(uid): float(total) for uid, total in rows}


async def _until(condition, timeout: float = 60.0) -> None:
    """Wait until `condition()` holds (checked every 50 ms), at most `timeout` seconds (a busy machine is slow)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def _uid(net, hotkey: str) -> int:
    return (await net.chain.state()).by_hotkey(hotkey).uid


async def test_honest_miners_earn_in_proportion_to_accepted_value(tmp_path, web):
    async with local_net(tmp_path, web) as net:
        big = await net.records(18)
        small = await net.records(9, start=18)
        async with real_miner(net, "big", big) as a, real_miner(net, "small", small) as b:
            v = _validator(net)
            try:
                report = await v.step()
                values = _value_by_miner(v)
                weights = (await net.chain.weights())[await _uid(net, v.hotkey)]
            finally:
                await v.close()
        ua, ub = await _uid(net, a.hotkey), await _uid(net, b.hotkey)
    assert report.outcomes == {ua: "pass", ub: "pass"} and report.weights_set
    assert values[ua] > values[ub] > 0
    assert weights[ua] / weights[ub] == pytest.approx(values[ua] / values[ub], rel=1e-3)


async def test_a_copier_earns_nothing_for_copied_records(tmp_path, web):
    async with local_net(tmp_path, web) as net:
        records = await net.records(10)
        async with real_miner(net, "honest", records) as honest:
            v = _validator(net)
            try:
                await v.step()
                async with real_miner(net, "copier", records) as copier:
                    await v.step()
                    uid = await _uid(net, copier.hotkey)
                    miner = v.store.miners()[uid]
                    reasons = {r for (_u, _d, r) in v.store.rejections(uid)}
                    honest_accepted = v.store.miners()[await _uid(net, honest.hotkey)].accepted
            finally:
                await v.close()
    assert honest_accepted == len(records)
    assert miner.accepted == 0 and miner.score == 0.0 and miner.rejected == len(records)
    assert reasons == {"duplicate:exact"}


async def test_a_miner_whose_sampled_pages_say_something_else_fails_verification(tmp_path, web):
    async with local_net(tmp_path, web) as net:
        real = await net.records(8)
        other = await net.records(8, start=8)
        fabricated = [Record.build(uri=r.uri, text=o.text, title=r.title, source=r.source, domain=r.domain,
                                   fetched_at=r.fetched_at) for r, o in zip(real, other, strict=True)]
        async with real_miner(net, "fabricator", fabricated) as fab:
            v = _validator(net)
            try:
                report = await v.step()
                uid = await _uid(net, fab.hotkey)
                miner = v.store.miners()[uid]
                rejections = v.store.rejections(uid)
            finally:
                await v.close()
    assert report.outcomes[uid] == "fail"
    assert miner.accepted == 0 and miner.score == 0.0 and miner.credibility < INITIAL_CREDIBILITY
    assert rejections[(uid, DOMAIN, "verification_failed")] == len(fabricated)


async def test_sources_down_for_the_validator_keep_credibility_and_hold_the_records(tmp_path, web):
    async with local_net(tmp_path, web) as net:
        records = await net.records(8)
        async with real_miner(net, "honest", records) as honest:
            v = _validator(net)
            try:
                net.web.add_fault(status=503, path_prefix="/site/")
                first = await v.step()
                uid = await _uid(net, honest.hotkey)
                held = v.store.miners()[uid]
                pending = v.store.pending_records()
                net.web.clear_faults()
                await v.step()
                released = v.store.miners()[uid]
            finally:
                await v.close()
    assert first.outcomes[uid] == "unknown"
    assert held.credibility == INITIAL_CREDIBILITY and held.accepted == 0 and held.verify_fail == 0
    assert pending == {uid: len(records)}
    assert released.accepted == len(records) and released.credibility > INITIAL_CREDIBILITY


async def test_a_restarted_validator_continues_from_its_cursors(tmp_path, web):
    async with local_net(tmp_path, web) as net:
        records = await net.records(6)
        async with real_miner(net, "honest", records) as honest:
            v = _validator(net)
            try:
                await v.step()
            finally:
                await v.close()
            uid = await _uid(net, honest.hotkey)
            before = v.store.miners()  # the store object is closed, but reads reopen the pool
            again = _validator(net)
            try:
                report = await again.step()
                after = again.store.miners()
                novelty = len(again.corpus)
            finally:
                await again.close()
    assert report.pulled == 0
    assert after[uid].accepted == before[uid].accepted == len(records)
    assert novelty == len(records)
    assert 0 < after[uid].score < before[uid].score  # nothing new this step: the EMA decays, it does not reset


async def test_metrics_and_api_report_the_step(tmp_path, web):
    async with local_net(tmp_path, web) as net:
        records = await net.records(6)
        async with real_miner(net, "honest", records):
            v = _validator(net)
            try:
                await v.step()
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{v.http.port}") as http:
                    metrics = (await http.get("/metrics")).text
                    board = (await http.get("/api/leaderboard")).json()
            finally:
                await v.close()
    assert f"glean_validator_records_accepted_total{{domain=\"{DOMAIN}\"}} {len(records)}.0" in metrics
    assert 'glean_validator_verifications_total{outcome="pass"}' in metrics
    assert board[0]["accepted"] == len(records) and board[0]["verify_unverified"] == 0


async def test_weights_errors_are_retried_not_fatal(tmp_path, web):
    async with local_net(tmp_path, web) as net:
        records = await net.records(6)
        async with real_miner(net, "honest", records):
            v = _validator(net)
            calls = []
            original = net.chain.set_weights

            async def refusing(wallet, weights, *, version_key=0):
                calls.append(dict(weights))
                if len(calls) == 1:
                    from schemas.errors import ChainError

                    raise ChainError("the endpoint refused the extrinsic", hint="try again later")
                await original(wallet, weights, version_key=version_key)

            net.chain.set_weights = refusing
            try:
                first = await v.step()
                await net.chain.advance(30)
                second = await v.step()
            finally:
                await v.close()
    assert not first.weights_set and second.weights_set and len(calls) == 2


async def test_publish_writes_a_release_and_commits_its_location(tmp_path, web, database_url):
    async with local_net(tmp_path, web) as net:
        records = await net.records(6)
        async with real_miner(net, "honest", records):
            v = _validator(net, database_url=database_url)
            try:
                await v.step()
                info = await v.publish()
                again = await v.publish()
                commitment = (await net.chain.state()).by_hotkey(v.hotkey).commitment
            finally:
                await v.close()
    assert info is not None and info.rows_by_domain == {DOMAIN: len(records)}
    assert again is None and Commitment.decode(commitment).release == info.location  # beside the list's hash


async def test_run_stops_when_asked(tmp_path, web):
    async with local_net(tmp_path, web) as net:
        v = _validator(net, step_seconds=0.5)
        stop = asyncio.Event()
        task = asyncio.create_task(v.run(stop=stop))
        await _until(lambda: int(v.store.get_state("step", 0)) >= 1 or task.done())
        stop.set()
        await asyncio.wait_for(task, 30)
    assert int(v.store.get_state("step", 0)) >= 1


async def test_a_lone_validator_takes_its_first_step_at_once_not_at_the_next_slot(tmp_path, web):
    async with local_net(tmp_path, web) as net:
        v = _validator(net, step_seconds=3600.0)  # its next wall-clock slot is up to an hour away
        stop = asyncio.Event()
        task = asyncio.create_task(v.run(stop=stop))
        await _until(lambda: int(v.store.get_state("step", 0)) >= 1 or task.done())
        stop.set()
        await asyncio.wait_for(task, 30)
    assert int(v.store.get_state("step", 0)) == 1


async def test_a_validator_without_a_permit_skips_the_step_instead_of_scoring_miners_zero(tmp_path, web):
    async with local_net(tmp_path, web) as net:
        records = await net.records(4)
        async with real_miner(net, "honest", records):
            unpermitted = await registered(net.chain, "no-permit")
            v = Validator(net.config(), chain=net.chain, wallet=unpermitted, catalog=net.catalog)
            try:
                report = await v.step()
                steps = int(v.store.get_state("step", 0))
            finally:
                await v.close()
    assert report is None and steps == 0


async def test_the_running_validator_publishes_on_its_interval(tmp_path, web):
    async with local_net(tmp_path, web) as net:
        records = await net.records(4)
        async with real_miner(net, "honest", records):
            v = _validator(net, step_seconds=0.5, publish_interval_seconds=0.5)
            stop = asyncio.Event()
            task = asyncio.create_task(v.run(stop=stop))
            await _until(lambda: v.store.get_state("last_release") or task.done())
            stop.set()
            await asyncio.wait_for(task, 30)
            release = v.store.get_state("last_release")
            commitment = (await net.chain.state()).by_hotkey(v.hotkey).commitment
    assert release["rows_by_domain"] == {DOMAIN: len(records)}
    assert Commitment.decode(commitment).release == release["location"]


async def test_a_small_byte_budget_spreads_a_miner_over_steps_without_refusing_it(tmp_path, web):
    async with local_net(tmp_path, web) as net:
        records = await net.records(6)
        async with real_miner(net, "honest", records) as honest:
            v = _validator(net, miner_bytes_budget=max(r.text_bytes for r in records) * 2)
            try:
                uid = await _uid(net, honest.hotkey)
                accepted = []
                for _ in range(len(records)):
                    report = await v.step()
                    assert uid not in report.failures
                    accepted.append(v.store.miners()[uid].accepted)
                    if accepted[-1] == len(records):
                        break
            finally:
                await v.close()
    assert 0 < accepted[0] < len(records) and accepted[-1] == len(records)


def test_validators_with_one_cadence_start_their_steps_at_the_same_instants():
    from validator.service import next_step_pause

    # Three validators whose steps ended at different moments of one slot all start the next at t = 120.
    assert [round(t + next_step_pause(20.0, t), 6) for t in (101.0, 104.5, 119.7)] == [120.0, 120.0, 120.0]
    # A step that ended just before a slot waits for the next one, as does one that ended just after it.
    assert round(119.95 + next_step_pause(20.0, 119.95), 6) == 140.0
    assert round(120.05 + next_step_pause(20.0, 120.05), 6) == 140.0
