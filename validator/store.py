"""The validator's database: accepted records with provenance and signals, rejections, per-miner state, cursors,
pending verifications, steps and weights. SQLite by default, PostgreSQL by URL; the DB is the truth after a crash."""

from __future__ import annotations

import json
import logging
import threading
import zlib
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from schemas.accepted import AcceptedRecord
from schemas.config import GleanConfig
from schemas.record import Record, utcnow
from storage import make_engine, sqlite_url, upgrade

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_validator"


def database_url(config: GleanConfig) -> str:
    """The validator's database: the configured URL, else SQLite under `<data_dir>/validator/`."""
    return config.validator.database_url or sqlite_url(config.data_dir, "validator")


BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite autoincrements only INTEGER PRIMARY KEY


class UtcDateTime(sa.TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class AcceptedRow(Base):
    """One accepted record: the record, its signals as columns, its MinHash signature, and its provenance."""

    __tablename__ = "validator_accepted"

    accepted_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    content_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    uri: Mapped[str] = mapped_column(sa.String(2048))
    domain: Mapped[str] = mapped_column(sa.String(64))
    source: Mapped[str] = mapped_column(sa.String(32))
    title: Mapped[str] = mapped_column(sa.Text)
    text: Mapped[str] = mapped_column(sa.Text)
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    lang: Mapped[str | None] = mapped_column(sa.String(16), nullable=True)
    license: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    labels: Mapped[list] = mapped_column(sa.JSON)
    meta: Mapped[dict] = mapped_column(sa.JSON)
    quality: Mapped[float] = mapped_column(sa.Float)
    relevance: Mapped[float] = mapped_column(sa.Float)
    novelty: Mapped[float] = mapped_column(sa.Float)
    freshness: Mapped[float] = mapped_column(sa.Float)
    size: Mapped[float] = mapped_column(sa.Float)
    desirability: Mapped[float] = mapped_column(sa.Float)
    value: Mapped[float] = mapped_column(sa.Float)
    signals: Mapped[dict] = mapped_column(sa.JSON)
    minhash: Mapped[bytes] = mapped_column(sa.LargeBinary)
    miner_uid: Mapped[int] = mapped_column(sa.Integer, index=True)
    miner_hotkey: Mapped[str] = mapped_column(sa.String(64))
    validator_hotkey: Mapped[str] = mapped_column(sa.String(64))
    step: Mapped[int] = mapped_column(sa.Integer)
    accepted_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MinerRow(Base):
    """What the validator knows of one miner uid (reset when the uid's hotkey changes)."""

    __tablename__ = "validator_miners"

    uid: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    hotkey: Mapped[str] = mapped_column(sa.String(64))
    credibility: Mapped[float] = mapped_column(sa.Float)
    score: Mapped[float] = mapped_column(sa.Float, default=0.0)
    last_step_score: Mapped[float] = mapped_column(sa.Float, default=0.0)
    accepted: Mapped[int] = mapped_column(sa.Integer, default=0)
    shared: Mapped[int] = mapped_column(sa.Integer, default=0)
    rejected: Mapped[int] = mapped_column(sa.Integer, default=0)
    pulled: Mapped[int] = mapped_column(sa.Integer, default=0)
    value_total: Mapped[float] = mapped_column(sa.Float, default=0.0)
    verify_pass: Mapped[int] = mapped_column(sa.Integer, default=0)
    verify_fail: Mapped[int] = mapped_column(sa.Integer, default=0)
    verify_unknown: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_step: Mapped[int] = mapped_column(sa.Integer, default=0)
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class CursorRow(Base):
    """The miner's `seq` after which the next pull of one domain starts."""

    __tablename__ = "validator_cursors"

    uid: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    domain: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    after_seq: Mapped[int] = mapped_column(sa.BigInteger)


class RejectionRow(Base):
    """Rejected records counted by miner, domain and reason ("*" when a whole answer was refused)."""

    __tablename__ = "validator_rejections"

    uid: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    domain: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    count: Mapped[int] = mapped_column(sa.Integer)
    last_step: Mapped[int] = mapped_column(sa.Integer)


class PendingRow(Base):
    """A batch held because its verification sample came back all "unknown"; retried until it resolves or expires."""

    __tablename__ = "validator_pending"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uid: Mapped[int] = mapped_column(sa.Integer, index=True)
    hotkey: Mapped[str] = mapped_column(sa.String(64))
    step: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(sa.Integer)
    records: Mapped[int] = mapped_column(sa.Integer)
    sample: Mapped[list] = mapped_column(sa.JSON)
    payload: Mapped[bytes] = mapped_column(sa.LargeBinary)


class StateRow(Base):
    """Small named values: step counter, visiting round, last weights block, last release."""

    __tablename__ = "validator_state"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(sa.JSON)


class StepRow(Base):
    __tablename__ = "validator_steps"

    step: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    block: Mapped[int] = mapped_column(sa.BigInteger)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    miners: Mapped[int] = mapped_column(sa.Integer, default=0)
    pulled: Mapped[int] = mapped_column(sa.Integer, default=0)
    accepted: Mapped[int] = mapped_column(sa.Integer, default=0)
    rejected: Mapped[int] = mapped_column(sa.Integer, default=0)
    seconds: Mapped[float] = mapped_column(sa.Float, default=0.0)


class WeightsRow(Base):
    __tablename__ = "validator_weights"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    block: Mapped[int] = mapped_column(sa.BigInteger)
    set_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ok: Mapped[bool] = mapped_column(sa.Boolean)
    weights: Mapped[dict] = mapped_column(sa.JSON)
    error: Mapped[str | None] = mapped_column(sa.Text, nullable=True)


# --- plain values passed in and out ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MinerState:
    uid: int
    hotkey: str
    credibility: float
    score: float
    last_step_score: float = 0.0
    accepted: int = 0
    shared: int = 0
    rejected: int = 0
    pulled: int = 0
    value_total: float = 0.0
    verify_pass: int = 0
    verify_fail: int = 0
    verify_unknown: int = 0
    last_step: int = 0


@dataclass(frozen=True)
class Accepted:
    """A record ready for the accepted table (its signals and signature computed by the ladder)."""

    record: Record
    quality: float
    relevance: float
    novelty: float
    freshness: float
    size: float
    desirability: float
    value: float
    signals: Mapping[str, float]
    minhash: bytes


@dataclass(frozen=True)
class Pending:
    """A held batch: the records (with their ladder results) as compressed JSON, and the sample to re-verify."""

    payload: bytes
    records: int
    sample: list[int]


@dataclass
class MinerCommit:
    """Everything one miner's step changes, written in one transaction."""

    uid: int
    hotkey: str
    step: int
    validator_hotkey: str
    credibility: float
    score: float
    step_score: float | None  # None: the score was not updated this step (e.g. verification pending)
    cursors: dict[str, int] = field(default_factory=dict)
    accepted: list[Accepted] = field(default_factory=list)
    rejected: Counter[tuple[str, str]] = field(default_factory=Counter)  # (domain, reason) -> count
    pulled: int = 0
    shared: int = 0
    value: float = 0.0
    verification: Counter[str] = field(default_factory=Counter)  # outcome -> count
    hold: Pending | None = None
    resolved_pending: int | None = None


@dataclass(frozen=True)
class PendingBatch:
    id: int
    uid: int
    hotkey: str
    step: int
    created_at: datetime
    attempts: int
    sample: list[int]
    payload: bytes


@dataclass(frozen=True)
class LeaderRow:
    uid: int
    hotkey: str
    accepted: int
    shared: int
    rejected: int
    top_reason: str | None
    top_reason_count: int
    credibility: float
    score: float
    weight: float
    value_total: float
    verify_pass: int
    verify_fail: int
    verify_unknown: int
    pending_records: int


def pack(obj: Any) -> bytes:
    """Compressed JSON (pending payloads)."""
    return zlib.compress(json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode(), 6)


def unpack(data: bytes) -> Any:
    return json.loads(zlib.decompress(data))


# --- the store -------------------------------------------------------------------------------------------------------


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

    def _insert(self, table: sa.Table):
        return (postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert)(table)

    # -- small state --------------------------------------------------------------------------------------------

    def get_state(self, key: str, default: Any = None) -> Any:
        with self.engine.connect() as conn:
            value = conn.execute(sa.select(StateRow.value).where(StateRow.key == key)).scalar_one_or_none()
        return default if value is None else value

    def set_state(self, key: str, value: Any) -> None:
        with self._write, self.engine.begin() as conn:
            self._put_state(conn, key, value)

    def _put_state(self, conn, key: str, value: Any) -> None:
        stmt = self._insert(StateRow.__table__).values(key=key, value=value)
        conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": stmt.excluded.value}))

    def next_step(self, block: int) -> int:
        """Allocate the next step number and record its start (a crashed step keeps its number)."""
        with self._write, self.engine.begin() as conn:
            step = int(conn.execute(sa.select(StateRow.value).where(StateRow.key == "step")).scalar_one_or_none()
                       or 0) + 1
            self._put_state(conn, "step", step)
            conn.execute(sa.insert(StepRow).values(step=step, block=block, started_at=utcnow()))
        return step

    def finish_step(self, step: int, *, miners: int, pulled: int, accepted: int, rejected: int,
                    seconds: float) -> None:
        with self._write, self.engine.begin() as conn:
            conn.execute(sa.update(StepRow).where(StepRow.step == step).values(
                finished_at=utcnow(), miners=miners, pulled=pulled, accepted=accepted, rejected=rejected,
                seconds=seconds))

    # -- miners -------------------------------------------------------------------------------------------------

    def miners(self) -> dict[int, MinerState]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(MinerRow)).all()
        return {r.uid: _miner_state(r) for r in rows}

    def sync_miners(self, hotkeys: Mapping[int, str], initial_credibility: float) -> dict[int, MinerState]:
        """Add new uids and reset uids whose hotkey changed (a new miner owns the slot); returns all miners."""
        now = utcnow()
        with self._write, self.engine.begin() as conn:
            known = {r.uid: r.hotkey for r in conn.execute(sa.select(MinerRow.uid, MinerRow.hotkey))}
            for uid, hotkey in hotkeys.items():
                if known.get(uid) == hotkey:
                    continue
                if uid in known:
                    log.info("miner slot changed hands uid=%d old=%s new=%s: state reset", uid, known[uid], hotkey)
                    for table in (MinerRow, CursorRow, RejectionRow, PendingRow):
                        conn.execute(sa.delete(table).where(table.uid == uid))
                conn.execute(sa.insert(MinerRow).values(
                    uid=uid, hotkey=hotkey, credibility=initial_credibility, score=0.0, last_step_score=0.0,
                    accepted=0, shared=0, rejected=0, pulled=0, value_total=0.0, verify_pass=0, verify_fail=0,
                    verify_unknown=0, last_step=0, first_seen_at=now))
            rows = conn.execute(sa.select(MinerRow)).all()
        return {r.uid: _miner_state(r) for r in rows}

    def cursors(self, uid: int) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(CursorRow.domain, CursorRow.after_seq).where(CursorRow.uid == uid))
            return {domain: int(seq) for domain, seq in rows}

    def record_miner_failure(self, uid: int, step: int, reason: str, score: float) -> None:
        """A miner's whole answer was refused (timeout, bad status, malformed): count it and store its new score."""
        with self._write, self.engine.begin() as conn:
            self._count_rejections(conn, uid, step, Counter({("*", reason): 1}))
            conn.execute(sa.update(MinerRow).where(MinerRow.uid == uid).values(
                score=score, last_step_score=0.0, last_step=step, last_seen_at=utcnow()))

    def commit_miner(self, c: MinerCommit) -> list[tuple[int, str, bytes]]:
        """Write one miner's step atomically; returns (accepted_id, content_hash, minhash) of the rows inserted.

        Exact duplicates of already accepted content are skipped by the unique hash, so no record is accepted twice
        even if a crash made the validator pull the same page again.
        """
        now = utcnow()
        with self._write, self.engine.begin() as conn:
            inserted = self._insert_accepted(conn, c, now)
            for domain, seq in c.cursors.items():
                stmt = self._insert(CursorRow.__table__).values(uid=c.uid, domain=domain, after_seq=seq)
                conn.execute(stmt.on_conflict_do_update(index_elements=["uid", "domain"],
                                                        set_={"after_seq": stmt.excluded.after_seq}))
            self._count_rejections(conn, c.uid, c.step, c.rejected)
            values: dict[str, Any] = {
                "credibility": c.credibility, "score": c.score, "last_step": c.step, "last_seen_at": now,
                "accepted": MinerRow.accepted + len(inserted), "shared": MinerRow.shared + c.shared,
                "rejected": MinerRow.rejected + sum(c.rejected.values()), "pulled": MinerRow.pulled + c.pulled,
                "value_total": MinerRow.value_total + c.value,
                "verify_pass": MinerRow.verify_pass + c.verification.get("pass", 0),
                "verify_fail": MinerRow.verify_fail + c.verification.get("fail", 0),
                "verify_unknown": MinerRow.verify_unknown + c.verification.get("unknown", 0),
            }
            if c.step_score is not None:
                values["last_step_score"] = c.step_score
            conn.execute(sa.update(MinerRow).where(MinerRow.uid == c.uid).values(**values))
            if c.resolved_pending is not None:
                conn.execute(sa.delete(PendingRow).where(PendingRow.id == c.resolved_pending))
            if c.hold is not None:
                conn.execute(sa.insert(PendingRow).values(
                    uid=c.uid, hotkey=c.hotkey, step=c.step, created_at=now, next_attempt_at=now, attempts=1,
                    records=c.hold.records, sample=c.hold.sample, payload=c.hold.payload))
        return inserted

    def _insert_accepted(self, conn, c: MinerCommit, now: datetime) -> list[tuple[int, str, bytes]]:
        if not c.accepted:
            return []
        rows = [_accepted_values(a, c, now) for a in c.accepted]
        table = AcceptedRow.__table__
        # Unordered RETURNING lets SQLAlchemy batch many rows per INSERT; the hash says which row got which id.
        stmt = (self._insert(table).on_conflict_do_nothing(index_elements=["content_hash"])
                .returning(table.c.accepted_id, table.c.content_hash))
        signatures = {a.record.content_hash: a.minhash for a in c.accepted}
        return sorted((int(i), h, signatures[h]) for i, h in conn.execute(stmt, rows))

    def _count_rejections(self, conn, uid: int, step: int, counts: Counter[tuple[str, str]]) -> None:
        if not counts:
            return
        stmt = self._insert(RejectionRow.__table__)
        stmt = stmt.on_conflict_do_update(
            index_elements=["uid", "domain", "reason"],
            set_={"count": RejectionRow.__table__.c.count + stmt.excluded.count, "last_step": stmt.excluded.last_step})
        conn.execute(stmt, [{"uid": uid, "domain": d, "reason": r[:64], "count": n, "last_step": step}
                            for (d, r), n in counts.items()])

    # -- pending verifications ----------------------------------------------------------------------------------

    def due_pending(self, limit: int, before_step: int | None = None) -> list[PendingBatch]:
        """Held batches due for another verification, oldest first (only those held before `before_step`)."""
        query = sa.select(PendingRow).where(PendingRow.next_attempt_at <= utcnow())
        if before_step is not None:
            query = query.where(PendingRow.step < before_step)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(PendingRow.next_attempt_at, PendingRow.id).limit(limit)).all()
        return [PendingBatch(r.id, r.uid, r.hotkey, r.step, r.created_at, r.attempts, list(r.sample), r.payload)
                for r in rows]

    def postpone_pending(self, pending_id: int, next_attempt_at: datetime, unknown: int) -> None:
        with self._write, self.engine.begin() as conn:
            batch = conn.execute(sa.select(PendingRow.uid).where(PendingRow.id == pending_id)).scalar_one_or_none()
            conn.execute(sa.update(PendingRow).where(PendingRow.id == pending_id).values(
                attempts=PendingRow.attempts + 1, next_attempt_at=next_attempt_at))
            if batch is not None:
                conn.execute(sa.update(MinerRow).where(MinerRow.uid == batch).values(
                    verify_unknown=MinerRow.verify_unknown + unknown))

    def expire_pending(self, batch: PendingBatch, step: int, domains: Counter[str]) -> None:
        """Drop a batch that never verified: its records count as rejected "unverified"; credibility untouched."""
        with self._write, self.engine.begin() as conn:
            conn.execute(sa.delete(PendingRow).where(PendingRow.id == batch.id))
            counts = Counter({(d, "unverified"): n for d, n in domains.items()})
            self._count_rejections(conn, batch.uid, step, counts)
            conn.execute(sa.update(MinerRow).where(MinerRow.uid == batch.uid).values(
                rejected=MinerRow.rejected + sum(counts.values())))

    def pending_records(self) -> dict[int, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(PendingRow.uid, sa.func.sum(PendingRow.records)).group_by(PendingRow.uid))
            return {int(uid): int(n or 0) for uid, n in rows}

    # -- accepted records -----------------------------------------------------------------------------------------

    def accepted_after(self, after_id: int, limit: int) -> list[AcceptedRecord]:
        """The next `limit` accepted records with `accepted_id > after_id`, in id order (for hub.Publisher)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(AcceptedRow).where(AcceptedRow.accepted_id > after_id)
                                .order_by(AcceptedRow.accepted_id).limit(limit)).all()
        return [_accepted_record(r) for r in rows]

    def novelty_rows(self, after_id: int = 0, batch: int = 5_000) -> Iterator[tuple[str, str, bytes]]:
        """(key, content_hash, minhash) of accepted records after `after_id`, for rebuilding the novelty index."""
        last = after_id
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(sa.select(AcceptedRow.accepted_id, AcceptedRow.content_hash, AcceptedRow.minhash)
                                    .where(AcceptedRow.accepted_id > last).order_by(AcceptedRow.accepted_id)
                                    .limit(batch)).all()
            if not rows:
                return
            for accepted_id, content_hash, minhash in rows:
                yield str(accepted_id), content_hash, bytes(minhash)
            last = rows[-1][0]

    def accepted_stats(self) -> tuple[int, int]:
        """(count, max accepted_id) of the accepted table."""
        with self.engine.connect() as conn:
            count, top = conn.execute(sa.select(sa.func.count(), sa.func.max(AcceptedRow.accepted_id))
                                      .select_from(AcceptedRow)).one()
        return int(count), int(top or 0)

    def count_accepted_upto(self, accepted_id: int) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(AcceptedRow)
                                    .where(AcceptedRow.accepted_id <= accepted_id)).scalar_one())

    def accepted_by_domain(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(AcceptedRow.domain, sa.func.count()).group_by(AcceptedRow.domain))
            return {d: int(n) for d, n in rows}

    def rejections(self, uid: int | None = None) -> dict[tuple[int, str, str], int]:
        with self.engine.connect() as conn:
            query = sa.select(RejectionRow.uid, RejectionRow.domain, RejectionRow.reason, RejectionRow.count)
            if uid is not None:
                query = query.where(RejectionRow.uid == uid)
            return {(u, d, r): int(n) for u, d, r, n in conn.execute(query)}

    def steps(self, limit: int = 100) -> list[StepRow]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(StepRow).order_by(StepRow.step.desc()).limit(limit)).all())

    # -- weights --------------------------------------------------------------------------------------------------

    def record_weights(self, block: int, weights: Mapping[int, float], error: str | None) -> None:
        with self._write, self.engine.begin() as conn:
            conn.execute(sa.insert(WeightsRow).values(block=block, set_at=utcnow(), ok=error is None,
                                                      weights={str(k): v for k, v in weights.items()}, error=error))
            if error is None:
                self._put_state(conn, "last_weights_block", block)

    def last_weights(self) -> WeightsRow | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(WeightsRow).where(WeightsRow.ok.is_(True))
                                .order_by(WeightsRow.id.desc()).limit(1)).one_or_none()

    # -- leaderboard ----------------------------------------------------------------------------------------------

    def leaderboard(self, weights: Mapping[int, float] | None = None) -> list[LeaderRow]:
        """One row per miner, best score first; `weight` is the normalised score unless `weights` are given."""
        miners = self.miners()
        rejections = self.rejections()
        pending = self.pending_records()
        if weights is None:
            total = sum(max(m.score, 0.0) for m in miners.values())
            weights = {uid: (max(m.score, 0.0) / total if total > 0 else 0.0) for uid, m in miners.items()}
        reasons: dict[int, Counter[str]] = {}
        for (uid, _domain, reason), n in rejections.items():
            reasons.setdefault(uid, Counter())[reason] += n
        rows = []
        for uid, m in miners.items():
            top = reasons.get(uid, Counter()).most_common(1)
            rows.append(LeaderRow(uid=uid, hotkey=m.hotkey, accepted=m.accepted, shared=m.shared, rejected=m.rejected,
                                  top_reason=top[0][0] if top else None, top_reason_count=top[0][1] if top else 0,
                                  credibility=m.credibility, score=m.score, weight=float(weights.get(uid, 0.0)),
                                  value_total=m.value_total, verify_pass=m.verify_pass, verify_fail=m.verify_fail,
                                  verify_unknown=m.verify_unknown, pending_records=pending.get(uid, 0)))
        return sorted(rows, key=lambda r: (-r.score, r.uid))


def _miner_state(r) -> MinerState:
    return MinerState(uid=r.uid, hotkey=r.hotkey, credibility=r.credibility, score=r.score,
                      last_step_score=r.last_step_score, accepted=r.accepted, shared=r.shared, rejected=r.rejected,
                      pulled=r.pulled, value_total=r.value_total, verify_pass=r.verify_pass,
                      verify_fail=r.verify_fail, verify_unknown=r.verify_unknown, last_step=r.last_step)


def _accepted_values(a: Accepted, c: MinerCommit, now: datetime) -> dict[str, Any]:
    r = a.record
    return {
        "content_hash": r.content_hash, "uri": r.uri, "domain": r.domain, "source": r.source, "title": r.title,
        "text": r.text, "fetched_at": r.fetched_at, "published_at": r.published_at, "lang": r.lang,
        "license": r.license, "labels": list(r.labels), "meta": dict(r.meta), "quality": a.quality,
        "relevance": a.relevance, "novelty": a.novelty, "freshness": a.freshness, "size": a.size,
        "desirability": a.desirability, "value": a.value, "signals": dict(a.signals), "minhash": a.minhash,
        "miner_uid": c.uid, "miner_hotkey": c.hotkey, "validator_hotkey": c.validator_hotkey, "step": c.step,
        "accepted_at": now,
    }


def _accepted_record(r) -> AcceptedRecord:
    record = Record.model_construct(  # validated when it was accepted; re-validating thousands per page is waste
        uri=r.uri, source=r.source, domain=r.domain, title=r.title, text=r.text, content_hash=r.content_hash,
        fetched_at=r.fetched_at, published_at=r.published_at, lang=r.lang, license=r.license,
        labels=list(r.labels or []), meta=dict(r.meta or {}))
    signals = {k: float(v) for k, v in (r.signals or {}).items()}
    signals.update(freshness=r.freshness, size=r.size, desirability=r.desirability)
    return AcceptedRecord(accepted_id=r.accepted_id, record=record, quality=r.quality, relevance=r.relevance,
                          novelty=r.novelty, value=r.value, signals=signals, miner_uid=r.miner_uid,
                          miner_hotkey=r.miner_hotkey, validator_hotkey=r.validator_hotkey, step=r.step,
                          accepted_at=r.accepted_at)
