"""The miner client against real loopback servers: signed, retried with fresh nonces, and bounded."""

import json
import time

import pytest
from bittensor.keyfiles import Keypair

from schemas.index import MinerIndex
from schemas.protocol import PROTOCOL_HEADER, RecordsRequest
from schemas.version import PROTOCOL_VERSION, package_version
from tests.validator.servers import (
    Behaviour,
    RawServer,
    answer_bytes,
    answer_json,
    endless,
    gzip_bomb,
    send,
    sequence,
    slowloris,
)
from validator.client import MinerClient, MinerError
from validator.reasons import PROTOCOL_MISMATCH, VALIDATOR_ERROR

VALIDATOR = Keypair.create_from_uri("//validator-client-test")
MINER = Keypair.create_from_uri("//miner-client-test").ss58_address


def _index(hotkey: str = MINER) -> dict:
    return MinerIndex.from_buckets(hotkey, [], 0).model_dump(mode="json")


@pytest.fixture
def server():
    with RawServer() as s:
        yield s


@pytest.fixture
async def client():
    c = MinerClient(VALIDATOR, allow_private=True)  # the test miners listen on loopback (local mode)
    yield c
    await c.aclose()


async def test_index_request_is_signed_for_the_miner(server, client):
    server.routes["/v1/index"] = answer_json(_index(), compress=True)
    index = await client.index(server.axon, MINER)
    assert index.hotkey == MINER
    _, _, headers = server.requests[0]
    assert headers["X-Bittensor-Receiver"] == MINER
    assert headers["X-Bittensor-Hotkey"] == VALIDATOR.ss58_address


async def test_index_of_another_hotkey_is_refused(server, client):
    server.routes["/v1/index"] = answer_json(_index(VALIDATOR.ss58_address))
    with pytest.raises(MinerError) as info:
        await client.index(server.axon, MINER)
    assert info.value.reason == "wrong_hotkey"


async def test_retries_sign_again_with_a_fresh_nonce(server, client):
    server.routes["/v1/index"] = sequence(answer_json({"error": "busy", "detail": "x"}, status=503),
                                          answer_json(_index()))
    await client.index(server.axon, MINER)
    nonces = [h["X-Bittensor-Nonce"] for _, _, h in server.requests]
    assert len(nonces) == 2 and nonces[0] != nonces[1]


async def test_client_errors_are_not_retried(server, client):
    server.routes["/v1/index"] = answer_json({"error": "forbidden", "detail": "no permit"}, status=403)
    with pytest.raises(MinerError) as info:
        await client.index(server.axon, MINER)
    assert info.value.reason == "http_403" and "no permit" in info.value.message
    assert len(server.requests) == 1


async def test_malformed_json_is_refused(server, client):
    server.routes["/v1/index"] = answer_bytes(b'{"hotkey": ')
    with pytest.raises(MinerError) as info:
        await client.index(server.axon, MINER)
    assert info.value.reason == "malformed_json"


async def test_wrong_schema_is_refused(server, client):
    server.routes["/v1/index"] = answer_json({"hotkey": MINER, "buckets": "many"})
    with pytest.raises(MinerError) as info:
        await client.index(server.axon, MINER)
    assert info.value.reason == "bad_schema"


async def test_declared_oversized_body_is_refused_before_reading(server, client):
    server.routes["/v1/records"] = answer_bytes(b" " * (3 * 1024 * 1024))
    with pytest.raises(MinerError) as info:
        await client.records(server.axon, MINER, RecordsRequest(max_bytes=1024 * 1024))
    assert info.value.reason == "too_large"


async def test_gzip_bomb_stops_at_the_decoded_cap(server, client):
    server.routes["/v1/records"] = gzip_bomb(32 * 1024 * 1024)
    with pytest.raises(MinerError) as info:
        await client.records(server.axon, MINER, RecordsRequest(max_bytes=1024 * 1024))
    assert info.value.reason == "too_large"


async def test_endless_response_stops_at_the_cap(server, client):
    server.routes["/v1/records"] = endless()
    with pytest.raises(MinerError) as info:
        await client.records(server.axon, MINER, RecordsRequest(max_bytes=1024 * 1024))
    assert info.value.reason == "too_large"


