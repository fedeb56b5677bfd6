"""The miner store's Alembic revisions on SQLite and PostgreSQL: a store written at an older revision, with records
in it, upgrades in place and keeps every behaviour; the newest revision downgrades again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, column, insert, inspect, select, table

from miner.store import MIGRATIONS_DIR, Store, uri_key
from miner.store.codec import BodyCodec
from miner.store.tables import VERSION_TABLE, buckets, state
from miner.store.tables import records as records_table
from schemas import Record, utcnow
from storage import current, downgrade, make_engine, upgrade
from tests.miner.support import make_record

OLD = "0001_miner_store"
HEAD = "0002_narrow_record_keys"


FETCHED = utcnow() - timedelta(minutes=1)


def _records() -> list[Record]:
    """Two domains, and two versions of one uri (the second is a new record, not a duplicate)."""
    return [make_record(1, fetched_at=FETCHED), make_record(1, version=1, fetched_at=FETCHED),
            *(make_record(i, fetched_at=FETCHED) for i in range(2, 6)),
            make_record(7, domain="world-news", source="feed", fetched_at=FETCHED)]


def _write_at_0001(engine: Engine, records: list[Record]) -> None:
    """Records, index and state as the store wrote them at revision 0001 (no hash_key column)."""
    rows = table("miner_records", *(column(name) for name in
                                    ("seq", "content_hash", "uri_key", "domain", "bucket_id", "text_bytes", "body")))
    codec = BodyCodec()
    bucket_ids: dict[tuple, int] = {}
    try:
        with engine.begin() as conn:
            for seq, rec in enumerate(records, start=1):
                key = (rec.domain, rec.source, rec.fetched_at.date())
                if key not in bucket_ids:
                    bucket_ids[key] = len(bucket_ids) + 1
                    conn.execute(insert(buckets).values(id=bucket_ids[key], domain=key[0], source=key[1], day=key[2],
                                                        count=0, bytes=0, newest_seq=0))
                conn.execute(buckets.update().where(buckets.c.id == bucket_ids[key]).values(
                    count=buckets.c.count + 1, bytes=buckets.c.bytes + rec.text_bytes, newest_seq=seq))
                conn.execute(insert(rows).values(
                    seq=seq, content_hash=bytes.fromhex(rec.content_hash), uri_key=uri_key(rec.uri),
                    domain=rec.domain, bucket_id=bucket_ids[key], text_bytes=rec.text_bytes,
                    body=codec.encode(rec.model_dump_json().encode())))
            conn.execute(state.update().where(state.c.id == 1).values(last_seq=len(records)))
    finally:
        codec.close()


@pytest.fixture
def store_at_0001(database_url) -> str:
    engine = make_engine(database_url)
    upgrade(engine, MIGRATIONS_DIR, VERSION_TABLE, revision=OLD)
    _write_at_0001(engine, _records())
    engine.dispose()
    return database_url


def test_a_0001_store_with_records_upgrades_and_keeps_every_behaviour(store_at_0001):
    records = _records()
    store = Store.open(store_at_0001)
    try:
        assert current(store.engine, MIGRATIONS_DIR, VERSION_TABLE) == HEAD
        assert [(seq, rec) for seq, rec in store.iter_records()] == list(enumerate(records, start=1))
        assert store.buckets() == store.recount() and store.total_count == len(records)

        by_uri = store.lookup(uris=[records[0].uri])
        assert [seq for seq, _ in by_uri] == [1, 2]
        by_hash = store.lookup(hashes=[records[3].content_hash, records[-1].content_hash, "00" * 32])
        assert [seq for seq, _ in by_hash] == [4, len(records)]

        again = store.add(records)
        assert (again.inserted, again.duplicates) == (0, len(records))
        assert store.row_count() == len(records)
        newer = store.add([make_record(1, version=2, fetched_at=FETCHED)])
        assert (newer.inserted, newer.newest_seq) == (1, len(records) + 1)
    finally:
        store.close()


def test_hash_keys_are_filled_from_the_stored_hashes(store_at_0001):
    engine = make_engine(store_at_0001)
    upgrade(engine, MIGRATIONS_DIR, VERSION_TABLE)
    with engine.connect() as conn:
        pairs = conn.execute(select(records_table.c.content_hash, records_table.c.hash_key)).all()
    engine.dispose()
    assert len(pairs) == len(_records())
    assert all(bytes(key) == bytes(digest)[:8] for digest, key in pairs)


def test_the_narrow_keys_downgrade_to_0001_with_the_records_intact(store_at_0001):
    engine = make_engine(store_at_0001)
    upgrade(engine, MIGRATIONS_DIR, VERSION_TABLE)
    downgrade(engine, MIGRATIONS_DIR, VERSION_TABLE, OLD)
    assert current(engine, MIGRATIONS_DIR, VERSION_TABLE) == OLD
    found = inspect(engine)
    assert "hash_key" not in {c["name"] for c in found.get_columns("miner_records")}
    assert {"ix_miner_records_uri_key", "ix_miner_records_domain_seq"} <= {
        i["name"] for i in found.get_indexes("miner_records")}
    unique = found.get_unique_constraints("miner_records")
    assert [c["column_names"] for c in unique] == [["content_hash", "uri_key"]]
    engine.dispose()

    store = Store.open(store_at_0001)  # and up again
    try:
        assert [rec for _, rec in store.iter_records()] == _records()
        assert store.add(_records()).inserted == 0
    finally:
        store.close()
