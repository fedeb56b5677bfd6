"""Several validator processes under one hotkey on one PostgreSQL database (novelty_backend "postgres"): a row is
claimed in its commit's transaction under the hotkey's advisory lock, so the same or near-same content is accepted
once whichever process commits first, and the row that loses is a counted duplicate, not a silent skip."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from schemas.record import Record
from scoring import Delivery, signature
from scoring.constants import SCORE_EMA_ALPHA
from tests.validator.harness import local_net, real_miner
from tests.validator.test_corpus import TEXT
from validator.corpus import SHARED_WATERMARK, Corpus
from validator.novelty_pg import PgNoveltyIndex
from validator.service import Validator
from validator.store import Accepted, MinerCommit, ValidatorStore
from validator.store.tables import AcceptedRow

HOTKEY = "5Hotkey"
WAIT = 120  # seconds a thread waits for the others at a barrier before the test fails (never a sleep)


@pytest.fixture
def url(postgres_url: str) -> str:
    from tests.scoring.backends import fresh_database

    return fresh_database(postgres_url)


def _text(i: int, near: bool = False) -> str:
    return TEXT.format(i=i) + (" Read more on the site." if near else "")


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _together(jobs: list[Callable[[], object]]) -> list[object]:
    """Run the jobs in threads released together by a barrier; their results in order (an error is raised)."""
    ready = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(i: int) -> None:
        ready.wait(timeout=WAIT)
        try:
            results[i] = jobs[i]()
        except BaseException as exc:  # handed to the test's thread below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=WAIT)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results


# -- the index: claims of overlapping batches -------------------------------------------------------------------------

def test_overlapping_claims_of_four_processes_keep_each_content_once(url):
    """Four engines claim overlapping windows of 14 contents at once, two of them as near copies: every content is
    kept by exactly one claim, and every other delivery of it is told duplicate (exact or near)."""
    windows = [range(4 * t, 4 * t + 6) for t in range(3)] + [range(0, 14, 2)]
    batches = [[Delivery(f"{t}:{i}", t, _hash(_text(i, t % 2 == 1)), _text(i, t % 2 == 1)) for i in window]
               for t, window in enumerate(windows)]
    stores = [ValidatorStore.open(url) for _ in batches]
    try:
        indexes = [PgNoveltyIndex(s.engine, HOTKEY) for s in stores]
        results = _together([lambda x=x, b=b: x.claim(b) for x, b in zip(indexes, batches, strict=True)])
        kept: Counter[int] = Counter()
        for window, verdicts in zip(windows, results, strict=True):
            for i, verdict in zip(window, verdicts, strict=True):
                if verdict.keep:
                    kept[i] += 1
                else:
                    assert verdict.novelty == 0 and verdict.kind in ("exact", "near"), verdict
        assert kept == Counter(range(14))
        assert len(indexes[0]) == 14
    finally:
        for s in stores:
            s.close()


# -- the commit: a miner's rows claimed in its transaction ------------------------------------------------------------

def _row(i: int, near: bool = False, *, uri: str | None = None, version: bool = False) -> Accepted:
    record = Record.build(uri=uri or f"https://example.org/{i}{'-near' if near else ''}", text=_text(i, near),
                          source="web", domain="d1")
    return Accepted(record=record, quality=1, relevance=1, novelty=1, freshness=1, size=1, desirability=1, value=1.0,
                    signals={}, minhash=signature(record.text), version=version)


def _commit(uid: int, rows: list[Accepted]) -> MinerCommit:
    value = sum(a.value for a in rows)
    return MinerCommit(uid=uid, hotkey=f"hk{uid}", step=1, validator_hotkey=HOTKEY, credibility=1.0, score=0.5 * value,
                       step_score=value, accepted=rows, value=value)


@pytest.fixture
def processes(url: str, tmp_path: Path) -> Iterator[tuple[Corpus, Corpus]]:
    """What two validator processes hold: each its own store (engine) and its corpus on the shared index."""
    corpora = []
    for name in ("a", "b"):
        store = ValidatorStore.open(url)
        store.sync_miners({1: "hk1", 2: "hk2"}, 0.1)
        corpora.append(Corpus(store, tmp_path / f"{name}.snapshot", backend="postgres", hotkey=HOTKEY))
        corpora[-1].open()
    yield corpora[0], corpora[1]
    for corpus in corpora:
        corpus.store.close()


def _accepted_texts(store: ValidatorStore) -> list[str]:
    with store.engine.connect() as conn:
        return list(conn.execute(sa.select(AcceptedRow.text)).scalars())


def test_rows_another_process_accepted_are_rejected_as_duplicates_and_not_paid(processes):
    first, second = processes
    first.commit(_commit(1, [_row(0), _row(1), _row(2)]))
    late = _commit(2, [_row(1), _row(2, near=True), _row(3)])
    inserted = second.commit(late)
    assert [h for _, h, _ in inserted] == [_row(3).record.content_hash]  # its other row still commits
    assert second.store.rejections(2) == {(2, "d1", "duplicate:exact"): 1, (2, "d1", "duplicate:near"): 1}
    miner = second.store.miners()[2]
    assert (miner.accepted, miner.rejected, miner.value_total) == (1, 2, 1.0)
    # the step score is of the one row paid; the moving average moved by alpha times the change
    assert late.step_score == 1.0 and miner.score == pytest.approx(0.5 * 3 + SCORE_EMA_ALPHA * (1 - 3))
    assert sorted(_accepted_texts(first.store)) == sorted(_text(i) for i in range(4))
    assert len(first) == 4  # indexed in the commit's transaction, under the accepted ids


def test_claimed_rows_are_not_indexed_a_second_time_and_move_the_watermark(processes, monkeypatch):
    first, _ = processes
    added: list = []
    monkeypatch.setattr(first.index, "add_many", lambda rows: added.extend(rows) or [])
    inserted = first.commit(_commit(1, [_row(0), _row(1)]))
    first.flush()
    top = max(accepted_id for accepted_id, _, _ in inserted)
    assert added == [] and len(first) == 2  # indexed once, by the claim
    assert first.watermark == top == int(first.store.get_state(SHARED_WATERMARK))


def test_two_processes_committing_overlapping_rows_at_once_accept_each_content_once(processes):
    """Both judged the rows new (neither had committed); they commit at the same moment."""
    a, b = processes
    rows_a = [_row(i) for i in range(6)]
    rows_b = [_row(i, near=i % 2 == 1) for i in range(3, 9)]
    _together([lambda: a.commit(_commit(1, rows_a)), lambda: b.commit(_commit(2, rows_b))])
    texts = _accepted_texts(a.store)
    assert len(texts) == 9 and {t.split(" Read more")[0] for t in texts} == {_text(i) for i in range(9)}
    lost = a.store.rejections()
    assert sum(lost.values()) == 3 and {reason for (_u, _d, reason) in lost} <= {"duplicate:exact", "duplicate:near"}
    miners = a.store.miners()
    assert miners[1].accepted + miners[2].accepted == 9
    assert all(m.value_total == m.accepted for m in miners.values())  # a row lost is not paid
    assert len(a) == 9


def test_a_row_whose_page_another_process_accepted_is_a_duplicate_uri(processes):
    first, second = processes
    first.commit(_commit(1, [_row(0, uri="https://example.org/page")]))
    second.commit(_commit(2, [_row(5, uri="https://example.org/page")]))
    assert second.store.rejections(2) == {(2, "d1", "duplicate_uri"): 1}
    assert _accepted_texts(first.store) == [_text(0)]


def test_an_edit_of_its_own_page_is_claimed_as_its_new_version(processes):
    """A confirmed version that is a near copy of the row it supersedes is that page's edit, not a duplicate."""
    first, second = processes
    page = "https://example.org/page"
    first.commit(_commit(1, [_row(0, uri=page)]))
    inserted = second.commit(_commit(2, [_row(0, near=True, uri=page, version=True)]))
    assert len(inserted) == 1 and second.store.rejections(2) == {}
    assert second.store.current_versions([("d1", page)])[("d1", page)][0] == inserted[0][0]