async def test_slowloris_is_cut_at_the_deadline(server, client):
    server.routes["/v1/records"] = slowloris(interval=0.2, total=20)
    deadline = time.monotonic() + 1.5
    with pytest.raises(MinerError) as info:
        await client.records(server.axon, MINER, RecordsRequest(), deadline=deadline)
    assert info.value.reason == "timeout"
    assert time.monotonic() < deadline + 1.0


async def test_unreachable_miner_is_reported(client):
    with pytest.raises(MinerError) as info:
        await client.index("127.0.0.1:1", MINER, deadline=time.monotonic() + 2)
    assert info.value.reason in {"unreachable", "timeout"}


async def test_retry_after_of_a_busy_miner_is_honoured(server, client):
    server.routes["/v1/index"] = sequence(lambda h: send(h, 429, b'{"error":"rate_limited","detail":"x"}',
                                                         headers={"Retry-After": "1"}), answer_json(_index()))
    began = time.monotonic()
    await client.index(server.axon, MINER, deadline=began + 5)
    assert time.monotonic() - began >= 1.0 and len(server.requests) == 2


async def test_retry_after_beyond_the_deadline_gives_up(server, client):
    server.routes["/v1/index"] = lambda h: send(h, 429, b'{"error":"rate_limited","detail":"x"}',
                                                headers={"Retry-After": "8"})
    with pytest.raises(MinerError) as info:
        await client.index(server.axon, MINER, deadline=time.monotonic() + 1.0)
    assert info.value.reason == "http_429" and len(server.requests) == 1


def _mismatch(miner_protocol: int) -> Behaviour:
    body = json.dumps({"error": "protocol_mismatch", "detail": f"this miner runs glean protocol {miner_protocol}",
                       "hint": "run glean 9.9.9"}).encode()
    return answer_bytes(body, status=426, headers={PROTOCOL_HEADER: str(miner_protocol)})


async def test_every_request_names_the_protocol_version(server, client):
    server.routes["/v1/index"] = answer_json(_index())
    await client.index(server.axon, MINER)
    _, _, headers = server.requests[0]
    assert headers[PROTOCOL_HEADER] == str(PROTOCOL_VERSION)


async def test_a_miner_on_an_older_protocol_is_refused_with_both_versions(server, client):
    server.routes["/v1/index"] = _mismatch(PROTOCOL_VERSION - 1)
    with pytest.raises(MinerError) as info:
        await client.index(server.axon, MINER)
    error = info.value
    assert error.reason == PROTOCOL_MISMATCH and len(server.requests) == 1
    assert f"runs glean protocol {PROTOCOL_VERSION - 1}" in error.message
    assert f"this validator protocol {PROTOCOL_VERSION} (glean {package_version()})" in error.message
    assert "run glean 9.9.9" in error.message and f"glean {package_version()}" in error.hint


async def test_a_miner_on_a_newer_protocol_is_the_validators_failure(server, client):
    server.routes["/v1/index"] = _mismatch(PROTOCOL_VERSION + 1)
    with pytest.raises(MinerError) as info:
        await client.index(server.axon, MINER)
    assert info.value.reason == VALIDATOR_ERROR and "upgrade this validator" in info.value.message
    assert f"protocol {PROTOCOL_VERSION + 1}" in info.value.hint


@pytest.mark.parametrize("axon", ["127.0.0.1:8091", "10.0.0.7:8091", "169.254.169.254:80", "[::1]:8091",
                                  "[::ffff:192.168.1.2]:8091", "0.0.0.0:8091"])
async def test_outside_local_mode_a_miner_at_a_private_address_is_never_contacted(server, axon):
    server.routes["/v1/index"] = answer_json(_index(), compress=True)
    network = MinerClient(VALIDATOR)  # the default: a validator on a real network
    try:
        with pytest.raises(MinerError) as info:
            await network.index(axon, MINER)
        with pytest.raises(MinerError):  # the test's own loopback miner too
            await network.index(server.axon, MINER)
    finally:
        await network.aclose()
    assert info.value.reason == "private_address" and axon in info.value.message
    assert server.requests == []

