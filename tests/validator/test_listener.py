"""The validator's public listener over real uvicorn on loopback: signed requests in, their state, desirability
lists by hash and a miner's signed feedback out."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest

from schemas.config import GleanConfig, RequestPolicy
from schemas.errors import ConfigError
from schemas.record import Record
from schemas.request import Feedback, RequestState, SubmitAnswer
from tests.validator.requests_support import ALICE, MALLORY, request, serve_listener
from validator.listener import announce_ip
from validator.store import Accepted, MinerCommit, ValidatorStore


@pytest.fixture
def store(tmp_path):
    opened = ValidatorStore.open(f"sqlite:///{tmp_path / 'validator.sqlite'}")
    yield opened
    opened.close()


async def test_a_signed_request_is_kept_pending_and_its_state_is_served(store):
    wanted = request()
    async with serve_listener(store) as running, running.client(ALICE) as http:
        answer = await http.post("/v1/requests", content=wanted.canonical())
        again = await http.post("/v1/requests", content=wanted.canonical())
        state = await http.get(f"/v1/requests/{wanted.request_id}")
    assert answer.status_code == 201, answer.text
    assert SubmitAnswer.model_validate_json(answer.content) == SubmitAnswer(
        request_id=wanted.request_id, status="pending", created=True)
    assert again.status_code == 200 and again.json()["created"] is False
    seen = RequestState.model_validate_json(state.content)
    assert (seen.status, seen.domain, seen.accepted_records) == ("pending", "rust-async", 0)
    assert [r.request_id for r in store.list_requests()] == [wanted.request_id]


async def test_the_policy_adopts_a_listed_requester_with_its_weight(store):
    policy = RequestPolicy(adopt_hotkeys=[ALICE.ss58_address], weight=2.5)
    async with serve_listener(store, policy=policy) as running, running.client(ALICE) as http:
        answer = await http.post("/v1/requests", content=request().canonical())
    assert answer.json()["status"] == "adopted"
    [(request_id, spec, weight, deadline)] = store.adopted_requests()
    assert (request_id, spec.id, weight, deadline) == (answer.json()["request_id"], "rust-async", 2.5, None)


async def test_the_policy_adopts_by_stake_only_at_or_above_its_floor(store):
    policy = RequestPolicy(min_stake=100.0)
    stake = {ALICE.ss58_address: 100.0, MALLORY.ss58_address: 99.0}
    async with serve_listener(store, policy=policy, stake=stake) as running:
        async with running.client(ALICE) as http:
            rich = await http.post("/v1/requests", content=request("rich-domain").canonical())
        async with running.client(MALLORY) as http:
            poor = await http.post("/v1/requests", content=request("poor-domain", requester=MALLORY).canonical())
    assert (rich.json()["status"], poor.json()["status"]) == ("adopted", "pending")


async def test_the_policy_stops_adopting_at_its_cap(store):
    policy = RequestPolicy(adopt_hotkeys=[ALICE.ss58_address], max_active_requests=1)
    async with serve_listener(store, policy=policy) as running, running.client(ALICE) as http:
        first = await http.post("/v1/requests", content=request("first-domain").canonical())
        second = await http.post("/v1/requests", content=request("second-domain").canonical())
    assert (first.json()["status"], second.json()["status"]) == ("adopted", "pending")


async def test_desirability_lists_are_served_by_hash_as_stored(store):
    body = b'{"entries":[]}'
    digest = hashlib.sha256(body).hexdigest()
    store.put_desirability_list(digest, body)
    async with serve_listener(store) as running, running.client() as http:
        found = await http.get(f"/v1/desirability/{digest}")
        missing = await http.get(f"/v1/desirability/{'0' * 64}")
    assert found.status_code == 200 and found.content == body
    assert found.headers["content-type"] == "application/json"
    assert missing.status_code == 404 and missing.json()["error"] == "unknown_list"


def test_a_list_is_kept_only_under_the_hash_of_its_bytes(store):
    with pytest.raises(ValueError, match="do not hash"):
        store.put_desirability_list("0" * 64, b"{}")
    assert store.desirability_list("0" * 64) is None


def _commit_miner(store: ValidatorStore, hotkey: str) -> None:
    record = Record.build(uri="https://example.org/a", text="An accepted page about async runtimes.", source="web",
                          domain="rust-async", title="A")
    accepted = Accepted(record=record, quality=0.9, relevance=0.8, novelty=1.0, freshness=1.0, size=0.5,
                        desirability=1.0, value=0.36, signals={"gopher_min_words": 6.0}, minhash=b"\x01" * 16)
    store.sync_miners({4: hotkey}, 0.1)
    store.commit_miner(MinerCommit(uid=4, hotkey=hotkey, step=1, validator_hotkey="v", credibility=0.5, score=0.1,
                                   step_score=0.2, cursors={"rust-async": 1}, accepted=[accepted], pulled=3,
                                   rejected=Counter({("rust-async", "quality:gopher_min_words"): 2}),
                                   verification={"pass": 1, "unverified": 1},
                                   unverified_uris=["https://example.org/gone", "https://example.org/moved"]))


async def test_a_miner_gets_its_own_feedback_signed_and_nobody_unsigned(store):
    _commit_miner(store, ALICE.ss58_address)
    async with serve_listener(store) as running:
        async with running.client(ALICE) as http:
            signed = await http.get("/v1/feedback")
        async with running.client() as http:
            unsigned = await http.get("/v1/feedback")
    mine = Feedback.model_validate_json(signed.content)
    assert (mine.uid, mine.accepted, mine.rejected) == (4, 1, {"quality:gopher_min_words": 2})
    assert mine.verification["pass"] == 1 and mine.verification["unverified"] == 1
    assert mine.unverified_uris == ["https://example.org/moved", "https://example.org/gone"]  # newest first
    assert unsigned.status_code == 401 and unsigned.json()["error"] == "bad_signature"


def test_outside_local_mode_the_announced_listener_address_must_be_public():
    config = GleanConfig(chain={"kind": "bittensor"}, validator={"listener_external_ip": "10.0.0.5"})
    with pytest.raises(ConfigError, match="not a public|private"):
        announce_ip(config)
    with pytest.raises(ConfigError, match="no external address"):
        announce_ip(GleanConfig(chain={"kind": "bittensor"}))
    assert announce_ip(GleanConfig(chain={"kind": "bittensor"},
                                   validator={"listener_external_ip": "8.8.8.8"})) == "8.8.8.8"
    assert announce_ip(GleanConfig()) == "127.0.0.1"


def test_unverified_uris_are_bounded_and_never_shown_to_the_next_holder_of_the_uid(store):
    from validator.constants import FEEDBACK_UNVERIFIED_URIS

    store.sync_miners({4: ALICE.ss58_address}, 0.1)
    for step in range(3):
        uris = [f"https://example.org/{step}/{i}" for i in range(FEEDBACK_UNVERIFIED_URIS // 2)]
        store.commit_miner(MinerCommit(uid=4, hotkey=ALICE.ss58_address, step=step, validator_hotkey="v",
                                       credibility=0.5, score=0.1, step_score=0.1, unverified_uris=uris))
    kept = store.unverified_uris(4, ALICE.ss58_address)
    assert len(kept) == FEEDBACK_UNVERIFIED_URIS and kept[0] == f"https://example.org/2/{len(uris) - 1}"
    assert store.unverified_uris(4, MALLORY.ss58_address) == []
