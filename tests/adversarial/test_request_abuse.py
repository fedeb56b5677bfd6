"""Hostile dataset requests at a validator's public listener: each is refused with a clear reason (status, error,
the field and a hint) and nothing changes in the validator's store."""

from __future__ import annotations

import hashlib
import json

import pytest

from chain.auth import sign_headers
from schemas.request import MAX_REQUEST_BYTES
from tests.validator.requests_support import ALICE, MALLORY, VALIDATOR, request, serve_listener, spec
from validator import constants as k
from validator.listener import Limits
from validator.store import ValidatorStore

WEB = {"seeds": ["https://docs.example-rust.org/async/"], "allow_patterns": ["^https://docs\\.example-rust\\.org/"]}


@pytest.fixture
def store(tmp_path):
    opened = ValidatorStore.open(f"sqlite:///{tmp_path / 'validator.sqlite'}")
    yield opened
    opened.close()


def _body(**source) -> bytes:
    return _raw(spec(**source))


def _refused(response, status: int, error: str, *words: str) -> None:
    assert response.status_code == status, response.text
    answer = response.json()
    assert answer["error"] == error and answer["hint"], answer
    for word in words:
        assert word in answer["detail"], answer


def _raw(domain: dict, **fields) -> bytes:
    """A request's JSON as a hostile client writes it (not through the model, which would refuse it first)."""
    return json.dumps({"spec": domain, "requester": ALICE.ss58_address, "target": {"records": 1}, **fields}).encode()


@pytest.mark.parametrize(("body", "words"), [
    (_raw(spec(kind="web", params={"seeds": ["not a url"], "allow_patterns": ["x"]})), ("spec.sources.0", "seeds")),
    (_raw(spec(kind="nosuchkind", params={})), ("spec.sources.0.kind",)),
    (_raw(spec(), target={}), ("target",)),
    (_raw({**spec(), "relevance": {}}), ("spec.relevance",)),
], ids=["bad-param", "unknown-kind", "no-target", "no-keywords"])
async def test_a_bad_spec_is_refused_naming_its_field(store, body, words):
    async with serve_listener(store) as running:
        headers = sign_headers(ALICE, method="POST", target="/v1/requests", body=body,
                               receiver_ss58=VALIDATOR.ss58_address)
        async with running.client() as http:
            response = await http.post("/v1/requests", content=body, headers=headers)
    _refused(response, 422, "bad_request", *words)
    assert store.list_requests() == []


@pytest.mark.parametrize(("source", "words"), [
    ({"kind": "reddit", "params": {"subreddits": ["rust"], "min_score": 0}}, ("min_score", "floor")),
    ({"kind": "reddit", "params": {"subreddits": ["rust"], "min_age_hours": 0}}, ("min_age_hours",)),
    ({"kind": "wikipedia", "params": {"mode": "recentchanges"}}, ("mode", "fresh edits")),
    ({"kind": "wikipedia", "params": {"category": "User:Mallory"}}, ("category",)),
    ({"kind": "web", "params": {"seeds": ["https://mallory-blog.org/"]}}, ("allow_patterns", "path rule")),
    ({"kind": "hackernews", "params": {"allow_hosts": ["mallory-blog.org"]}}, ("allow_patterns",)),
], ids=["reddit-score", "reddit-age", "wiki-recent", "wiki-user-namespace", "web-whole-host", "hn-links"])
async def test_an_open_source_is_refused(store, source, words):
    async with serve_listener(store) as running, running.client(ALICE) as http:
        response = await http.post("/v1/requests", content=_body(**source))
    _refused(response, 422, "bad_request", *words)
    assert store.list_requests() == []


