"""Dataset requests this validator received (pending, adopted, declined, expired, done) and the desirability lists
it built or mirrored, by hash (tables of migration 0004)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.orm import Mapped, mapped_column

from schemas.request import DatasetRequest, parse_request
from validator.store.tables import AcceptedRow, Base, UtcDateTime, upsert


class RequestRow(Base):
    """One request, its canonical JSON (`body`) and what this validator decided about it."""

    __tablename__ = "validator_requests"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    body: Mapped[str] = mapped_column(sa.Text)
    requester: Mapped[str] = mapped_column(sa.String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deadline: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    status: Mapped[str] = mapped_column(sa.String(16))
    weight: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    reason: Mapped[str | None] = mapped_column(sa.Text, nullable=True)


class DesirabilityListRow(Base):
    """The bytes of one desirability list, by their sha256."""

    __tablename__ = "validator_desirability_lists"

    hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    body: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


@dataclass(frozen=True)
class StoredRequest:
    """A request as this validator keeps it."""

    request: DatasetRequest
    request_id: str
    status: str
    received_at: datetime
    weight: float | None
    decided_at: datetime | None
    decided_by: str | None
    reason: str | None

    @property
    def domain(self) -> str:
        return str(self.request.spec["id"])


def _stored(row) -> StoredRequest:
    return StoredRequest(parse_request(row.body.encode(), where=f"stored request {row.id}"), row.id, row.status,
                         row.received_at, row.weight, row.decided_at, row.decided_by, row.reason)


def add(conn: Connection, request: DatasetRequest, received_at: datetime) -> bool:
    """Keep a new request as pending; False when it was already here (nothing changes)."""
    stmt = upsert(conn, RequestRow.__table__).values(
        id=request.request_id, body=request.canonical().decode(), requester=request.requester,
        received_at=received_at, deadline=request.deadline, status="pending")
    inserted = stmt.on_conflict_do_nothing(index_elements=["id"]).returning(RequestRow.__table__.c.id)
    return conn.execute(inserted).scalar_one_or_none() is not None


def get(conn: Connection, request_id: str) -> StoredRequest | None:
    row = conn.execute(sa.select(RequestRow).where(RequestRow.id == request_id)).one_or_none()
    return None if row is None else _stored(row)


def listed(conn: Connection, status: str | None = None) -> list[StoredRequest]:
    """Requests (of one status, or all), oldest first."""
    query = sa.select(RequestRow).order_by(RequestRow.received_at, RequestRow.id)
    if status is not None:
        query = query.where(RequestRow.status == status)
    return [_stored(row) for row in conn.execute(query).all()]


def set_status(conn: Connection, request_id: str, status: str, *, decided_at: datetime, decided_by: str,
               weight: float | None = None, reason: str | None = None) -> bool:
    """Record a decision; False when there is no such request."""
    values = {"status": status, "decided_at": decided_at, "decided_by": decided_by, "reason": reason}
    if weight is not None:
        values["weight"] = weight
    return conn.execute(sa.update(RequestRow).where(RequestRow.id == request_id).values(**values)).rowcount == 1


def count_pending(conn: Connection, requester: str | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(RequestRow).where(RequestRow.status == "pending")
    if requester is not None:
        query = query.where(RequestRow.requester == requester)
    return int(conn.execute(query).scalar_one())


def count_adopted(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(RequestRow)
                            .where(RequestRow.status == "adopted")).scalar_one())


def expire(conn: Connection, now: datetime) -> list[str]:
    """Pending and adopted requests whose deadline has passed become expired; returns their ids."""
    due = sa.and_(RequestRow.status.in_(("pending", "adopted")), RequestRow.deadline.is_not(None),
                  RequestRow.deadline <= now)
    ids = list(conn.execute(sa.select(RequestRow.id).where(due)).scalars())
    if ids:
        conn.execute(sa.update(RequestRow).where(RequestRow.id.in_(ids)).values(
            status="expired", decided_at=now, decided_by="deadline", reason="the deadline passed"))
    return ids


def accepted_of(conn: Connection, domain: str) -> tuple[int, int]:
    """(records, words) currently accepted for a domain (words as the quality stage counted them)."""
    words = AcceptedRow.signals["gopher_min_words"].as_float()  # the quality stage's word count
    row = conn.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(words), 0.0))
                       .where(AcceptedRow.domain == domain, AcceptedRow.superseded_by.is_(None))).one()
    return int(row[0]), int(row[1] or 0)


def put_list(conn: Connection, digest: str, body: bytes, now: datetime) -> None:
    """Keep a list's bytes under its hash (kept once: the same hash is the same bytes)."""
    stmt = upsert(conn, DesirabilityListRow.__table__).values(hash=digest, body=body, created_at=now)
    conn.execute(stmt.on_conflict_do_nothing(index_elements=["hash"]))


def get_list(conn: Connection, digest: str) -> bytes | None:
    body = conn.execute(sa.select(DesirabilityListRow.body)
                        .where(DesirabilityListRow.hash == digest)).scalar_one_or_none()
    return None if body is None else bytes(body)
