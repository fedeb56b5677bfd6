"""The record store on SQLite and PostgreSQL: seq, idempotence, index, pages, lookups, pruning."""

from __future__ import annotations

from datetime import timedelta

import pytest

from miner import wire
from miner.store import PageTooSmall, Store
from miner.store import training as store_module
from schemas import MinerIndex, StorageError, utcnow
from schemas.protocol import LookupResponse, RecordsResponse
from tests.miner.support import make_record


@pytest.fixture
def store(database_url):
    s = Store.open(database_url)
    yield s
    s.close()


def _all_seqs(store: Store) -> list[int]:
    return [seq for seq, _ in store.iter_records()]


def test_inserts_get_increasing_seq_from_one(store):
    result = store.add([make_record(i) for i in range(5)])
    assert (result.inserted, result.newest_seq) == (5, 5)
    assert _all_seqs(store) == [1, 2, 3, 4, 5]


def test_same_uri_and_content_is_stored_once(store):
    store.add([make_record(1), make_record(1), make_record(2)])
    result = store.add([make_record(1), make_record(2)])
    assert (result.inserted, result.duplicates) == (0, 2)
    assert store.row_count() == 2 and store.newest_seq == 2


def test_changed_content_at_the_same_uri_is_a_new_version(store):
    store.add([make_record(1)])
    store.add([make_record(1, version=1)])
    versions = [rec for _, rec in store.iter_records()]
    assert len(versions) == 2
    assert versions[0].uri == versions[1].uri and versions[0].content_hash != versions[1].content_hash


def test_stored_records_round_trip_exactly(store):
    originals = [make_record(i, domain="world-news", source="feed") for i in range(3)]
    store.add(originals)
    assert [rec for _, rec in store.iter_records()] == originals


def test_pages_serve_each_record_as_its_model_dump_json_bytes(store):
    originals = [make_record(i, words=200) for i in range(300)]  # enough to compress on the codec threads
    store.add(originals)
    page = store.page(0, limit=1_000, max_bytes=2**30)
    assert [raw for _, raw in page.items] == [rec.model_dump_json().encode() for rec in originals]


def test_index_is_maintained_per_domain_source_day_and_equals_a_recount(store):
    today = utcnow() - timedelta(minutes=1)
    store.add([make_record(i, fetched_at=today) for i in range(4)])
    store.add([make_record(i, domain="world-news", source="feed", fetched_at=today - timedelta(days=1))
               for i in range(3)])
    store.add([make_record(9)])
    buckets = store.buckets()
    assert [(b.domain, b.source, b.count) for b in buckets] == [("ml-research", "web", 5), ("world-news", "feed", 3)]
    assert buckets[0].newest_seq == 8
    assert buckets == store.recount()


def test_index_totals_and_digest_match_the_buckets(store):
    records = [make_record(i) for i in range(6)]
    store.add(records)
    index = store.index("5Hotkey")
    assert isinstance(index, MinerIndex)
    assert index.total_count == 6 and index.total_bytes == sum(r.text_bytes for r in records)
    assert index.newest_seq == 6
    assert MinerIndex.model_validate_json(store.index_json("5Hotkey")) == index


def test_cursor_pages_return_every_record_exactly_once(store):
    store.add([make_record(i) for i in range(23)])
    seen, cursor, more = [], 0, True
    while more:
        page = store.page(cursor, limit=5, max_bytes=1024 * 1024)
        seen += [seq for seq, _ in page.items]
        cursor, more = page.next_seq, page.more
    assert seen == list(range(1, 24))


def test_a_page_never_exceeds_max_bytes(store):
    store.add([make_record(i, words=200) for i in range(30)])
    page = store.page(0, limit=1000, max_bytes=8 * 1024)
    body = wire.encode_page(page.items, page.next_seq, page.more)
    assert len(body) <= 8 * 1024 and page.more
    parsed = RecordsResponse.model_validate_json(body)
    assert [r.seq for r in parsed.records] == [seq for seq, _ in page.items]


def test_a_record_larger_than_the_page_budget_is_refused_with_the_size_needed(store):
    store.add([make_record(1, words=400)])
    with pytest.raises(PageTooSmall) as info:
        store.page(0, limit=10, max_bytes=1024)
    assert info.value.needed > 1024 and str(info.value.needed) in info.value.hint