def test_the_memory_backend_commits_what_the_step_decided(tmp_path):
    """One process: nothing is judged again at the commit (a near copy the step accepted is accepted)."""
    store = ValidatorStore.open(f"sqlite:///{tmp_path / 'v.sqlite'}")
    try:
        store.sync_miners({1: "hk1", 2: "hk2"}, 0.1)
        corpus = Corpus(store, tmp_path / "novelty.snapshot")
        corpus.open()
        corpus.commit(_commit(1, [_row(0)]))
        inserted = corpus.commit(_commit(2, [_row(0, near=True)]))
        assert len(inserted) == 1 and store.rejections() == {} and len(corpus) == 2
    finally:
        store.close()


# -- two validator processes stepping at once ------------------------------------------------------------------------

def _commits_together(validators: list[Validator]) -> None:
    """Hold each validator's first commit until every one has reached it: all have judged the step against the same
    committed index, none has committed yet (the race the claim settles)."""
    ready = threading.Barrier(len(validators))
    for v in validators:
        commit, waited = v.corpus.commit, []

        def together(c: MinerCommit, commit=commit, waited=waited):
            if not waited:
                waited.append(True)
                ready.wait(timeout=WAIT)
            return commit(c)

        v.corpus.commit = together


async def test_two_validator_processes_stepping_at_once_accept_each_page_once(tmp_path, web, url):
    async with local_net(tmp_path, web) as net:
        records = await net.records(6)
        config = net.config(database_url=url, novelty_backend="postgres")
        async with real_miner(net, "alice", records), real_miner(net, "bob", records):
            validators = [Validator(config.model_copy(update={"data_dir": tmp_path / name}), chain=net.chain,
                                    wallet=net.validator, catalog=net.catalog) for name in ("one", "two")]
            try:
                await asyncio.gather(*(v.open() for v in validators))
                _commits_together(validators)
                reports = await asyncio.gather(*(v.step() for v in validators))
                texts = _accepted_texts(validators[0].store)
                miners = validators[0].store.miners()
                reasons = {r for (_u, _d, r) in validators[0].store.rejections()}
            finally:
                for v in validators:
                    await v.close()
    assert all(r is not None and r.pulled == 2 * len(records) for r in reports)
    assert sorted(texts) == sorted(r.text for r in records)  # each page once
    assert reasons == {"duplicate:exact"}  # the later commit's rows: counted, not skipped silently
    for m in miners.values():  # every record either process pulled is accepted, shared or rejected
        assert m.pulled == m.accepted + m.shared + m.rejected, m



