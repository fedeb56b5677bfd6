"""The novelty index over everything this validator accepted. The database is the truth: the index is only ever
extended with rows already committed, and a snapshot (with its watermark) is loaded only when it matches the
database and was written under this validator's scoring version (schemas.version.SCORING_VERSION: the signature
format), otherwise rebuilt from the accepted store. So a crash can neither lose nor double an accepted record, and
an upgrade that changes the signatures never mixes two formats in one index.

Two backends (`ValidatorConfig.novelty_backend`): "memory", the compact `scoring.NoveltyIndex` with a snapshot file,
and "postgres", `validator.novelty_pg.PgNoveltyIndex` in the validator's PostgreSQL database (shared by several
processes; its watermark and scoring version are kept in the store's state, no snapshot). Either way an estimate
that cannot tell J=0.7 from J=0.8 is settled by the accepted text, read from the accepted store.

A miner's step is committed through `Corpus.commit`. On the shared index the rows about to be accepted are claimed
in the commit's own transaction, under the hotkey's advisory lock (validator/novelty_pg.py says in which order): a
row another process accepted meanwhile (the same or near-same content, or its page) is not accepted but counted as a
rejection with the ordinary duplicate reason, and no longer paid; the miner's other rows commit, and are indexed
before the transaction ends. A row that failed verification never reaches the commit, so it is never indexed."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Connection

from schemas.errors import StorageError
from schemas.version import SCORING_VERSION
from scoring import Delivery, NoveltyIndex, NoveltyVerdict, signature, step_score
from scoring.constants import SCORE_EMA_ALPHA
from scoring.novelty import TextLookup
from validator import constants as K
from validator import reasons as R
from validator.delivery import delivery_key
from validator.novelty_pg import PgNoveltyIndex, claim_order, probe_of
from validator.outcome import novelty_reason
from validator.store import Accepted, MinerCommit, ValidatorStore
from validator.store import steps as state
from validator.store.accepted import current as current_rows
from validator.store.tables import AcceptedRow

log = logging.getLogger(__name__)

# Snapshots written before the scoring version was recorded hold version-1 signatures.
UNVERSIONED_SNAPSHOT = 1
# The shared index's watermark and the scoring version it was built under, in the store's state table.
SHARED_WATERMARK = "novelty_pg_watermark"
SHARED_VERSION = "novelty_pg_scoring_version"


class Corpus:
    """Owns one novelty index (in memory with its snapshot file, or shared on PostgreSQL) and the watermark (highest
    accepted_id it holds)."""

    def __init__(self, store: ValidatorStore, snapshot: Path, backend: str = "memory", hotkey: str = "") -> None:
        self.store = store
        self.snapshot = snapshot
        self.meta_path = snapshot.with_name(snapshot.name + ".json")
        self.shared = backend == "postgres"
        self.index: NoveltyIndex | PgNoveltyIndex = PgNoveltyIndex(store.engine, hotkey) if self.shared \
            else NoveltyIndex()
        self.watermark = 0
        self.loaded_from = ""  # "snapshot", "rebuilt" or "database" (the shared index), once open
        self._lock = threading.Lock()  # the index
        self._backlog: list[tuple[int, str, bytes]] = []  # committed rows not indexed yet
        self._claimed = 0  # the highest accepted_id claimed (so indexed) by this process's commits on the shared index
        self._backlog_lock = threading.Lock()

    def __len__(self) -> int:
        self.flush()
        return len(self.index)

    def open(self) -> None:
        """Load the snapshot if it matches the database, catch up from the database, else rebuild."""
        started = time.monotonic()
        if self.shared:
            self._open_shared()
        elif not self._load_snapshot():
            self.index = self._rebuild()
            self.watermark = self.store.accepted_stats()[1]
            self.loaded_from = "rebuilt"
        else:
            self._catch_up()
            self.loaded_from = "snapshot"
        log.info("novelty index ready how=%s records=%d watermark=%d seconds=%.2f", self.loaded_from,
                 len(self.index), self.watermark, time.monotonic() - started)

    def _rebuild(self) -> NoveltyIndex:
        """The index of every accepted record, from the stored signatures; when they are of another format (written
        under an older scoring version), from signatures computed again from the accepted texts."""
        try:
            return NoveltyIndex.rebuild(self.store.novelty_rows(0, K.REBUILD_BATCH))
        except StorageError as exc:
            log.warning("stored novelty signatures are not this version's (%s): signing the accepted texts again",
                        exc.message)
            return NoveltyIndex.rebuild(self._signed_again())

    def _open_shared(self) -> None:
        """The shared index is already in the database: catch up from its watermark, or rebuild it when it was built
        under another scoring version (or never). The version is asked again under the rebuild's lock, so of several
        processes upgraded together one rebuilds and the others catch up from what it built."""
        if self.store.get_state(SHARED_VERSION) != SCORING_VERSION:
            try:
                rebuilt = self._rebuild_shared(self.store.novelty_rows(0, K.REBUILD_BATCH))
            except StorageError as exc:
                log.warning("stored novelty signatures are not this version's (%s): signing the accepted texts again",
                            exc.message)
                rebuilt = self._rebuild_shared(self._signed_again())
            if rebuilt:
                self.loaded_from = "rebuilt"
                return
            log.info("the shared novelty index was rebuilt under this scoring version by another process")
        self.watermark = int(self.store.get_state(SHARED_WATERMARK, 0))
        self._catch_up()
        self.loaded_from = "database"

    def _rebuild_shared(self, rows: Iterable[tuple[str, str, bytes]]) -> bool:
        """The shared index rebuilt from `rows` in one transaction (`PgNoveltyIndex.rebuild`) that also records its
        watermark (the highest key indexed) and scoring version; False when another process had already rebuilt it
        under this version."""
        top = 0

        def watched() -> Iterator[tuple[str, str, bytes]]:
            nonlocal top
            for row in rows:
                top = max(top, int(row[0]))
                yield row

        def done(conn: Connection) -> None:
            state.put_state(conn, SHARED_WATERMARK, top)
            state.put_state(conn, SHARED_VERSION, SCORING_VERSION)

        assert isinstance(self.index, PgNoveltyIndex)
        if self.index.rebuild(watched(), needed=lambda conn: state.get_state(conn, SHARED_VERSION) != SCORING_VERSION,
                              done=done) is None:
            return False
        self.watermark = top
        return True

    def _signed_again(self) -> Iterator[tuple[str, str, bytes]]:
        after = 0
        while batch := self.store.accepted_after(after, K.REBUILD_BATCH):
            for accepted in batch:
                yield str(accepted.accepted_id), accepted.record.content_hash, signature(accepted.record.text)
            after = batch[-1].accepted_id

    def _load_snapshot(self) -> bool:
        if not (self.snapshot.exists() and self.meta_path.exists()):
            return False
        try:
            meta = json.loads(self.meta_path.read_text())
            watermark, count = int(meta["watermark"]), int(meta["count"])
            written = int(meta.get("scoring_version", UNVERSIONED_SNAPSHOT))
            if written != SCORING_VERSION:
                log.warning("novelty snapshot written under scoring version %d, this validator runs %d: rebuilding "
                            "from the accepted store", written, SCORING_VERSION)
                return False
            if self.store.count_accepted_upto(watermark) != count:
                log.warning("novelty snapshot does not match the database (watermark=%d): rebuilding", watermark)
                return False
            index = NoveltyIndex.load(self.snapshot)
            if len(index) != count:
                log.warning("novelty snapshot holds %d entries, expected %d: rebuilding", len(index), count)
                return False
        except Exception as exc:  # a torn or foreign file: the database can always rebuild it
            log.warning("novelty snapshot unreadable (%s): rebuilding", exc)
            return False
        self.index, self.watermark = index, watermark
        return True

    def _catch_up(self) -> None:
        with self._lock:
            for rows in _batches(self.store.novelty_rows(self.watermark, K.REBUILD_BATCH)):
                self.index.add_many(rows)
                self.watermark = max([self.watermark, *(int(key) for key, _, _ in rows)])
                if self.shared:
                    self.store.set_state(SHARED_WATERMARK, self.watermark)

    def assess(self, deliveries: list[Delivery]) -> list[NoveltyVerdict]:
        """Novelty of a step's deliveries against the accepted corpus (every row added so far) and one another."""
        if not deliveries:
            return []
        with self._lock:
            self._index_backlog()
            return self.index.assess_step(deliveries, self.texts)

    def texts(self, keys: Sequence[str]) -> dict[str, str]:
        """The accepted texts of index keys (accepted ids), read in one query: what settles an unsure near match."""
        ids = sorted({int(key) for key in keys if key.isdigit()})
        if not ids:
            return {}
        with self.store.engine.connect() as conn:
            rows = conn.execute(sa.select(AcceptedRow.accepted_id, AcceptedRow.text)
                                .where(AcceptedRow.accepted_id.in_(ids)))
            return {str(accepted_id): text for accepted_id, text in rows}

    def commit(self, commit: MinerCommit) -> list[tuple[int, str, bytes]]:
        """Write one miner's step (`ValidatorStore.commit_miner`) and queue the rows inserted for the index; on the
        shared index its rows are claimed in the same transaction first. Returns the rows inserted."""
        claim = _Claim(self.index, self.texts, commit) if isinstance(self.index, PgNoveltyIndex) and commit.accepted \
            else None
        inserted = self.store.commit_miner(commit, claim)
        if self.shared:  # claimed: indexed in the commit's own transaction; only the watermark moves
            with self._backlog_lock:
                self._claimed = max([self._claimed, *(accepted_id for accepted_id, _, _ in inserted)])
        else:
            self.add(inserted)
        return inserted

    def add(self, rows: Iterable[tuple[int, str, bytes]]) -> None:
        """Queue rows that are already committed (accepted_id, content_hash, minhash); cheap, so the step's commits
        do not wait for indexing. `assess`, `save` and `flush` index the queue first, so no lookup ever misses them."""
        with self._backlog_lock:
            self._backlog.extend(rows)

    def flush(self) -> None:
        """Index the queued rows now (the validator does it in the background, between steps)."""
        with self._lock:
            self._index_backlog()

    def _index_backlog(self) -> None:
        with self._backlog_lock:
            rows, self._backlog = sorted(self._backlog), []
        fresh, last = [], self.watermark
        for row in rows:  # sorted: keep each accepted_id above the watermark once
            if row[0] > last:
                fresh.append(row)
                last = row[0]
        try:
            # add_many checks every signature before it adds anything: a failure leaves the index as it was
            self.index.add_many([(str(accepted_id), content_hash, sig) for accepted_id, content_hash, sig in fresh])
        except BaseException:
            with self._backlog_lock:  # keep what was not indexed for the next attempt
                self._backlog[:0] = fresh
            raise
        with self._backlog_lock:
            claimed, self._claimed = self._claimed, 0
        top = max(fresh[-1][0] if fresh else 0, claimed)
        if top > self.watermark:
            self.watermark = top
            if self.shared:
                self.store.set_state(SHARED_WATERMARK, self.watermark)

    def save(self) -> None:
        """Write the snapshot and then its watermark, each atomically (a crash leaves the old pair or a mismatch).
        The shared index is in the database already: only the backlog is indexed."""
        with self._lock:
            self._index_backlog()
            if self.shared:
                return
            tmp = self.snapshot.with_name(self.snapshot.name + ".tmp")
            self.index.save(tmp)
            meta = {"watermark": self.watermark, "count": len(self.index), "scoring_version": SCORING_VERSION}
        os.replace(tmp, self.snapshot)
        meta_tmp = self.meta_path.with_name(self.meta_path.name + ".tmp")
        meta_tmp.write_text(json.dumps(meta))
        os.replace(meta_tmp, self.meta_path)