@pytest.mark.parametrize(("source", "words"), [
    ({"kind": "web", "params": {**WEB, "seeds": ["http://127.0.0.1:8080/"]}}, ("127.0.0.1",)),
    ({"kind": "web", "params": {**WEB, "seeds": ["http://169.254.169.254/latest/"]}}, ("metadata",)),
    ({"kind": "web", "params": {**WEB, "seeds": ["http://intranet.corp/"]}}, ("intranet.corp",)),
    ({"kind": "feed", "params": {"feeds": ["http://localhost/feed"], "allow_patterns": ["x"]}}, ("localhost",)),
    ({"kind": "reddit", "params": {"subreddits": ["rust"], "base_url": "https://api.mallory.org"}}, ("base_url",)),
], ids=["loopback", "metadata", "private-name", "localhost-feed", "api-elsewhere"])
async def test_a_private_host_is_refused_outside_local_mode(store, source, words):
    async with serve_listener(store, local=False) as running, running.client(ALICE) as http:
        response = await http.post("/v1/requests", content=_body(**source))
    _refused(response, 422, "bad_request", *words)
    assert store.list_requests() == []


async def test_a_forged_or_foreign_signature_is_refused(store):
    body = request().canonical()
    forged = sign_headers(MALLORY, method="POST", target="/v1/requests", body=body,
                          receiver_ss58=VALIDATOR.ss58_address)
    forged["X-Bittensor-Hotkey"] = ALICE.ss58_address  # claims to be Alice, signed by Mallory
    async with serve_listener(store) as running:
        async with running.client() as http:
            claimed = await http.post("/v1/requests", content=body, headers=forged)
            unsigned = await http.post("/v1/requests", content=body)
        async with running.client(MALLORY) as http:
            foreign = await http.post("/v1/requests", content=body)  # Mallory's signature on Alice's request
    _refused(claimed, 401, "bad_signature")
    _refused(unsigned, 401, "bad_signature")
    _refused(foreign, 403, "not_the_requester", MALLORY.ss58_address)
    assert store.list_requests() == []


async def test_an_oversized_body_is_refused_before_it_is_read(store):
    huge = json.dumps({"spec": {**spec(), "description": "x" * k.LISTENER_MAX_BODY}}).encode()
    padded = request().canonical()[:-1] + b', "pad": "' + b"p" * MAX_REQUEST_BYTES + b'"}'  # past the schema bound
    async with serve_listener(store) as running, running.client(ALICE) as http:
        too_large = await http.post("/v1/requests", content=huge)
        over_schema = await http.post("/v1/requests", content=padded)
    _refused(too_large, 413, "request_too_large")
    _refused(over_schema, 422, "bad_request", "bytes")
    assert store.list_requests() == []


async def test_a_flood_is_refused_by_rate_and_by_the_pending_caps(store):
    async with serve_listener(store, limits=Limits(per_minute=1, burst=3)) as running, \
            running.client(ALICE) as http:
        answers = [await http.post("/v1/requests", content=request(f"flood-{i}").canonical()) for i in range(5)]
    assert [a.status_code for a in answers] == [201, 201, 201, 429, 429]
    _refused(answers[-1], 429, "rate_limited", "address")
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert len(store.list_requests()) == 3


async def test_one_requester_cannot_fill_the_validator(store):
    count = k.MAX_PENDING_PER_REQUESTER
    async with serve_listener(store, limits=Limits(per_minute=600, burst=100)) as running, \
            running.client(ALICE) as http:
        answers = [await http.post("/v1/requests", content=request(f"mine-{i}").canonical())
                   for i in range(count + 1)]
    assert [a.status_code for a in answers[:count]] == [201] * count
    _refused(answers[-1], 429, "requests_full", ALICE.ss58_address)
    assert len(store.list_requests()) == count


async def test_a_submission_flood_does_not_starve_reads_of_desirability_lists(store):
    body = b'{"entries":[]}'
    digest = hashlib.sha256(body).hexdigest()
    store.put_desirability_list(digest, body)
    async with serve_listener(store, limits=Limits(per_minute=1, burst=1, reads_per_minute=1, reads_burst=20)) \
            as running, running.client(ALICE) as http:
        flood = [await http.post("/v1/requests", content=request(f"flood-{i}").canonical()) for i in range(3)]
        reads = [await http.get(f"/v1/desirability/{digest}") for _ in range(20)]
        over = await http.get(f"/v1/desirability/{digest}")
    assert [a.status_code for a in flood] == [201, 429, 429]
    assert {r.status_code for r in reads} == {200}
    _refused(over, 429, "rate_limited", "address")
