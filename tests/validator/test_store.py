"""The validator's database on SQLite and PostgreSQL: one transaction per miner, no record accepted twice."""

from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from schemas.record import Record, utcnow
from storage import current
from validator.constants import FIRST_DELIVERY_STEPS
from validator.store import (
    MIGRATIONS,
    VERSION_TABLE,
    Accepted,
    MinerCommit,
    Pending,
    ValidatorStore,
    pack,
    unpack,
)


def _record(i: int) -> Record:
    return Record.build(uri=f"https://example.org/doc/{i}", text=f"Document number {i} says something new.",
                        source="web", domain="python-ecosystem", title=f"Doc {i}")


def _accepted(i: int) -> Accepted:
    return Accepted(record=_record(i), quality=0.9, relevance=0.8, novelty=1.0, freshness=1.0, size=0.5,
                    desirability=1.0, value=0.36, signals={"words": 7.0}, minhash=bytes([i % 256]) * 16)


def _commit(store: ValidatorStore, uid: int, ids: range, step: int = 1, **extra) -> list:
    commit = MinerCommit(uid=uid, hotkey=f"hk{uid}", step=step, validator_hotkey="vali", credibility=0.5,
                         score=0.1, step_score=0.2, cursors={"python-ecosystem": ids.stop},
                         accepted=[_accepted(i) for i in ids], pulled=len(ids), **extra)
    return store.commit_miner(commit)


def test_migrations_use_the_validator_version_table(database_url):
    store = ValidatorStore.open(database_url)
    newest = sorted(MIGRATIONS.glob("0*.py"))[-1].stem  # each revision id is its file's name
    assert current(store.engine, MIGRATIONS, VERSION_TABLE) == newest
    ValidatorStore.open(database_url).close()  # a second open is a no-op
    store.close()


def test_commit_writes_records_cursor_and_miner_state_together(database_url):
    store = ValidatorStore.open(database_url)
    store.sync_miners({3: "hk3"}, 0.1)
    inserted = _commit(store, 3, range(5), rejected=Counter({("python-ecosystem", "schema"): 2}))
    assert [h for _, h, _ in inserted] == [_record(i).content_hash for i in range(5)]
    assert store.cursors(3) == {"python-ecosystem": 5}
    miner = store.miners()[3]
    assert (miner.accepted, miner.rejected, miner.credibility, miner.score) == (5, 2, 0.5, 0.1)
    assert store.rejections(3) == {(3, "python-ecosystem", "schema"): 2}
    store.close()


def test_the_same_content_is_never_accepted_twice(database_url):
    store = ValidatorStore.open(database_url)
    store.sync_miners({1: "hk1", 2: "hk2"}, 0.1)
    _commit(store, 1, range(3))
    again = _commit(store, 2, range(2, 4))
    assert [h for _, h, _ in again] == [_record(3).content_hash]
    assert store.accepted_stats()[0] == 4
    assert store.miners()[2].accepted == 1
    store.close()


def test_accepted_after_pages_in_id_order_with_provenance(database_url):
    store = ValidatorStore.open(database_url)
    store.sync_miners({1: "hk1"}, 0.1)
    _commit(store, 1, range(7), step=4)
    first = store.accepted_after(0, 3)
    rest = store.accepted_after(first[-1].accepted_id, 10)
    assert [a.record.uri for a in first + rest] == [_record(i).uri for i in range(7)]
    a = first[0]
    assert (a.miner_uid, a.miner_hotkey, a.validator_hotkey, a.step) == (1, "hk1", "vali", 4)
    assert a.record.fetched_at.tzinfo is not None and a.accepted_at.tzinfo is not None
    assert a.record.content_hash == _record(0).content_hash
    store.close()


def test_rejections_accumulate_by_miner_domain_and_reason(database_url):
    store = ValidatorStore.open(database_url)
    store.sync_miners({1: "hk1"}, 0.1)
    _commit(store, 1, range(0), rejected=Counter({("d", "schema"): 2, ("d", "quality:short"): 1}))
    _commit(store, 1, range(0), rejected=Counter({("d", "schema"): 3}))
    store.record_miner_failure(1, 3, "protocol:timeout", 0.0)
    assert store.rejections(1) == {(1, "d", "schema"): 5, (1, "d", "quality:short"): 1, (1, "*", "protocol:timeout"): 1}
    board = store.leaderboard()
    assert board[0].top_reason == "schema" and board[0].top_reason_count == 5
    store.close()