class _Claim:
    """The shared index's part of one miner's commit transaction (`validator.store.Claim`): under the hotkey's
    advisory lock, the rows about to be accepted are judged against everything committed (by any process); those
    another process took meanwhile become rejections of the commit, and the rows inserted are indexed."""

    def __init__(self, shared: PgNoveltyIndex, texts: TextLookup, commit: MinerCommit) -> None:
        self.shared = shared
        self.texts = texts
        # Positions stand in for the rows' seqs: a key only has to be unique within the claim and name a delivery.
        keys = {delivery_key(commit.uid, i): i for i in range(len(commit.accepted))}
        deliveries = claim_order([Delivery(key, commit.uid, commit.accepted[i].record.content_hash,
                                           commit.accepted[i].record.text) for key, i in keys.items()])
        self.positions = [keys[d.key] for d in deliveries]
        self.probes = [probe_of(d, commit.accepted[i].minhash)  # signatures parsed before the lock
                       for d, i in zip(deliveries, self.positions, strict=True)]

    def take(self, conn: Connection, commit: MinerCommit) -> None:
        self.shared.lock(conn)
        verdicts = self.shared.judge_committed(conn, self.probes, self.texts)
        pages = current_rows(conn, [(a.record.domain, a.record.uri) for a in commit.accepted])
        lost = {}
        for i, verdict in zip(self.positions, verdicts, strict=True):
            row = commit.accepted[i]
            reason = _taken(row, verdict, pages.get((row.record.domain, row.record.uri)))
            if reason:
                lost[i] = reason
        if lost:
            log.info("claims lost to another process uid=%d step=%d rows=%d reasons=%s", commit.uid, commit.step,
                     len(lost), ",".join(sorted(set(lost.values()))))
            _unaccept(commit, lost)

    def index(self, conn: Connection, inserted: Sequence[tuple[int, str, bytes]]) -> None:
        self.shared.add_in(conn, [(str(accepted_id), content_hash, sig) for accepted_id, content_hash, sig in inserted])


