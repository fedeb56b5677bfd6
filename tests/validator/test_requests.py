"""Dataset requests at one validator: one id per request on every node, kept on SQLite and PostgreSQL, decided by
the operator or the policy, expired at their deadline and done at their target."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from schemas.config import RequestPolicy
from schemas.errors import RequestError
from schemas.record import Record
from schemas.request import DatasetRequest, parse_request
from storage import current, downgrade, upgrade
from tests.validator.requests_support import ALICE, request, spec
from validator.request_checks import check_request
from validator.requests import RequestDesk, UnknownRequest
from validator.store import MIGRATIONS, VERSION_TABLE, Accepted, MinerCommit, ValidatorStore

NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def store(database_url):
    opened = ValidatorStore.open(database_url)
    yield opened
    opened.close()


def test_the_id_is_the_same_for_any_key_order_and_spelling_of_the_same_request():
    wanted = request(deadline=datetime(2027, 1, 1, 2, tzinfo=UTC) + timedelta(hours=0))
    data = json.loads(wanted.canonical())
    shuffled = {key: data[key] for key in reversed(list(data))}
    shuffled["spec"] = {key: shuffled["spec"][key] for key in reversed(list(shuffled["spec"]))}
    shuffled["deadline"] = "2027-01-01T04:00:00+02:00"  # the same instant in another zone
    again = parse_request(json.dumps(shuffled, indent=2).encode())
    assert again.request_id == wanted.request_id and again.canonical() == wanted.canonical()
    assert len(wanted.request_id) == 64 and wanted.spec["quality"]["min_words"] == 50  # defaults filled in


def test_a_request_and_its_decisions_survive_on_the_database(store):
    wanted = request(deadline=datetime.now(UTC) + timedelta(days=3))
    assert store.add_request(wanted, NOW) is True and store.add_request(wanted, NOW) is False
    assert store.set_request_status(wanted.request_id, "adopted", decided_by="operator", weight=1.5, reason="ok")
    [kept] = store.list_requests("adopted")
    assert (kept.request, kept.status, kept.weight, kept.decided_by) == (wanted, "adopted", 1.5, "operator")
    assert store.adopted_requests() == [(wanted.request_id, wanted.domain, 1.5, wanted.deadline)]
    assert store.get_request("f" * 64) is None and not store.set_request_status("f" * 64, "declined", decided_by="x")


def test_requests_past_their_deadline_expire_and_no_others(store):
    soon, later, never = (request(d, deadline=NOW + delta) for d, delta in
                          (("soon-domain", timedelta(hours=1)), ("later-domain", timedelta(days=2)),
                           ("never-domain", timedelta(days=400))))
    for wanted in (soon, later, never):
        store.add_request(wanted, NOW)
    desk = RequestDesk(store, RequestPolicy(), local=True)
    expired, done = desk.sweep(NOW + timedelta(hours=2))
    assert (expired, done) == ([soon.request_id], [])
    assert {r.domain: r.status for r in store.list_requests()} == {
        "soon-domain": "expired", "later-domain": "pending", "never-domain": "pending"}


def _accept(store: ValidatorStore, domain: str, count: int) -> None:
    accepted = [Accepted(record=Record.build(uri=f"https://example.org/{i}", text=f"Page {i} on async runtimes.",
                                             source="web", domain=domain, title=f"P{i}"),
                         quality=0.9, relevance=0.8, novelty=1.0, freshness=1.0, size=0.5, desirability=1.0,
                         value=0.3, signals={"gopher_min_words": 5.0}, minhash=bytes([i]) * 16) for i in range(count)]
    store.sync_miners({1: "hk1"}, 0.1)
    store.commit_miner(MinerCommit(uid=1, hotkey="hk1", step=1, validator_hotkey="v", credibility=0.5, score=0.1,
                                   step_score=0.2, cursors={domain: count}, accepted=accepted, pulled=count,
                                   rejected=Counter()))


def test_an_adopted_request_is_done_once_its_target_is_accepted_and_its_state_says_so(store):
    desk = RequestDesk(store, RequestPolicy(adopt_hotkeys=[ALICE.ss58_address]), local=True)
    wanted = request(target={"records": 3})
    assert desk.receive(wanted, NOW).status == "adopted"
    _accept(store, "rust-async", 2)
    assert desk.sweep(NOW) == ([], [])
    _accept(store, "rust-async", 3)
    assert desk.sweep(NOW) == ([], [wanted.request_id])
    state = desk.state(wanted.request_id)
    assert (state.status, state.accepted_records, state.accepted_words) == ("done", 3, 15)


def test_the_operator_adopts_and_declines_by_hand(store):
    desk = RequestDesk(store, RequestPolicy(), local=True)
    wanted = request()
    desk.receive(wanted, NOW)
    assert desk.adopt(wanted.request_id, 3.0).status == "adopted"
    declined = desk.decline(wanted.request_id, "not our field")
    assert (declined.status, declined.reason, declined.decided_by) == ("declined", "not our field", "operator")
    assert store.adopted_requests() == []
    with pytest.raises(RequestError, match="weight"):
        desk.adopt(wanted.request_id, 0.0)
    with pytest.raises(UnknownRequest):
        desk.decline("0" * 64)


def test_a_request_may_not_take_a_builtin_or_adopted_domain_id(store):
    desk = RequestDesk(store, RequestPolicy(adopt_hotkeys=[ALICE.ss58_address]), local=True,
                       builtin=("python-ecosystem",))
    with pytest.raises(RequestError, match="already collects"):
        desk.receive(request("python-ecosystem"), NOW)
    desk.receive(request(), NOW)
    other = DatasetRequest(spec={**spec(), "title": "Another spec, same id"}, requester=ALICE.ss58_address,
                           target={"words": 10})
    with pytest.raises(RequestError, match="rust-async"):
        desk.receive(other, NOW)


def test_a_deadline_must_be_ahead_and_within_a_year():
    with pytest.raises(RequestError, match="has passed"):
        check_request(request(deadline=NOW - timedelta(seconds=1)), local=True, now=NOW)
    with pytest.raises(RequestError, match="days ahead"):
        check_request(request(deadline=NOW + timedelta(days=366)), local=True, now=NOW)


def test_a_sound_request_passes_in_both_modes_and_loopback_only_locally():
    assert check_request(request(), local=False).id == "rust-async"
    loopback = spec(kind="web", params={"seeds": ["http://127.0.0.1:8799/site/"],
                                        "allow_patterns": ["^http://127\\.0\\.0\\.1:8799/site/"]})
    assert check_request(request(spec=loopback), local=True).id == "rust-async"
    with pytest.raises(RequestError, match="127.0.0.1"):
        check_request(request(spec=loopback), local=False)


def test_migration_0004_goes_back_and_forth(database_url):
    store = ValidatorStore.open(database_url)
    store.add_request(request(), NOW)
    downgrade(store.engine, MIGRATIONS, VERSION_TABLE, "0003_validator_versions")
    assert current(store.engine, MIGRATIONS, VERSION_TABLE) == "0003_validator_versions"
    upgrade(store.engine, MIGRATIONS, VERSION_TABLE, "0004_validator_requests")
    assert store.list_requests() == []
    store.close()


def test_an_adopted_request_past_its_deadline_leaves_the_adopted_list_before_any_sweep(store):
    now = datetime.now(UTC)
    for domain, delta in (("past-domain", timedelta(hours=-1)), ("ahead-domain", timedelta(days=1))):
        wanted = request(domain, deadline=now + delta)
        store.add_request(wanted, NOW)
        store.set_request_status(wanted.request_id, "adopted", decided_by="operator", weight=1.0)
    assert [spec.id for _, spec, _, _ in store.adopted_requests()] == ["ahead-domain"]


async def test_the_dashboard_lists_requests_newest_first_with_what_was_accepted(store):
    import httpx

    from validator.metrics import ValidatorMetrics
    from validator.web import HttpServer, build_app

    first, second = request("first-domain", target={"words": 100}), request("second-domain")
    store.add_request(first, NOW)
    store.add_request(second, NOW + timedelta(minutes=1))
    store.set_request_status(first.request_id, "adopted", decided_by="policy", weight=2.0)
    _accept(store, "first-domain", 2)
    server = HttpServer(build_app(store, ValidatorMetrics(), "5Val"), "127.0.0.1", 0)
    server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            rows = (await http.get("/api/dashboard/requests")).json()
            page = (await http.get("/dashboard")).text
    finally:
        await server.stop()
    assert [(r["domain"], r["status"], r["weight"]) for r in rows] == [
        ("second-domain", "pending", None), ("first-domain", "adopted", 2.0)]
    assert (rows[1]["accepted_records"], rows[1]["accepted_words"], rows[1]["target"]) == (2, 10, {"words": 100})
    assert 'id="requests"' in page
