"""The cheap rungs of the ladder: the page envelope, each record's schema, source, quality and relevance."""

from __future__ import annotations

import json

import pytest

from schemas.domain import DomainCatalog
from schemas.protocol import RecordsRequest
from schemas.record import Record, utcnow
from tests.validator.harness import DOMAIN, acceptable_records, write_domains
from validator.client import MinerError
from validator.ladder import Ladder, judge_page, judge_record

REQUEST = RecordsRequest(after_seq=10, domain=DOMAIN, limit=5)


@pytest.fixture(scope="module")
def catalog(web, tmp_path_factory) -> DomainCatalog:
    return DomainCatalog.load([write_domains(web, tmp_path_factory.mktemp("domains"))])


@pytest.fixture
async def good(web, catalog) -> list[Record]:
    return (await acceptable_records(web, catalog.get(DOMAIN)))[:3]


def _page(items, next_seq: int = 13, more: bool = False) -> bytes:
    return json.dumps({"records": items, "next_seq": next_seq, "more": more}).encode()


def _items(records, first: int = 11) -> list[dict]:
    return [{"seq": first + i, "record": r.model_dump(mode="json")} for i, r in enumerate(records)]


def _judge(body: bytes, catalog, request=REQUEST):
    return judge_page(7, body, request, catalog, utcnow())


def test_good_records_become_candidates_with_their_signals(good, catalog):
    verdict = _judge(_page(_items(good)), catalog)
    assert [c.record for c in verdict.candidates] == good and not verdict.rejected
    first = verdict.candidates[0]
    assert first.key == "7:11" and 0 < first.quality <= 1 and 0 < first.relevance <= 1 and first.signals
    assert (verdict.next_seq, verdict.more, verdict.received) == (13, False, 3)


@pytest.mark.parametrize(("body", "reason"), [
    (b"<html>", "malformed_json"),
    (json.dumps({"records": [], "next_seq": 13}).encode(), "bad_schema"),
    (json.dumps({"records": [], "next_seq": 13, "more": False, "extra": 1}).encode(), "bad_schema"),
    (json.dumps({"records": {}, "next_seq": 13, "more": False}).encode(), "bad_schema"),
    (json.dumps({"records": [], "next_seq": "13", "more": False}).encode(), "bad_schema"),
    (json.dumps({"records": [{}] * 6, "next_seq": 16, "more": False}).encode(), "too_many_records"),
    (json.dumps({"records": [], "next_seq": 3, "more": False}).encode(), "bad_cursor"),
    (json.dumps({"records": [], "next_seq": 10, "more": True}).encode(), "bad_cursor"),
])
def test_a_malformed_envelope_refuses_the_whole_page(body, reason, catalog):
    with pytest.raises(MinerError) as info:
        _judge(body, catalog)
    assert info.value.reason == reason


def test_a_changed_text_is_a_hash_mismatch(good, catalog):
    items = _items(good[:1])
    items[0]["record"]["text"] += " And one more sentence that was not hashed."
    assert _judge(_page(items, 11), catalog).rejected == {(DOMAIN, "hash_mismatch"): 1}


def test_a_non_canonical_uri_is_rejected(good, catalog):
    items = _items(good[:1])
    items[0]["record"]["uri"] = items[0]["record"]["uri"] + "?utm_source=x"
    assert _judge(_page(items, 11), catalog).rejected == {(DOMAIN, "uri_not_canonical"): 1}


def test_a_record_published_after_it_was_fetched_is_rejected_for_it(good, catalog):
    items = _items(good[:1])
    items[0]["record"]["fetched_at"] = "2025-01-01T00:00:00Z"
    items[0]["record"]["published_at"] = "2025-01-02T00:00:00Z"  # claimed fresh: a date the page could not show
    assert _judge(_page(items, 11), catalog).rejected == {(DOMAIN, "published_after_fetched"): 1}


def test_a_record_with_unknown_fields_is_a_schema_rejection(good, catalog):
    items = _items(good[:1])
    items[0]["record"]["score"] = 1.0
    assert _judge(_page(items, 11), catalog).rejected == {(DOMAIN, "schema"): 1}


def test_seq_outside_the_page_is_rejected(good, catalog):
    items = _items(good[:2])
    items[1]["seq"] = 5  # before the cursor
    assert _judge(_page(items, 12), catalog).rejected == {(DOMAIN, "bad_seq"): 1}


def test_a_record_of_another_domain_is_rejected(good, catalog):
    other = Record.build(uri=good[0].uri, text=good[0].text, title=good[0].title, source="web",
                         domain="python-stdlib")
    assert _judge(_page(_items([other]), 11), catalog).rejected == {(DOMAIN, "wrong_domain"): 1}


def test_a_url_no_source_of_the_domain_covers_is_rejected(good, catalog):
    elsewhere = Record.build(uri="https://example.com/some/page", text=good[0].text, title=good[0].title,
                             source="web", domain=DOMAIN)
    assert _judge(_page(_items([elsewhere]), 11), catalog).rejected == {(DOMAIN, "unknown_source"): 1}


def test_low_quality_text_is_rejected_with_the_rule_that_failed(good, catalog):
    junk = Record.build(uri=good[0].uri, text="\n".join(["python python python"] * 60), title="python",
                        source="web", domain=DOMAIN)
    [(key, count)] = _judge(_page(_items([junk]), 11), catalog).rejected.items()
    assert count == 1 and key[1].startswith(("quality:", "relevance:", "keyword_stuffing"))


def test_a_mixed_page_gives_each_record_the_verdict_it_gets_alone(good, catalog):
    """The page runs rung by rung (quality for every admitted record, then relevance); each record must still
    get exactly the verdict `judge_record` gives it on its own, in page order."""
    junk = Record.build(uri=good[0].uri, text="\n".join(["python python python"] * 60), title="python",
                        source="web", domain=DOMAIN)
    elsewhere = Record.build(uri="https://example.com/some/page", text=good[1].text, title=good[1].title,
                             source="web", domain=DOMAIN)
    records = [good[0], junk, elsewhere, good[1], good[2]]
    items = _items(records)
    items[3]["record"]["text"] += " Not hashed."
    request = RecordsRequest(after_seq=10, domain=DOMAIN, limit=10)
    verdict = _judge(_page(items, 15), catalog, request)
    now = utcnow()
    alone = [judge_record(7, item["seq"], item["record"], catalog.get(DOMAIN), now) for item in items]
    assert [c.key for c in verdict.candidates] == [c.key for c, _ in alone if c is not None] == ["7:11", "7:15"]
    assert [c.signals for c in verdict.candidates] == [c.signals for c, _ in alone if c is not None]
    assert sorted(verdict.rejected.elements()) == sorted((DOMAIN, reason) for c, reason in alone if c is None)
    assert len(list(verdict.rejected.elements())) == 3


async def test_the_ladder_runs_in_worker_processes(good, catalog):
    ladder = Ladder(catalog, processes=1)
    try:
        await ladder.start()
        verdict = await ladder.judge(7, _page(_items(good)), REQUEST, utcnow())
    finally:
        ladder.close()
    assert [c.record for c in verdict.candidates] == good


async def test_a_malformed_page_judged_in_a_worker_is_refused_not_a_broken_pool(good, catalog):
    ladder = Ladder(catalog, processes=1)
    try:
        with pytest.raises(MinerError) as info:
            await ladder.judge(7, b"{not json", REQUEST, utcnow())
        verdict = await ladder.judge(7, _page(_items(good)), REQUEST, utcnow())  # the pool still works
    finally:
        ladder.close()
    assert info.value.reason == "malformed_json" and len(verdict.candidates) == len(good)
