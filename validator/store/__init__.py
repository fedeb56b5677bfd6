"""The validator's database: accepted records with provenance and signals, rejections, per-miner state, cursors,
pending verifications, steps and weights. SQLite by default, PostgreSQL by URL; the DB is the truth after a crash.

`ValidatorStore` is the one way in: it owns the engine, the writer lock and the transactions; the modules beside it
hold the tables (`tables`) and the queries of each concern (`accepted`, `miners`, `rejections`, `pending`, `steps`,
`leaderboard`), each taking an open connection.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, Engine

from schemas.accepted import AcceptedRecord
from schemas.config import GleanConfig
from schemas.domain import DomainSpec
from schemas.record import utcnow
from schemas.request import DatasetRequest
from scoring.constants import EVIDENCE_WINDOW
from storage import make_engine, role_database_url, upgrade
from validator.constants import FIRST_DELIVERY_STEPS
from validator.store import accepted, deliveries, evidence, leaderboard, miners, pending, rejections, steps
from validator.store import requests as requests_
from validator.store.accepted import Accepted, AcceptedOrigin, Facts
from validator.store.codec import pack, unpack
from validator.store.leaderboard import LeaderRow
from validator.store.miners import MinerCommit, MinerState
from validator.store.pending import Pending, PendingBatch
from validator.store.requests import StoredRequest
from validator.store.tables import StepRow, WeightsRow

__all__ = [
    "MIGRATIONS", "VERSION_TABLE", "Accepted", "AcceptedOrigin", "Claim", "Facts", "LeaderRow", "MinerCommit",
    "MinerState", "Pending", "PendingBatch", "PrecedenceEvidence", "StoredRequest", "ValidatorStore", "database_url",
    "pack", "unpack",
]

MIGRATIONS = Path(__file__).parent.parent / "migrations"
VERSION_TABLE = "alembic_version_validator"


def database_url(config: GleanConfig) -> str:
    """The validator's database: the configured URL, else SQLite under `<data_dir>/validator/`."""
    return role_database_url(config.validator.database_url, config.data_dir, "validator")


@dataclass(frozen=True)
class PrecedenceEvidence:
    """Who delivered some accepted records, and when each hotkey joined the subnet (read together)."""

    origins: dict[int, AcceptedOrigin]
    joined: dict[str, datetime]


class Claim(Protocol):
    """The shared novelty index's part of a miner's commit transaction (validator/corpus.py)."""

    def take(self, conn: Connection, commit: MinerCommit) -> None:
        """Before the write: move the rows that may not be accepted from `commit.accepted` to its rejections."""

    def index(self, conn: Connection, inserted: Sequence[tuple[int, str, bytes]]) -> None:
        """After the write: index the rows inserted, before the transaction commits."""


