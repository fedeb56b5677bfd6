"""Each miner's recent resolved verification checks per source: the window the verified-fraction bound
(scoring/evidence.py) is computed over. Only pass (True) and unverified (False) are kept; a fail rejects the batch
and cuts credibility instead, an unknown proves nothing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from validator.store.tables import EvidenceRow


def history(conn: Connection, uids: Iterable[int], window: int) -> dict[int, dict[str, list[bool]]]:
    """uid -> source -> the newest `window` checks' pass flags, newest first."""
    uids = sorted(set(uids))
    if not uids:
        return {}
    rank = sa.func.row_number().over(partition_by=(EvidenceRow.uid, EvidenceRow.source),
                                     order_by=EvidenceRow.id.desc()).label("rank")
    ranked = (sa.select(EvidenceRow.uid, EvidenceRow.source, EvidenceRow.passed, rank)
              .where(EvidenceRow.uid.in_(uids)).subquery())
    rows = conn.execute(sa.select(ranked.c.uid, ranked.c.source, ranked.c.passed)
                        .where(ranked.c.rank <= window).order_by(ranked.c.uid, ranked.c.source, ranked.c.rank))
    found: dict[int, dict[str, list[bool]]] = {}
    for uid, source, passed in rows:
        found.setdefault(int(uid), {}).setdefault(source, []).append(bool(passed))
    return found


def add(conn: Connection, uid: int, step: int, checks: Mapping[str, Sequence[bool]], window: int) -> None:
    """Append a batch's resolved checks (in order) and forget what fell out of each source's window."""
    rows = [{"uid": uid, "source": source, "step": step, "passed": passed}
            for source, flags in checks.items() for passed in flags]
    if not rows:
        return
    conn.execute(sa.insert(EvidenceRow), rows)
    for source in checks:
        same = (EvidenceRow.uid == uid) & (EvidenceRow.source == source)
        oldest_kept = (sa.select(EvidenceRow.id).where(same).order_by(EvidenceRow.id.desc())
                       .offset(window - 1).limit(1).scalar_subquery())
        conn.execute(sa.delete(EvidenceRow).where(same, EvidenceRow.id < oldest_kept))