def test_domain_filter_pages_only_that_domain(store):
    store.add([make_record(i, domain="ml-research" if i % 2 else "world-news") for i in range(10)])
    page = store.page(0, limit=100, max_bytes=1024 * 1024, domain="world-news")
    records = RecordsResponse.model_validate_json(wire.encode_page(page.items, page.next_seq, page.more)).records
    assert {r.record.domain for r in records} == {"world-news"} and len(records) == 5


def test_empty_page_keeps_the_cursor(store):
    store.add([make_record(1)])
    page = store.page(1, limit=10, max_bytes=4096)
    assert (page.items, page.next_seq, page.more) == ([], 1, False)


def test_lookup_by_uri_returns_every_version_and_by_hash_the_match(store):
    store.add([make_record(1), make_record(1, version=1), make_record(2), make_record(3)])
    by_uri = LookupResponse.model_validate_json(wire.encode_lookup(store.lookup(uris=[make_record(1).uri])))
    assert [r.seq for r in by_uri.records] == [1, 2]
    by_hash = store.lookup(hashes=[make_record(3).content_hash, "00" * 32])
    assert [seq for seq, _ in by_hash] == [4]


def test_byte_cap_prunes_the_oldest_and_keeps_the_index_consistent(database_url):
    records = [make_record(i, words=100) for i in range(40)]
    cap = sum(r.text_bytes for r in records[:10])
    store = Store.open(database_url, max_bytes=cap)
    try:
        for start in range(0, 40, 4):
            result = store.add(records[start:start + 4])
            assert store.total_bytes <= cap
        assert result.newest_seq == 40
        seqs = _all_seqs(store)
        assert seqs == list(range(seqs[0], 41)) and seqs[0] > 1
        assert store.buckets() == store.recount()
        assert store.index("hk").total_bytes == store.total_bytes
    finally:
        store.close()


def test_retention_drops_expired_days_and_their_buckets(database_url):
    old = utcnow() - timedelta(days=40)
    store = Store.open(database_url, retention_days=30)
    try:
        store.add([make_record(i, fetched_at=old) for i in range(3)])
        store.add([make_record(i + 10) for i in range(2)])
        assert [b.day for b in store.buckets()] == [(utcnow() - timedelta(minutes=1)).date()]
        assert _all_seqs(store) == [4, 5]
        assert store.buckets() == store.recount()
    finally:
        store.close()


def test_seq_continues_after_reopen_even_when_everything_was_pruned(database_url):
    store = Store.open(database_url)
    store.add([make_record(i, fetched_at=utcnow() - timedelta(days=40)) for i in range(3)])
    store.close()
    reopened = Store.open(database_url, retention_days=30)
    try:
        assert reopened.prune() == 3 and reopened.total_count == 0
        assert reopened.add([make_record(7)]).newest_seq == 4
        assert reopened.index("hk").newest_seq == 4
    finally:
        reopened.close()


def test_records_compressed_with_a_trained_dictionary_read_back(database_url, monkeypatch):
    monkeypatch.setattr(store_module, "DICT_TRAIN_AFTER", 300)
    store = Store.open(database_url)
    records = [make_record(i, words=120) for i in range(600)]
    try:
        store.add(records[:300])
        store.wait_background()
        store.add(records[300:])
        assert store._codec.current_dictionary == 1
    finally:
        store.close()
    reopened = Store.open(database_url)
    try:
        assert [rec for _, rec in reopened.iter_records()] == records
    finally:
        reopened.close()


def test_a_second_writer_is_refused_until_the_first_closes(database_url):
    first, second = Store.open(database_url), Store.open(database_url)
    try:
        first.claim_writer()
        with pytest.raises(StorageError) as info:
            second.claim_writer()
        assert "another miner" in info.value.message
        first.close()
        second.claim_writer()
    finally:
        first.close()
        second.close()


def test_disk_bytes_grow_with_the_records(store):
    empty = store.disk_bytes()
    store.add([make_record(i, words=300) for i in range(200)])
    assert store.disk_bytes() > empty > 0


def test_a_damaged_body_is_a_storage_error_not_garbage():
    from miner.store.codec import BodyCodec

    codec = BodyCodec()
    body = codec.encode(make_record(1, words=100).model_dump_json().encode())
    with pytest.raises(StorageError):
        codec.decode(body[:-5])
    codec.close()
