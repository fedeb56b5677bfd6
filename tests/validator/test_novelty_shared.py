"""The shared novelty index on PostgreSQL: chosen by configuration, kept in step with the accepted store across
restarts and scoring versions, and one claim of new content across several validator processes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from glean.config import load_config
from schemas.errors import ConfigError, StorageError
from schemas.version import SCORING_VERSION
from scoring import Delivery, signature
from tests.validator.harness import local_net, real_miner
from tests.validator.test_corpus import TEXT, _accept, _is_duplicate, _record
from validator import corpus as corpus_module
from validator.corpus import Corpus
from validator.novelty_pg import BANDS, PgNoveltyIndex
from validator.service import Validator
from validator.store import ValidatorStore

pytestmark = pytest.mark.postgres


@pytest.fixture
def url(postgres_url: str) -> str:
    from tests.scoring.backends import fresh_database

    return fresh_database(postgres_url)


@pytest.fixture
def store(url: str):
    s = ValidatorStore.open(url)
    s.sync_miners({1: "hk"}, 0.1)
    yield s
    s.close()


def _shared(store: ValidatorStore, tmp_path: Path) -> Corpus:
    corpus = Corpus(store, tmp_path / "novelty.snapshot", backend="postgres", hotkey="5Hotkey")
    corpus.open()
    return corpus


def test_committed_rows_make_later_deliveries_duplicates(store, tmp_path):
    corpus = _shared(store, tmp_path)
    corpus.add(_accept(store, range(3)))
    assert len(corpus) == 3 and _is_duplicate(corpus, 1) and not _is_duplicate(corpus, 7)
    assert not (tmp_path / "novelty.snapshot").exists()


def test_a_restart_finds_the_index_in_the_database_and_catches_up(store, tmp_path):
    corpus = _shared(store, tmp_path)
    corpus.add(_accept(store, range(3)))
    corpus.flush()
    _accept(store, range(3, 5))  # committed, then the process died before the index heard of them
    again = _shared(store, tmp_path)
    assert again.loaded_from == "database" and len(again) == 5 and _is_duplicate(again, 4)


def test_a_new_scoring_version_rebuilds_the_shared_index(store, tmp_path, monkeypatch):
    _shared(store, tmp_path).add(_accept(store, range(3)))
    monkeypatch.setattr(corpus_module, "SCORING_VERSION", SCORING_VERSION + 1)
    again = _shared(store, tmp_path)
    assert again.loaded_from == "rebuilt" and len(again) == 3 and _is_duplicate(again, 2)


def test_stored_signatures_of_another_format_are_signed_again(store, tmp_path):
    _accept(store, range(4), sign=lambda text: b"OLD-FORMAT" + text.encode()[:32])
    corpus = _shared(store, tmp_path)
    assert corpus.loaded_from == "rebuilt" and len(corpus) == 4
    assert _is_duplicate(corpus, 3) and not _is_duplicate(corpus, 9)


def _rows(ids: range) -> list[tuple[str, str, bytes]]:
    return [(str(i), _record(i).content_hash, signature(_record(i).text)) for i in ids]


def _band_key_indexed(store: ValidatorStore) -> bool:
    """Whether every band partition carries the (band_key, doc_id) primary key lookups go through."""
    with store.engine.connect() as conn:
        return bool(conn.execute(sa.text(
            "SELECT bool_and(EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = p.relid AND i.indisprimary)) "
            f"FROM pg_partition_tree('{BANDS}') p WHERE p.isleaf")).scalar_one())


def _waiting_on_a_lock(store: ValidatorStore) -> int:
    """Sessions of the test database waiting for a lock, once one does (or after 30 s: then 0)."""
    waiting = sa.text("SELECT count(*) FROM pg_locks WHERE NOT granted "
                      "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
    with store.engine.connect() as conn:
        deadline = time.monotonic() + 30
        while (n := conn.execute(waiting).scalar_one()) == 0 and time.monotonic() < deadline:
            conn.commit()
            time.sleep(0.05)
        return n


def test_a_rebuild_replaces_the_index_and_builds_its_band_keys_again(store):
    index = PgNoveltyIndex(store.engine, "5Hotkey")
    index.add_many(_rows(range(100, 103)))
    assert index.rebuild(_rows(range(5)), batch=2) == 5
    assert len(index) == 5 and _band_key_indexed(store)
    near = _record(4).text + " Read more on the site."
    verdicts = index.assess_step([Delivery("q0", 9, _record(0).content_hash, _record(0).text),
                                  Delivery("q1", 9, "ff" * 32, near),
                                  Delivery("q2", 9, _record(100).content_hash, _record(100).text)])
    assert [(v.novelty, v.kind) for v in verdicts][:2] == [(0, "exact"), (0, "near")]
    assert verdicts[2].novelty == 1                                  # what the rebuild replaced is gone


def test_a_rebuild_that_fails_half_way_leaves_the_index_as_it_was(store):
    index = PgNoveltyIndex(store.engine, "5Hotkey")
    index.add_many(_rows(range(3)))
    bad = [*_rows(range(10, 14)), ("14", _record(14).content_hash, b"OLD-FORMAT")]
    with pytest.raises(StorageError, match="not this version"):
        index.rebuild(bad, batch=2)                                  # two batches in when the bad one comes
    assert len(index) == 3 and _band_key_indexed(store)
    [verdict] = index.assess_step([Delivery("q", 9, "ff" * 32, _record(2).text + " Read more.")])
    assert verdict.novelty == 0 and verdict.kind == "near"


def test_a_claim_of_another_process_waits_for_a_rebuild_and_sees_what_it_indexed(url, store):
    inside, go = threading.Event(), threading.Event()

    def rows():
        yield from _rows(range(2))
        inside.set()                                                 # the rebuild's transaction is open
        go.wait(timeout=30)
        yield from _rows(range(2, 4))

    rebuilt = threading.Thread(target=PgNoveltyIndex(store.engine, "5Hotkey").rebuild, args=(rows(),),
                               kwargs={"batch": 1})
    rebuilt.start()
    assert inside.wait(timeout=30)
    other = ValidatorStore.open(url)
    verdicts: list = []
    claim = threading.Thread(target=lambda: verdicts.extend(PgNoveltyIndex(other.engine, "5Hotkey").claim(
        [Delivery("b3", 2, _record(3).content_hash, _record(3).text)])))
    claim.start()
    assert _waiting_on_a_lock(store) == 1                           # the claim is blocked on the lock
    go.set()
    rebuilt.join(timeout=60)
    claim.join(timeout=60)
    other.close()
    assert [(v.novelty, v.kind) for v in verdicts] == [(0, "exact")]  # judged against the rebuilt index
    assert len(PgNoveltyIndex(store.engine)) == 4


def test_processes_upgraded_together_rebuild_the_shared_index_once(url, store, tmp_path, monkeypatch):
    """Two processes of one hotkey start under a new scoring version: the first rebuilds; the second, which read the
    old version before the first finished, asks again under the rebuild's lock and catches up instead."""
    _shared(store, tmp_path).add(_accept(store, range(3)))
    monkeypatch.setattr(corpus_module, "SCORING_VERSION", SCORING_VERSION + 1)
    inside, go = threading.Event(), threading.Event()
    first_store, second_store = ValidatorStore.open(url), ValidatorStore.open(url)
    read = first_store.novelty_rows

    def paused(after_id: int = 0, batch: int = 5_000):
        rows = list(read(after_id, batch))
        inside.set()                                                 # the first rebuild's transaction is open
        go.wait(timeout=30)
        yield from rows

    first_store.novelty_rows = paused
    first, second = (Corpus(s, tmp_path / f"novelty-{i}.snapshot", backend="postgres", hotkey="5Hotkey")
                     for i, s in enumerate((first_store, second_store)))
    rebuilt = threading.Thread(target=first.open)
    rebuilt.start()
    assert inside.wait(timeout=30)
    caught_up = threading.Thread(target=second.open)
    caught_up.start()
    assert _waiting_on_a_lock(store) == 1                           # the second waits on the hotkey's lock
    go.set()
    rebuilt.join(timeout=60)
    caught_up.join(timeout=60)
    first_store.close()
    second_store.close()
    assert (first.loaded_from, second.loaded_from) == ("rebuilt", "database")
    assert len(second) == 3 and second.watermark == first.watermark and _is_duplicate(second, 2)


