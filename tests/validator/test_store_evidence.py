"""The store's part of pay for evidence, on SQLite and PostgreSQL: the window of resolved checks per (miner, source),
the unverified counter, one held batch per miner, expiry in SQL, and the 0001 -> 0002 migration."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from schemas.record import utcnow
from storage import downgrade, make_engine, upgrade
from validator.store import MIGRATIONS, VERSION_TABLE, MinerCommit, Pending, ValidatorStore, pack


def _commit(uid: int, step: int, **extra) -> MinerCommit:
    return MinerCommit(uid=uid, hotkey=f"hk{uid}", step=step, validator_hotkey="v", credibility=0.1, score=0.0,
                       step_score=None, **extra)


def test_evidence_keeps_the_newest_window_per_miner_and_source(database_url, monkeypatch):
    from validator.store import miners

    monkeypatch.setattr(miners, "EVIDENCE_WINDOW", 4)
    store = ValidatorStore.open(database_url)
    store.sync_miners({1: "hk1", 2: "hk2"}, 0.1)
    store.commit_miner(_commit(1, 1, evidence={"web": [True, True, False], "reddit": [True]}))
    store.commit_miner(_commit(1, 2, evidence={"web": [False, False]}))
    store.commit_miner(_commit(2, 2, evidence={"web": [True]}))
    found = store.evidence([1, 2, 3])
    assert found == {1: {"web": [False, False, False, True], "reddit": [True]}, 2: {"web": [True]}}
    with store.engine.connect() as conn:  # what fell out of the window is gone, not only hidden
        assert conn.execute(sa.text("SELECT count(*) FROM validator_evidence WHERE uid = 1")).scalar_one() == 5
    store.close()


def test_unverified_checks_are_counted_next_to_pass_fail_unknown(database_url):
    from collections import Counter

    store = ValidatorStore.open(database_url)
    store.sync_miners({1: "hk1"}, 0.1)
    store.commit_miner(_commit(1, 1, verification=Counter({"pass": 2, "unverified": 3, "unknown": 1})))
    [row] = store.leaderboard()
    assert (row.verify_pass, row.verify_fail, row.verify_unverified, row.verify_unknown) == (2, 0, 3, 1)
    store.close()


def test_a_new_hotkey_on_a_uid_drops_its_evidence(database_url):
    store = ValidatorStore.open(database_url)
    store.sync_miners({1: "hk1"}, 0.1)
    store.commit_miner(_commit(1, 1, evidence={"web": [True]}))
    store.sync_miners({1: "other"}, 0.1)
    assert store.evidence([1]) == {}
    store.close()


def test_a_miner_holds_one_batch_at_most(database_url):
    store = ValidatorStore.open(database_url)
    store.sync_miners({1: "hk1"}, 0.1)
    held = Pending(payload=pack([{"x": 1}]), records=1, sample=[0], domains={"d": 1})
    store.commit_miner(_commit(1, 1, hold=held))
    with pytest.raises(sa.exc.IntegrityError):
        store.commit_miner(_commit(1, 2, hold=held))
    assert store.pending_records() == {1: 1}
    store.close()


def test_expiry_is_one_sql_pass_counting_records_by_domain(database_url):
    store = ValidatorStore.open(database_url)
    store.sync_miners({1: "hk1", 2: "hk2", 3: "hk3"}, 0.1)
    for uid in (1, 2, 3):
        store.commit_miner(_commit(uid, 1, hold=Pending(payload=pack([{}] * 3), records=3, sample=[0],
                                                        domains={"a": 2, "b": 1})))
    [b1, b2, _b3] = store.due_pending(10)
    for _ in range(3):
        store.postpone_pending(b1.id, utcnow(), unknown=1)  # out of attempts
    assert store.expire_pending(5, max_attempts=4, created_before=utcnow() - timedelta(hours=1)) == [(1, 3)]
    assert store.expire_pending(6, max_attempts=4, created_before=utcnow() + timedelta(seconds=1)) == [(2, 3), (3, 3)]
    assert store.pending_records() == {}
    assert store.rejections(1) == {(1, "a", "unverified"): 2, (1, "b", "unverified"): 1}
    assert b2.uid == 2
    store.close()


def test_migration_0002_keeps_one_held_batch_per_miner_and_goes_back(database_url):
    engine = make_engine(database_url)
    upgrade(engine, MIGRATIONS, VERSION_TABLE, "0001_validator_initial")
    now = utcnow()
    with engine.begin() as conn:
        for _ in range(2):
            conn.execute(sa.text("INSERT INTO validator_pending (uid, hotkey, step, created_at, next_attempt_at, "
                                 "attempts, records, sample, payload) VALUES (1, 'hk', 1, :t, :t, 1, 2, '[0]', :p)"),
                         {"t": now, "p": b"x"})
    upgrade(engine, MIGRATIONS, VERSION_TABLE)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM validator_pending")).scalar_one() == 1
    store = ValidatorStore(engine)
    assert store.expire_pending(2, max_attempts=1, created_before=now) == [(1, 2)]
    assert store.rejections(1) == {(1, "*", "unverified"): 2}  # records of a batch held before domains were counted
    downgrade(engine, MIGRATIONS, VERSION_TABLE, "0001_validator_initial")
    upgrade(engine, MIGRATIONS, VERSION_TABLE)
    engine.dispose()