def _race(url: str, write: Callable[[sa.Connection], object]) -> list[object]:
    """`write` in two transactions of two engines, the second started while the first is open and committed only
    once the second waits on a lock (or finished): what two validator processes doing it at once meet. Returns the
    results in commit order; an error of the second is raised."""
    engines = [sa.create_engine(url) for _ in range(2)]
    ValidatorStore.open(url).close()  # the schema
    results: list[object] = []
    errors: list[BaseException] = []
    try:
        with engines[0].connect() as first:
            tx = first.begin()
            results.append(write(first))

            def second() -> None:
                try:
                    with engines[1].begin() as conn:
                        results.append(write(conn))
                except BaseException as exc:  # noqa: BLE001 - raised below
                    errors.append(exc)

            thread = threading.Thread(target=second)
            thread.start()
            with engines[0].connect() as watch:  # until the second waits on the first's lock
                for _ in range(2000):
                    waiting = watch.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                                    "current_database() AND wait_event_type = 'Lock'")).scalar_one()
                    if waiting or not thread.is_alive():
                        break
                    watch.execute(sa.text("SELECT pg_sleep(0.01)"))
            tx.commit()
            thread.join(timeout=60)
    finally:
        for engine in engines:
            engine.dispose()
    if errors:
        raise errors[0]
    return results


def test_two_processes_starting_a_step_at_once_get_two_numbers(url):
    """Allocating a step number read the last one and wrote it plus one: two processes got the same number and the
    second failed on the steps table's key. Now the allocation holds an advisory lock."""
    from validator.store import steps

    assert _race(url, lambda conn: steps.start(conn, block=18)) == [1, 2]


def test_two_processes_adding_the_same_new_miner_at_once_both_go_on(url):
    """Both processes read the miners before either added the new uid; the second insert waits on the first's
    transaction and then adds nothing (before: a unique violation that failed the second process's step)."""
    from datetime import UTC, datetime

    from validator.store import miners

    _race(url, lambda conn: miners.sync(conn, {1: "hk1"}, 0.1, datetime.now(UTC)))
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT uid, hotkey FROM validator_miners")).all() == [(1, "hk1")]
    finally:
        engine.dispose()