def test_accepted_texts_are_read_by_key(store, tmp_path):
    corpus = _shared(store, tmp_path)
    rows = _accept(store, range(2))
    assert corpus.texts([str(rows[1][0]), "not-an-id", "999"]) == {str(rows[1][0]): _record(1).text}


def _claims(url: str, steps: list[list[Delivery]]) -> list[list]:
    """Each step claimed at once by its own index and engine (a validator process each), started together."""
    stores = [ValidatorStore.open(url) for _ in steps]
    ready = threading.Barrier(len(steps))
    results: list[list] = [[] for _ in steps]

    def claim(i: int) -> None:
        index = PgNoveltyIndex(stores[i].engine, "5Hotkey")
        ready.wait(timeout=30)
        results[i] = index.claim(steps[i])

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(steps))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for s in stores:
        s.close()
    return results


def test_two_processes_claiming_the_same_content_keep_it_once(url, store):
    texts = [TEXT.format(i=i) for i in range(6)]
    near = [t + " Read more on the site." for t in texts]
    a = [Delivery(f"a{i}", 1, _record(i).content_hash, t) for i, t in enumerate(texts)]
    b = [Delivery(f"b{i}", 2, f"{i:064x}", t) for i, t in enumerate(reversed(near))]
    first, second = _claims(url, [a, b])
    winner, loser = (first, second) if first[0].keep else (second, first)
    assert all(v.keep and v.novelty == 1 for v in winner)       # one order: all of one step's claims come first
    assert all(not v.keep and v.novelty == 0 and v.kind == "near" for v in loser)
    assert len(PgNoveltyIndex(store.engine)) == 6