def test_a_uid_taken_by_a_new_hotkey_starts_from_scratch(database_url):
    store = ValidatorStore.open(database_url)
    store.sync_miners({1: "old"}, 0.1)
    store.commit_miner(MinerCommit(uid=1, hotkey="old", step=1, validator_hotkey="v", credibility=0.9, score=0.7,
                                   step_score=0.7, cursors={"d": 40}))
    miners = store.sync_miners({1: "new"}, 0.1)
    assert (miners[1].hotkey, miners[1].credibility, miners[1].score) == ("new", 0.1, 0.0)
    assert store.cursors(1) == {}
    store.close()


def test_pending_batches_are_held_postponed_and_resolved(database_url):
    store = ValidatorStore.open(database_url)
    store.sync_miners({1: "hk1"}, 0.1)
    payload = pack([{"x": 1}])
    store.commit_miner(MinerCommit(uid=1, hotkey="hk1", step=1, validator_hotkey="v", credibility=0.1, score=0.0,
                                   step_score=None, hold=Pending(payload=payload, records=1, sample=[0])))
    [batch] = store.due_pending(10)
    assert unpack(batch.payload) == [{"x": 1}] and batch.sample == [0] and store.pending_records() == {1: 1}
    store.postpone_pending(batch.id, utcnow() + timedelta(hours=1), unknown=1)
    assert store.due_pending(10) == []
    store.commit_miner(MinerCommit(uid=1, hotkey="hk1", step=2, validator_hotkey="v", credibility=0.1, score=0.0,
                                   step_score=None, resolved_pending=batch.id))
    assert store.pending_records() == {}
    store.close()


def test_state_and_steps_survive_reopening(tmp_path):
    url = f"sqlite:///{tmp_path / 'v.sqlite'}"
    store = ValidatorStore.open(url)
    assert store.next_step(10) == 1
    store.set_state("round", {"remaining": [3, 1], "visited": [2]})
    store.close()
    store = ValidatorStore.open(url)
    assert store.next_step(11) == 2
    assert store.get_state("round") == {"remaining": [3, 1], "visited": [2]}
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM validator_steps")).scalar_one() == 2
    store.close()


def test_novelty_rows_stream_every_signature(database_url):
    store = ValidatorStore.open(database_url)
    store.sync_miners({1: "hk1"}, 0.1)
    _commit(store, 1, range(12))
    rows = list(store.novelty_rows(0, batch=5))
    assert len(rows) == 12 and rows[0][2] == bytes([0]) * 16
    assert [r[0] for r in store.novelty_rows(int(rows[9][0]), batch=5)] == [rows[10][0], rows[11][0]]
    store.close()


def test_first_deliveries_keep_the_earliest_step_until_decided_or_out_of_the_window(database_url):
    """A batch that waits (or is held) records the step each of its contents was first delivered; delivering them
    again keeps that step; a decided commit of the miner forgets them; the window prunes what is older."""
    store = ValidatorStore.open(database_url)
    store.sync_miners({1: "hk1", 2: "hk2"}, 0.1)
    hashes = [_record(i).content_hash for i in range(3)]

    def waits(uid: int, step: int, delivered: list[str]) -> None:
        store.commit_miner(MinerCommit(uid=uid, hotkey=f"hk{uid}", step=step, validator_hotkey="vali",
                                       credibility=0.5, score=0.1, step_score=None, waits=True, delivered=delivered))

    waits(1, 3, hashes[:2])
    waits(1, 5, hashes)  # again, one more
    waits(2, 4, hashes[:1])
    assert store.first_deliveries(hashes, 0) == {("hk1", hashes[0]): 3, ("hk1", hashes[1]): 3,
                                                 ("hk1", hashes[2]): 5, ("hk2", hashes[0]): 4}
    assert store.first_deliveries(hashes, 4) == {("hk1", hashes[2]): 5, ("hk2", hashes[0]): 4}
    _commit(store, 1, range(2), step=6, delivered=hashes[:2])  # decided: accepted
    assert store.first_deliveries(hashes, 0) == {("hk1", hashes[2]): 5, ("hk2", hashes[0]): 4}
    store.next_step(1)
    store.finish_step(5 + FIRST_DELIVERY_STEPS, miners=1, pulled=0, accepted=0, rejected=0, seconds=0.1)
    assert store.first_deliveries(hashes, 0) == {("hk1", hashes[2]): 5}  # step 4 fell out of the window
    waits(2, 20, hashes[:1])
    store.forget_first_deliveries_except(["hk2", "hk3"])  # hk1 left the subnet: its deliveries are never decided
    assert store.first_deliveries(hashes, 0) == {("hk2", hashes[0]): 20}
    store.close()
