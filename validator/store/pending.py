"""Held batches: a miner's batch whose verification sample came back (mostly) "unknown", retried until it resolves
or expires. One per miner (a unique index); expiry is one SQL pass over the small columns, never the payloads."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Connection

from schemas.record import utcnow
from validator import reasons as R
from validator.store import rejections
from validator.store.tables import MinerRow, PendingRow


@dataclass(frozen=True)
class Pending:
    """A held batch: the records (with their ladder results) as compressed JSON, and the sample to re-verify."""

    payload: bytes
    records: int
    sample: list[int]
    domains: dict[str, int] = field(default_factory=dict)  # records by domain, counted when the batch expires


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


def hold(conn: Connection, uid: int, hotkey: str, step: int, batch: Pending, now: datetime) -> None:
    """Hold a batch; its first retry is due at once."""
    conn.execute(sa.insert(PendingRow).values(
        uid=uid, hotkey=hotkey, step=step, created_at=now, next_attempt_at=now, attempts=1,
        records=batch.records, sample=batch.sample, payload=batch.payload, domains=dict(batch.domains)))


def release(conn: Connection, pending_id: int) -> None:
    """Forget a held batch (resolved or expired)."""
    conn.execute(sa.delete(PendingRow).where(PendingRow.id == pending_id))


def due(conn: Connection, limit: int, before_step: int | None = None) -> list[PendingBatch]:
    """Held batches due for another verification, oldest first (only those held before `before_step`)."""
    query = sa.select(PendingRow).where(PendingRow.next_attempt_at <= utcnow())
    if before_step is not None:
        query = query.where(PendingRow.step < before_step)
    rows = conn.execute(query.order_by(PendingRow.next_attempt_at, PendingRow.id).limit(limit)).all()
    return [_batch(r) for r in rows]


def held_since(conn: Connection, step: int) -> list[PendingBatch]:
    """Every held batch held in `step` or later, due or not."""
    rows = conn.execute(sa.select(PendingRow).where(PendingRow.step >= step).order_by(PendingRow.id)).all()
    return [_batch(r) for r in rows]


def _batch(row: sa.Row) -> PendingBatch:
    return PendingBatch(row.id, row.uid, row.hotkey, row.step, row.created_at, row.attempts, list(row.sample),
                        row.payload)


def postpone(conn: Connection, pending_id: int, next_attempt_at: datetime, unknown: int) -> None:
    """Count another attempt, set the next one, and add its "unknown" outcomes to the miner's."""
    batch = conn.execute(sa.select(PendingRow.uid).where(PendingRow.id == pending_id)).scalar_one_or_none()
    conn.execute(sa.update(PendingRow).where(PendingRow.id == pending_id).values(
        attempts=PendingRow.attempts + 1, next_attempt_at=next_attempt_at))
    if batch is not None:
        conn.execute(sa.update(MinerRow).where(MinerRow.uid == batch).values(
            verify_unknown=MinerRow.verify_unknown + unknown))


def expire(conn: Connection, step: int, max_attempts: int, created_before: datetime) -> list[tuple[int, int]]:
    """Drop the batches out of attempts or too old: their records count as rejected "unverified" (a batch whose
    domains are unknown, from before they were counted, under "*"); credibility untouched. Returns (uid, records)
    of each batch dropped."""
    expired = conn.execute(sa.select(PendingRow.id, PendingRow.uid, PendingRow.records, PendingRow.domains).where(
        (PendingRow.attempts >= max_attempts) | (PendingRow.created_at < created_before))).all()
    for _id, uid, records, domains in expired:
        counts = Counter({(d, R.UNVERIFIED): int(n) for d, n in (domains or {"*": records}).items()})
        rejections.count(conn, uid, step, counts)
        conn.execute(sa.update(MinerRow).where(MinerRow.uid == uid).values(
            rejected=MinerRow.rejected + sum(counts.values())))
    if expired:
        conn.execute(sa.delete(PendingRow).where(PendingRow.id.in_([row.id for row in expired])))
    return [(int(uid), int(records)) for _id, uid, records, _d in expired]


def records_held(conn: Connection) -> dict[int, int]:
    """uid -> records in its held batches."""
    rows = conn.execute(sa.select(PendingRow.uid, sa.func.sum(PendingRow.records)).group_by(PendingRow.uid))
    return {int(uid): int(n or 0) for uid, n in rows}