def _taken(row: Accepted, verdict: NoveltyVerdict, page: tuple[int, str] | None) -> str | None:
    """Why a row about to be accepted may not be (its content, or its page, was accepted meanwhile), or None. `page`:
    (accepted_id, content_hash) of the current row of the row's page, if it has one."""
    if not verdict.keep:
        # an edit of its own page (validator/versions.py) is a near copy of the row it supersedes, nothing else
        edit = row.version and page is not None and verdict.kind == "near" and verdict.duplicate_of == str(page[0])
        if edit:
            return None
        return novelty_reason(verdict) or R.DUPLICATE_IN_BATCH
    if page is not None and not row.version and page[1] != row.record.content_hash:
        return R.DUPLICATE_URI  # another text of the page became its row meanwhile
    return None


def _unaccept(commit: MinerCommit, lost: dict[int, str]) -> None:
    """Take the lost rows (position -> reason) out of the commit: each counted as rejected for its reason and no
    longer paid, and the step's score computed again from what is left (as validator/outcome.py computes it; the
    score's moving average is linear, so it moves by alpha times the step score's change)."""
    for i, reason in lost.items():
        row = commit.accepted[i]
        commit.rejected[(row.record.domain, reason)] += 1
        commit.value = max(0.0, commit.value - row.value)
    commit.accepted = [a for i, a in enumerate(commit.accepted) if i not in lost]
    if commit.step_score is not None:
        score = step_score(commit.credibility, [commit.value])
        commit.score += SCORE_EMA_ALPHA * (score - commit.step_score)
        commit.step_score = score


def _batches(rows: Iterable[tuple[str, str, bytes]]) -> Iterator[list[tuple[str, str, bytes]]]:
    found = iter(rows)
    while batch := list(islice(found, K.REBUILD_BATCH)):
        yield batch