class ValidatorStore:
    """Synchronous store; the service calls it through `asyncio.to_thread`. One writer at a time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._write = threading.Lock()

    @classmethod
    def open(cls, url: str) -> ValidatorStore:
        """Open (and migrate) the validator database at `url`."""
        engine = make_engine(url)
        upgrade(engine, MIGRATIONS, VERSION_TABLE)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    # -- small state and steps ----------------------------------------------------------------------------------

    def get_state(self, key: str, default: Any = None) -> Any:
        with self.engine.connect() as conn:
            value = steps.get_state(conn, key)
        return default if value is None else value

    def set_state(self, key: str, value: Any) -> None:
        with self._write, self.engine.begin() as conn:
            steps.put_state(conn, key, value)

    def next_step(self, block: int) -> int:
        """Allocate the next step number and record its start (a crashed step keeps its number)."""
        with self._write, self.engine.begin() as conn:
            return steps.start(conn, block)

    def finish_step(self, step: int, *, miners: int, pulled: int, accepted: int, rejected: int,
                    seconds: float) -> None:
        """Record the step's totals; first deliveries older than FIRST_DELIVERY_STEPS are forgotten."""
        with self._write, self.engine.begin() as conn:
            steps.finish(conn, step, miners=miners, pulled=pulled, accepted=accepted, rejected=rejected,
                         seconds=seconds)
            deliveries.prune(conn, step - FIRST_DELIVERY_STEPS)

    def steps(self, limit: int = 100) -> list[StepRow]:
        with self.engine.connect() as conn:
            return steps.latest(conn, limit)

    def accepted_over_steps(self) -> tuple[list[tuple[int, int, datetime]], dict[int, dict[str, int]]]:
        """(step, block, started_at) of every step, oldest first, and the records accepted in each: step -> domain
        -> count (read together, for the dashboard)."""
        with self.engine.connect() as conn:
            return steps.starts(conn), accepted.by_step(conn)

    # -- miners -------------------------------------------------------------------------------------------------

    def miners(self) -> dict[int, MinerState]:
        with self.engine.connect() as conn:
            return miners.all_miners(conn)

    def sync_miners(self, hotkeys: Mapping[int, str], initial_credibility: float) -> dict[int, MinerState]:
        """Add new uids and reset uids whose hotkey changed (a new miner owns the slot); returns all miners."""
        now = utcnow()
        with self._write, self.engine.begin() as conn:
            miners.sync(conn, hotkeys, initial_credibility, now)
            return miners.all_miners(conn)

    def cursors(self, uid: int) -> dict[str, int]:
        with self.engine.connect() as conn:
            return miners.cursors(conn, uid)

    def record_miner_failure(self, uid: int, step: int, reason: str, score: float) -> None:
        """A miner's whole answer was refused (timeout, bad status, malformed): count it and store its new score."""
        with self._write, self.engine.begin() as conn:
            miners.record_failure(conn, uid, step, reason, score)

    def commit_miner(self, c: MinerCommit, claim: Claim | None = None) -> list[tuple[int, str, bytes]]:
        """Write one miner's step atomically; returns (accepted_id, content_hash, minhash) of the rows inserted.

        Exact duplicates of already accepted content are skipped by the unique hash, so no record is accepted twice
        even if a crash made the validator pull the same page again. `claim` (the shared novelty index's,
        validator/corpus.py) runs in the same transaction: before the write, and on the rows inserted.
        """
        now = utcnow()
        with self._write, self.engine.begin() as conn:
            if claim is not None:
                claim.take(conn, c)
            inserted = miners.commit(conn, c, now)
            if claim is not None:
                claim.index(conn, inserted)
            return inserted

    def rejections(self, uid: int | None = None) -> dict[tuple[int, str, str], int]:
        with self.engine.connect() as conn:
            return rejections.counts(conn, uid)

    def rejection_reasons(self) -> dict[int, Counter[str]]:
        """reason -> rejected records per miner, summed over domains (the leaderboard's top reason comes from it)."""
        return rejections.reasons_by_miner(self.rejections())

    def precedence_evidence(self, accepted_ids: Sequence[int]) -> PrecedenceEvidence:
        """Who delivered the given accepted records, and every hotkey's first sighting, from one connection."""
        with self.engine.connect() as conn:
            return PrecedenceEvidence(accepted.origins(conn, accepted_ids), miners.first_seen(conn))

    # -- pending verifications ----------------------------------------------------------------------------------

    def due_pending(self, limit: int, before_step: int | None = None) -> list[PendingBatch]:
        """Held batches due for another verification, oldest first (only those held before `before_step`)."""
        with self.engine.connect() as conn:
            return pending.due(conn, limit, before_step)

    def held_since(self, step: int) -> list[PendingBatch]:
        """Held batches held in `step` or later, due or not."""
        with self.engine.connect() as conn:
            return pending.held_since(conn, step)

    def postpone_pending(self, pending_id: int, next_attempt_at: datetime, unknown: int) -> None:
        with self._write, self.engine.begin() as conn:
            pending.postpone(conn, pending_id, next_attempt_at, unknown)

    def expire_pending(self, step: int, max_attempts: int, created_before: datetime) -> list[tuple[int, int]]:
        """Drop the held batches out of attempts or older than `created_before` (in SQL): their records count as
        rejected "unverified"; credibility untouched. Returns (uid, records) of each."""
        with self._write, self.engine.begin() as conn:
            return pending.expire(conn, step, max_attempts, created_before)

    def pending_records(self) -> dict[int, int]:
        with self.engine.connect() as conn:
            return pending.records_held(conn)

    def forget_first_deliveries_except(self, hotkeys: Sequence[str]) -> None:
        """Forget the first deliveries of miners no longer on the subnet."""
        with self._write, self.engine.begin() as conn:
            deliveries.keep_only(conn, hotkeys)

    def first_deliveries(self, hashes: Sequence[str], since: int) -> dict[tuple[str, str], int]:
        """(hotkey, content_hash) -> the step a miner first delivered the content in a batch that waited or was held
        (still undecided, at `since` or later)."""
        with self.engine.connect() as conn:
            return deliveries.firsts(conn, hashes, since)

    # -- evidence ---------------------------------------------------------------------------------------------------

    def unverified_uris(self, uid: int, hotkey: str) -> list[str]:
        """The newest unverified URIs of the miner `hotkey` at `uid`, newest first."""
        with self.engine.connect() as conn:
            return miners.unverified_uris(conn, uid, hotkey)

    def evidence(self, uids: Sequence[int]) -> dict[int, dict[str, list[bool]]]:
        """uid -> source -> its newest EVIDENCE_WINDOW resolved checks (pass = True), newest first."""
        with self.engine.connect() as conn:
            return evidence.history(conn, uids, EVIDENCE_WINDOW)

    # -- accepted records -----------------------------------------------------------------------------------------

    def accepted_after(self, after_id: int, limit: int) -> list[AcceptedRecord]:
        """The next `limit` accepted records with `accepted_id > after_id`, in id order (for hub.Publisher)."""
        with self.engine.connect() as conn:
            return accepted.after(conn, after_id, limit)

    def novelty_rows(self, after_id: int = 0, batch: int = 5_000) -> Iterator[tuple[str, str, bytes]]:
        """(key, content_hash, minhash) of accepted records after `after_id`, for rebuilding the novelty index."""
        last = after_id
        while True:
            with self.engine.connect() as conn:
                rows = accepted.signatures_after(conn, last, batch)
            if not rows:
                return
            for accepted_id, content_hash, minhash in rows:
                yield str(accepted_id), content_hash, bytes(minhash)
            last = rows[-1][0]

    def accepted_stats(self) -> tuple[int, int]:
        """(count, max accepted_id) of the accepted table."""
        with self.engine.connect() as conn:
            return accepted.stats(conn)

    def count_accepted_upto(self, accepted_id: int) -> int:
        with self.engine.connect() as conn:
            return accepted.count_upto(conn, accepted_id)

    def current_versions(self, pages: Sequence[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, str]]:
        """(domain, uri) -> (accepted_id, content_hash) of the current accepted row of each page that has one."""
        with self.engine.connect() as conn:
            return accepted.current(conn, pages)

    def versions_of(self, domain: str, uri: str) -> list[tuple[int, str, int | None]]:
        """(accepted_id, content_hash, superseded_by) of every accepted row of one page, oldest first."""
        with self.engine.connect() as conn:
            return accepted.versions_of(conn, domain, uri)

    def accepted_by_domain(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return accepted.by_domain(conn)

    # -- weights and the leaderboard --------------------------------------------------------------------------------

    def record_weights(self, block: int, weights: Mapping[int, float], error: str | None) -> None:
        with self._write, self.engine.begin() as conn:
            steps.record_weights(conn, block, weights, error)

    def last_weights(self) -> WeightsRow | None:
        with self.engine.connect() as conn:
            return steps.last_weights(conn)

    def leaderboard(self, weights: Mapping[int, float] | None = None) -> list[LeaderRow]:
        """One row per miner, best score first; `weight` is the normalised score unless `weights` are given."""
        return leaderboard.rank(self.miners(), self.rejections(), self.pending_records(), weights)

    # -- dataset requests and desirability lists -------------------------------------------------------------------

    def add_request(self, request: DatasetRequest, received_at: datetime | None = None) -> bool:
        """Keep a new request as pending; False when it was already here."""
        with self._write, self.engine.begin() as conn:
            return requests_.add(conn, request, received_at or utcnow())

    def get_request(self, request_id: str) -> StoredRequest | None:
        with self.engine.connect() as conn:
            return requests_.get(conn, request_id)

    def list_requests(self, status: str | None = None) -> list[StoredRequest]:
        """Requests of one status (or all), oldest first."""
        with self.engine.connect() as conn:
            return requests_.listed(conn, status)

    def set_request_status(self, request_id: str, status: str, *, decided_by: str, weight: float | None = None,
                           reason: str | None = None) -> bool:
        """Record a decision about a request; False when there is no such request."""
        with self._write, self.engine.begin() as conn:
            return requests_.set_status(conn, request_id, status, decided_at=utcnow(), decided_by=decided_by,
                                        weight=weight, reason=reason)

    def request_counts(self, requester: str) -> tuple[int, int, int]:
        """(pending in all, pending of `requester`, adopted in all), read together."""
        with self.engine.connect() as conn:
            return (requests_.count_pending(conn), requests_.count_pending(conn, requester),
                    requests_.count_adopted(conn))

    def expire_requests(self, now: datetime | None = None) -> list[str]:
        """Pending and adopted requests past their deadline become expired; returns their ids."""
        with self._write, self.engine.begin() as conn:
            return requests_.expire(conn, now or utcnow())

    def adopted_requests(self) -> list[tuple[str, DomainSpec, float, datetime | None]]:
        """(request_id, domain spec, weight, deadline) of every adopted request whose deadline has not passed (the
        listener's sweep marks those expired), oldest first."""
        now = utcnow()
        return [(r.request_id, r.request.domain, float(r.weight or 0.0), r.request.deadline)
                for r in self.list_requests("adopted") if r.request.deadline is None or r.request.deadline > now]

    def accepted_for(self, domain: str) -> tuple[int, int]:
        """(records, words) currently accepted for a domain."""
        with self.engine.connect() as conn:
            return requests_.accepted_of(conn, domain)

    def put_desirability_list(self, digest: str, body: bytes) -> None:
        """Keep a desirability list's bytes under its sha256 (served at /v1/desirability/{hash})."""
        if hashlib.sha256(body).hexdigest() != digest:
            raise ValueError(f"desirability list bytes do not hash to {digest}")
        with self._write, self.engine.begin() as conn:
            requests_.put_list(conn, digest, body, utcnow())

    def desirability_list(self, digest: str) -> bytes | None:
        with self.engine.connect() as conn:
            return requests_.get_list(conn, digest)
