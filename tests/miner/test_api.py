"""The signed API over real uvicorn on loopback, with a LocalChain deciding who is a permitted validator."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from chain import LocalChain
from chain.auth import HotkeyAuth, sign_headers
from schemas import MinerIndex
from schemas.protocol import (
    MAX_REQUEST_BYTES,
    PROTOCOL_HEADER,
    ErrorResponse,
    HealthResponse,
    LookupResponse,
    RecordsRequest,
    RecordsResponse,
)
from schemas.version import PROTOCOL_VERSION, package_version
from tests.miner.support import PROTOCOL, dev_wallet, make_record, miner_config, registered, serve_miner

RECORDS = [make_record(i, domain="ml-research" if i % 3 else "world-news") for i in range(30)]


@pytest.fixture
async def chain(tmp_path):
    local = LocalChain(tmp_path / "chain.sqlite")
    yield local
    await local.close()


@pytest.fixture
async def validator(chain):
    return await registered(chain, "validator", stake=100.0)


@pytest.fixture
async def running(tmp_path, chain, validator):
    wallet = await registered(chain, "miner")
    config = miner_config(tmp_path, min_validator_stake=10.0, requests_per_minute=600, request_burst=50)
    async with serve_miner(config, chain, wallet, records=RECORDS) as running:
        yield running


def _refusal(response: httpx.Response, status: int, error: str) -> ErrorResponse:
    assert response.status_code == status, response.text
    body = ErrorResponse.model_validate_json(response.content)
    assert body.error == error and body.hint
    assert "records" not in response.json()
    return body


def _post_records(request: RecordsRequest) -> dict:
    return {"content": request.model_dump_json().encode(), "headers": {"Content-Type": "application/json"}}


async def test_health_is_open_and_reports_the_newest_seq(running):
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        health = HealthResponse.model_validate_json((await http.get("/v1/health")).content)
    assert health.hotkey == running.hotkey and health.newest_seq == len(RECORDS)


async def test_validator_gets_the_index_of_the_store(running, validator):
    async with running.client(validator) as http:
        response = await http.get("/v1/index")
    assert response.status_code == 200
    index = MinerIndex.model_validate_json(response.content)
    assert index == running.store.index(running.hotkey)
    assert index.total_count == len(RECORDS) and index.buckets == running.store.recount()


async def test_cursor_paging_over_http_returns_every_record_exactly_once(running, validator):
    seen, cursor, more = [], 0, True
    async with running.client(validator) as http:
        while more:
            response = await http.post("/v1/records", **_post_records(RecordsRequest(after_seq=cursor, limit=7)))
            page = RecordsResponse.model_validate_json(response.content)
            seen += page.records
            cursor, more = page.next_seq, page.more
    assert [r.seq for r in seen] == list(range(1, len(RECORDS) + 1))
    assert [r.record for r in seen] == RECORDS


async def test_pages_are_gzip_compressed(running, validator):
    async with running.client(validator) as http:
        response = await http.post("/v1/records", **_post_records(RecordsRequest(limit=30)))
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) < len(response.content)


async def test_a_page_stays_within_max_bytes_and_domain(running, validator):
    request = RecordsRequest(domain="ml-research", limit=100, max_bytes=2048)
    async with running.client(validator) as http:
        response = await http.post("/v1/records", **_post_records(request))
    page = RecordsResponse.model_validate_json(response.content)
    assert len(response.content) <= 2048 and page.more and page.records
    assert {r.record.domain for r in page.records} == {"ml-research"}


async def test_lookup_returns_the_records_asked_for(running, validator):
    body = json.dumps({"uris": [RECORDS[3].uri], "hashes": [RECORDS[5].content_hash]}).encode()
    async with running.client(validator) as http:
        response = await http.post("/v1/records/lookup", content=body)
    found = LookupResponse.model_validate_json(response.content).records
    assert [(r.seq, r.record) for r in found] == [(4, RECORDS[3]), (6, RECORDS[5])]


async def test_malformed_request_body_is_refused_with_422(running, validator):
    async with running.client(validator) as http:
        response = await http.post("/v1/records", content=b'{"limit": 0}')
    _refusal(response, 422, "bad_request")


async def test_unsigned_request_is_refused_with_401(running):
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        response = await http.post("/v1/records", content=b"{}")
    _refusal(response, 401, "malformed_auth")


async def test_request_signed_for_another_receiver_is_refused_with_401(running, validator):
    async with running.client(validator, receiver=dev_wallet("someone").hotkey.ss58_address) as http:
        response = await http.get("/v1/index")
    _refusal(response, 401, "wrong_receiver")


async def test_stale_request_is_refused_with_401(running, validator):
    headers = sign_headers(validator.hotkey, method="GET", target="/v1/index", body=b"",
                           receiver_ss58=running.hotkey, nonce_ns=time.time_ns() - 60 * 10**9)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        response = await http.get("/v1/index", headers=headers)
    _refusal(response, 401, "stale_request")


async def test_replayed_request_is_refused_with_401(running, validator):
    body = RecordsRequest(limit=2).model_dump_json().encode()
    headers = sign_headers(validator.hotkey, method="POST", target="/v1/records", body=body,
                           receiver_ss58=running.hotkey)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        first = await http.post("/v1/records", content=body, headers=headers | PROTOCOL)
        again = await http.post("/v1/records", content=body, headers=headers | PROTOCOL)
    assert first.status_code == 200
    _refusal(again, 401, "replayed_request")


async def test_tampered_body_is_refused_with_401(running, validator):
    headers = sign_headers(validator.hotkey, method="POST", target="/v1/records", body=b'{"limit":1}',
                           receiver_ss58=running.hotkey)
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        response = await http.post("/v1/records", content=b'{"limit":999}', headers=headers)
    _refusal(response, 401, "bad_signature")


async def test_unregistered_caller_is_refused_with_403(running):
    async with running.client(dev_wallet("stranger")) as http:
        response = await http.get("/v1/index")
    _refusal(response, 403, "not_registered")


async def test_registered_caller_without_a_permit_is_refused_with_403(running, chain):
    unstaked = await registered(chain, "no-permit")
    await running.miner.gate.refresh()
    async with running.client(unstaked) as http:
        response = await http.post("/v1/records", content=b"{}")
    _refusal(response, 403, "no_validator_permit")


async def test_validator_with_too_little_stake_is_refused_with_403(running, chain):
    small = await registered(chain, "small-validator", stake=1.0)
    await running.miner.gate.refresh()
    assert running.miner.gate.state.by_hotkey(small.hotkey.ss58_address).validator_permit
    async with running.client(small) as http:
        response = await http.get("/v1/index")
    _refusal(response, 403, "insufficient_stake")


async def test_oversized_request_is_refused_with_413(running, validator):
    body = json.dumps({"uris": ["https://example.org/" + "x" * 1000] * 100}).encode()
    assert len(body) > MAX_REQUEST_BYTES
    async with running.client(validator) as http:
        response = await http.post("/v1/records/lookup", content=body)
    _refusal(response, 413, "request_too_large")


async def test_oversized_chunked_request_is_refused_with_413_before_auth(running):
    async def chunks():  # no Content-Length: the body is streamed and counted as it comes
        for _ in range(3):
            yield b"x" * (MAX_REQUEST_BYTES // 2 + 1)

    async with httpx.AsyncClient(base_url=running.base_url) as http:
        response = await http.post("/v1/records", content=chunks())
    _refusal(response, 413, "request_too_large")


async def test_too_many_requests_are_refused_with_429(tmp_path, chain, validator):
    wallet = await registered(chain, "busy-miner")
    config = miner_config(tmp_path, requests_per_minute=1, request_burst=3)
    async with serve_miner(config, chain, wallet, records=RECORDS[:3]) as running, running.client(validator) as http:
        statuses = [(await http.get("/v1/index")).status_code for _ in range(3)]
        refused = await http.post("/v1/records", content=b"{}")
    assert statuses == [200, 200, 200]
    _refusal(refused, 429, "rate_limited")
    assert int(refused.headers["retry-after"]) >= 1


async def test_metrics_count_records_and_requests_by_caller_and_status(running, validator):
    async with running.client(validator) as http:
        await http.get("/v1/index")
    async with httpx.AsyncClient(base_url=running.base_url) as http:
        await http.get("/v1/index")
        text = (await http.get("/metrics")).text
    caller = validator.hotkey.ss58_address
    assert f'glean_miner_requests_total{{caller="{caller}",route="/v1/index",status="200"}} 1.0' in text
    assert 'glean_miner_requests_total{caller="other",route="/v1/index",status="401"} 1.0' in text
    assert f"glean_miner_records_stored {float(len(RECORDS))}" in text


async def test_request_from_another_protocol_version_is_refused_with_426(running, validator):
    async with running.client(validator) as http:
        response = await http.get("/v1/index", headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION + 1)})
    body = _refusal(response, 426, "protocol_mismatch")
    assert response.headers[PROTOCOL_HEADER] == str(PROTOCOL_VERSION)
    assert f"glean protocol {PROTOCOL_VERSION}" in body.detail and f"protocol {PROTOCOL_VERSION + 1}" in body.detail
    assert f"glean=={package_version()}" in body.hint


async def test_request_without_the_protocol_header_is_refused_with_426(running, validator):
    async with httpx.AsyncClient(base_url=running.base_url, auth=HotkeyAuth(validator.hotkey, running.hotkey),
                                 timeout=10) as http:
        response = await http.post("/v1/records", **_post_records(RecordsRequest(limit=3)))
    body = _refusal(response, 426, "protocol_mismatch")
    assert f"no {PROTOCOL_HEADER} header" in body.detail and f"glean=={package_version()}" in body.hint
