"""Hostile miners (scripted servers on loopback) beside an honest one: the step finishes within its budget, every
hostile miner scores 0 for it, and the honest miner's records are accepted."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from tests.validator.harness import (
    index_body,
    local_net,
    real_miner,
    records_page,
    registered,
)
from tests.validator.servers import RawServer, answer_bytes, endless, gzip_bomb, slowloris
from validator.service import Validator

STEP_SECONDS = 8.0
MINER_TIMEOUT = 3.0


def _hash_mismatch(records):
    body = json.loads(records_page(records))
    for item in body["records"]:
        item["record"]["content_hash"] = "0" * 64
    return json.dumps(body).encode()


def _behaviours(records) -> dict:
    return {
        "malformed_json": answer_bytes(b'{"records": [{"seq": 1, "record": {'),
        "wrong_schema": answer_bytes(json.dumps({"items": [], "cursor": 3}).encode()),
        "record_schema": answer_bytes(json.dumps({"records": [{"seq": 1, "record": {"text": "x"}}],
                                                  "next_seq": 1, "more": False}).encode()),
        "hash_mismatch": answer_bytes(_hash_mismatch(records)),
        "oversized": gzip_bomb(64 * 1024 * 1024),
        "endless": endless(),
        "slow": slowloris(interval=0.2, total=30),
    }


async def _scenario(tmp_path: Path, web) -> dict:
    async with local_net(tmp_path, web) as net:
        honest = await net.records(6)
        stolen = await net.records(6, start=6)
        servers = {name: RawServer().__enter__() for name in _behaviours(stolen)}
        try:
            uids = {}
            for name, behaviour in _behaviours(stolen).items():
                server = servers[name]
                wallet = await registered(net.chain, name, axon=server.axon)
                server.routes["/v1/index"] = answer_bytes(index_body(wallet.hotkey.ss58_address, stolen))
                server.routes["/v1/records"] = behaviour
                uids[name] = (await net.chain.state()).by_hotkey(wallet.hotkey.ss58_address).uid
            async with real_miner(net, "honest", honest) as good:
                uids["honest"] = (await net.chain.state()).by_hotkey(good.hotkey).uid
                v = Validator(net.config(step_seconds=STEP_SECONDS, miner_timeout_seconds=MINER_TIMEOUT,
                                         miners_per_step=16, concurrency=8),
                              chain=net.chain, wallet=net.validator, catalog=net.catalog)
                try:
                    began = time.monotonic()
                    report = await asyncio.wait_for(v.step(), STEP_SECONDS * 3)
                    elapsed = time.monotonic() - began
                    miners = v.store.miners()
                    rejections = v.store.rejections()
                finally:
                    await v.close()
        finally:
            for server in servers.values():
                server.__exit__(None, None, None)
    return {"uids": uids, "report": report, "elapsed": elapsed, "miners": miners, "rejections": rejections,
            "honest": len(honest)}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory, web) -> dict:
    return asyncio.run(_scenario(tmp_path_factory.mktemp("hostile"), web))


def test_the_step_finishes_within_its_budget(scenario):
    assert scenario["elapsed"] < STEP_SECONDS * 1.5
    assert set(scenario["report"].miners) == set(scenario["uids"].values())


def test_the_honest_miner_is_accepted(scenario):
    honest = scenario["miners"][scenario["uids"]["honest"]]
    assert honest.accepted == scenario["honest"] and honest.score > 0


@pytest.mark.parametrize("kind", ["malformed_json", "wrong_schema", "record_schema", "hash_mismatch", "oversized",
                                  "endless", "slow"])
def test_a_hostile_miner_scores_zero_for_the_step(scenario, kind):
    miner = scenario["miners"][scenario["uids"][kind]]
    assert miner.accepted == 0 and miner.score == 0.0 and miner.last_step_score == 0.0


@pytest.mark.parametrize(("kind", "reason"), [
    ("malformed_json", "protocol:malformed_json"), ("wrong_schema", "protocol:bad_schema"),
    ("record_schema", "schema"), ("hash_mismatch", "hash_mismatch"), ("oversized", "protocol:too_large"),
    ("endless", "protocol:too_large"), ("slow", "protocol:timeout"),
])
def test_a_hostile_answer_is_counted_under_its_reason(scenario, kind, reason):
    uid = scenario["uids"][kind]
    reasons = {r for (u, _d, r) in scenario["rejections"] if u == uid}
    assert reason in reasons
