"""Rejected records, counted by miner, domain and reason ("*" when a whole answer was refused)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy import Connection

from validator.store.tables import RejectionRow, upsert


def count(conn: Connection, uid: int, step: int, counts: Counter[tuple[str, str]]) -> None:
    """Add (domain, reason) -> n to a miner's rejection counts (reasons cut to the column's 64 characters)."""
    if not counts:
        return
    stmt = upsert(conn, RejectionRow.__table__)
    stmt = stmt.on_conflict_do_update(
        index_elements=["uid", "domain", "reason"],
        set_={"count": RejectionRow.__table__.c.count + stmt.excluded.count, "last_step": stmt.excluded.last_step})
    conn.execute(stmt, [{"uid": uid, "domain": d, "reason": r[:64], "count": n, "last_step": step}
                        for (d, r), n in counts.items()])


def counts(conn: Connection, uid: int | None = None) -> dict[tuple[int, str, str], int]:
    """(uid, domain, reason) -> count, of one miner or all."""
    query = sa.select(RejectionRow.uid, RejectionRow.domain, RejectionRow.reason, RejectionRow.count)
    if uid is not None:
        query = query.where(RejectionRow.uid == uid)
    return {(u, d, r): int(n) for u, d, r, n in conn.execute(query)}


def reasons_by_miner(rows: Mapping[tuple[int, str, str], int]) -> dict[int, Counter[str]]:
    """reason -> count per miner, summed over domains, from `counts` rows."""
    reasons: dict[int, Counter[str]] = {}
    for (uid, _domain, reason), n in rows.items():
        reasons.setdefault(uid, Counter())[reason] += n
    return reasons
