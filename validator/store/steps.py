"""Steps, weights and small named state (step counter, visiting round, last weights block, last release)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from schemas.record import utcnow
from validator.store.tables import StateRow, StepRow, WeightsRow, upsert


def get_state(conn: Connection, key: str) -> Any:
    """The value stored under `key`, None when there is none."""
    return conn.execute(sa.select(StateRow.value).where(StateRow.key == key)).scalar_one_or_none()


# The advisory lock that makes allocating a step number atomic across processes sharing a PostgreSQL database
# (read-increment-write under READ COMMITTED gave two processes the same number: a unique violation on the steps).
STEP_LOCK = int.from_bytes(b"glean-st", "big", signed=True)


def put_state(conn: Connection, key: str, value: Any) -> None:
    """Store `value` under `key`, replacing any."""
    stmt = upsert(conn, StateRow.__table__).values(key=key, value=value)
    conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": stmt.excluded.value}))


def start(conn: Connection, block: int) -> int:
    """Allocate the next step number and record its start (a crashed step keeps its number)."""
    if conn.dialect.name == "postgresql":  # several validator processes of one hotkey may share the database
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": STEP_LOCK})
    step = int(get_state(conn, "step") or 0) + 1
    put_state(conn, "step", step)
    conn.execute(sa.insert(StepRow).values(step=step, block=block, started_at=utcnow()))
    return step


def finish(conn: Connection, step: int, *, miners: int, pulled: int, accepted: int, rejected: int,
           seconds: float) -> None:
    """Record a step's end and its totals."""
    conn.execute(sa.update(StepRow).where(StepRow.step == step).values(
        finished_at=utcnow(), miners=miners, pulled=pulled, accepted=accepted, rejected=rejected, seconds=seconds))


def latest(conn: Connection, limit: int) -> list[StepRow]:
    """The newest `limit` steps, newest first."""
    return list(conn.execute(sa.select(StepRow).order_by(StepRow.step.desc()).limit(limit)).all())


def starts(conn: Connection) -> list[tuple[int, int, datetime]]:
    """(step, block, started_at) of every step, oldest first."""
    return [tuple(row) for row in conn.execute(sa.select(StepRow.step, StepRow.block, StepRow.started_at)
                                               .order_by(StepRow.step)).all()]


def record_weights(conn: Connection, block: int, weights: Mapping[int, float], error: str | None) -> None:
    """Log a weights submission; a successful one also becomes the last weights block."""
    conn.execute(sa.insert(WeightsRow).values(block=block, set_at=utcnow(), ok=error is None,
                                              weights={str(k): v for k, v in weights.items()}, error=error))
    if error is None:
        put_state(conn, "last_weights_block", block)


def last_weights(conn: Connection) -> WeightsRow | None:
    """The newest successful weights submission."""
    return conn.execute(sa.select(WeightsRow).where(WeightsRow.ok.is_(True))
                        .order_by(WeightsRow.id.desc()).limit(1)).one_or_none()