def test_choosing_the_postgres_backend_with_sqlite_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("GLEAN_VALIDATOR__NOVELTY_BACKEND", "postgres")
    with pytest.raises(ConfigError, match="PostgreSQL|postgresql"):
        load_config(data_dir=tmp_path)
    monkeypatch.setenv("GLEAN_VALIDATOR__DATABASE_URL", "postgresql+psycopg://v@127.0.0.1/v")
    assert load_config(data_dir=tmp_path).validator.novelty_backend == "postgres"


async def test_a_validator_on_the_shared_index_refuses_copies_after_a_restart(tmp_path, web, url):
    async with local_net(tmp_path, web) as net:
        records = await net.records(6)
        config = net.config(database_url=url, novelty_backend="postgres")
        async with real_miner(net, "honest", records):
            first = Validator(config, chain=net.chain, wallet=net.validator, catalog=net.catalog)
            try:
                await first.step()
            finally:
                await first.close()
        async with real_miner(net, "copier", records) as copier:
            again = Validator(config, chain=net.chain, wallet=net.validator, catalog=net.catalog)
            try:
                await again.step()
                uid = (await net.chain.state()).by_hotkey(copier.hotkey).uid
                reasons = {r for (_u, _d, r) in again.store.rejections(uid)}
                loaded, indexed = again.corpus.loaded_from, len(again.corpus)
            finally:
                await again.close()
    assert (loaded, indexed) == ("database", len(records))
    assert reasons == {"duplicate:exact"}
    assert not list(tmp_path.rglob("novelty.snapshot*"))  # the shared index keeps no snapshot
