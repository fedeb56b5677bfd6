"""The validator's tables (created by the Alembic revisions in `validator/migrations/`) and the UTC column type."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

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
    """One accepted record: the record, its signals as columns, its MinHash signature, its provenance, and the facts
    the validator established (detected language, its re-fetch, the licence decision). One row per (domain, uri) is
    current (`superseded_by` null); a confirmed new version of the page supersedes it (validator/versions.py)."""

    __tablename__ = "validator_accepted"
    __table_args__ = (sa.Index("ux_validator_accepted_current_uri", "domain", "uri", unique=True,
                               sqlite_where=sa.text("superseded_by IS NULL"),
                               postgresql_where=sa.text("superseded_by IS NULL")),)

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
    superseded_by: Mapped[int | None] = mapped_column(BigId, nullable=True)  # the newer version's accepted_id
    detected_lang: Mapped[str | None] = mapped_column(sa.String(16), nullable=True)
    verification: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)  # null: not sampled
    decided_licence: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    text_allowed: Mapped[bool | None] = mapped_column(sa.Boolean, nullable=True)  # null: accepted before 0003
    attribution: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    licence_basis: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)


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
    verify_unverified: Mapped[int] = mapped_column(sa.Integer, default=0)
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
    """A batch held because its verification sample came back (mostly) "unknown"; retried until it resolves or
    expires. One per miner (a unique uid); `domains` counts its records by domain, for expiry in SQL."""

    __tablename__ = "validator_pending"
    __table_args__ = (sa.Index("ux_validator_pending_uid", "uid", unique=True),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uid: Mapped[int] = mapped_column(sa.Integer)
    hotkey: Mapped[str] = mapped_column(sa.String(64))
    step: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(sa.Integer)
    records: Mapped[int] = mapped_column(sa.Integer)
    sample: Mapped[list] = mapped_column(sa.JSON)
    payload: Mapped[bytes] = mapped_column(sa.LargeBinary)
    domains: Mapped[dict | None] = mapped_column(sa.JSON, nullable=True)


class EvidenceRow(Base):
    """One resolved verification check (pass or unverified) of a miner's record of one source: the window of the
    verified-fraction bound (scoring/evidence.py) is the newest EVIDENCE_WINDOW of them per (uid, source)."""

    __tablename__ = "validator_evidence"
    __table_args__ = (sa.Index("ix_validator_evidence_uid_source", "uid", "source", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uid: Mapped[int] = mapped_column(sa.Integer)
    source: Mapped[str] = mapped_column(sa.String(32))
    step: Mapped[int] = mapped_column(sa.Integer)
    passed: Mapped[bool] = mapped_column(sa.Boolean)


class FirstDeliveryRow(Base):
    """The step a miner first delivered a content (by content hash) in a batch that waited or was held: the earliest
    deliverer of a content still being decided is first to it (validator/precedence.py `FirstDeliveries`). Kept
    while the delivery is undecided, at most FIRST_DELIVERY_STEPS steps."""

    __tablename__ = "validator_first_deliveries"
    __table_args__ = (sa.Index("ix_validator_first_deliveries_step", "step"),)

    content_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    hotkey: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    step: Mapped[int] = mapped_column(sa.Integer)


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


def upsert(conn: Connection, table: sa.Table):
    """An INSERT that takes ON CONFLICT clauses, for the connection's dialect (PostgreSQL or SQLite)."""
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
