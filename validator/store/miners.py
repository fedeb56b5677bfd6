"""What the validator knows of each miner uid: hotkey, credibility, scores, counters and pull cursors, and the one
transaction that writes a miner's step."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from schemas.record import utcnow
from scoring.constants import EVIDENCE_WINDOW
from validator.constants import FEEDBACK_UNVERIFIED_URIS
from validator.store import accepted, deliveries, evidence, pending, rejections, steps
from validator.store.accepted import Accepted, Provenance
from validator.store.pending import Pending
from validator.store.tables import CursorRow, EvidenceRow, MinerRow, PendingRow, RejectionRow, upsert

log = logging.getLogger(__name__)


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
    verify_unverified: int = 0


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
    evidence: dict[str, list[bool]] = field(default_factory=dict)  # source -> resolved checks (pass = True)
    hold: Pending | None = None
    waits: bool = False  # the batch waits for evidence or a held batch: cursors kept, only its checks recorded
    resolved_pending: int | None = None
    unverified_uris: list[str] = field(default_factory=list)  # sampled records nobody could check (miner feedback)
    # content hashes of the batch's novel records: remembered as first deliveries when it waits or is held,
    # forgotten (decided) otherwise (validator/store/deliveries.py)
    delivered: list[str] = field(default_factory=list)


def all_miners(conn: Connection) -> dict[int, MinerState]:
    """Every known miner by uid."""
    return {r.uid: _miner_state(r) for r in conn.execute(sa.select(MinerRow)).all()}


def sync(conn: Connection, hotkeys: Mapping[int, str], initial_credibility: float, now: datetime) -> None:
    """Add new uids and reset uids whose hotkey changed (a new miner owns the slot)."""
    known = {r.uid: r.hotkey for r in conn.execute(sa.select(MinerRow.uid, MinerRow.hotkey))}
    for uid, hotkey in hotkeys.items():
        if known.get(uid) == hotkey:
            continue
        if uid in known:
            log.info("miner slot changed hands uid=%d old=%s new=%s: state reset", uid, known[uid], hotkey)
            for table in (MinerRow, CursorRow, RejectionRow, PendingRow, EvidenceRow):
                conn.execute(sa.delete(table).where(table.uid == uid))
        # another validator process of this hotkey may add the same new uid at the same moment: the first one wins
        conn.execute(upsert(conn, MinerRow.__table__).values(
            uid=uid, hotkey=hotkey, credibility=initial_credibility, score=0.0, last_step_score=0.0,
            accepted=0, shared=0, rejected=0, pulled=0, value_total=0.0, verify_pass=0, verify_fail=0,
            verify_unknown=0, verify_unverified=0, last_step=0, first_seen_at=now).on_conflict_do_nothing(
                index_elements=["uid"]))


def first_seen(conn: Connection) -> dict[str, datetime]:
    """hotkey -> when the validator first saw it on the subnet."""
    return dict(conn.execute(sa.select(MinerRow.hotkey, MinerRow.first_seen_at)).all())


def cursors(conn: Connection, uid: int) -> dict[str, int]:
    """domain -> the miner's `seq` after which the next pull starts."""
    rows = conn.execute(sa.select(CursorRow.domain, CursorRow.after_seq).where(CursorRow.uid == uid))
    return {domain: int(seq) for domain, seq in rows}


def record_failure(conn: Connection, uid: int, step: int, reason: str, score: float) -> None:
    """A miner's whole answer was refused: count it and store its new score."""
    rejections.count(conn, uid, step, Counter({("*", reason): 1}))
    conn.execute(sa.update(MinerRow).where(MinerRow.uid == uid).values(
        score=score, last_step_score=0.0, last_step=step, last_seen_at=utcnow()))


def commit(conn: Connection, c: MinerCommit, now: datetime) -> list[tuple[int, str, bytes]]:
    """Write one miner's step; returns (accepted_id, content_hash, minhash) of the rows inserted."""
    inserted = accepted.insert(conn, c.accepted, Provenance(c.uid, c.hotkey, c.validator_hotkey, c.step), now)
    for domain, seq in c.cursors.items():
        stmt = upsert(conn, CursorRow.__table__).values(uid=c.uid, domain=domain, after_seq=seq)
        conn.execute(stmt.on_conflict_do_update(index_elements=["uid", "domain"],
                                                set_={"after_seq": stmt.excluded.after_seq}))
    rejections.count(conn, c.uid, c.step, c.rejected)
    evidence.add(conn, c.uid, c.step, c.evidence, EVIDENCE_WINDOW)
    conn.execute(sa.update(MinerRow).where(MinerRow.uid == c.uid).values(**_step_totals(c, len(inserted), now)))
    if c.resolved_pending is not None:
        pending.release(conn, c.resolved_pending)
    if c.hold is not None:
        pending.hold(conn, c.uid, c.hotkey, c.step, c.hold, now)
    if c.unverified_uris:
        _remember_unverified(conn, c.uid, c.hotkey, c.unverified_uris)
    if c.waits or c.hold is not None:
        deliveries.remember(conn, c.hotkey, c.step, c.delivered)
    else:
        deliveries.forget(conn, c.hotkey, c.delivered)
    return inserted


def _remember_unverified(conn: Connection, uid: int, hotkey: str, uris: list[str]) -> None:
    """Keep the newest FEEDBACK_UNVERIFIED_URIS unverified URIs of the hotkey holding `uid` (its feedback)."""
    key = f"unverified_uris:{uid}"
    kept = steps.get_state(conn, key) or {}
    older = kept.get("uris", []) if kept.get("hotkey") == hotkey else []
    newest = list(dict.fromkeys([*reversed(uris), *older]))[:FEEDBACK_UNVERIFIED_URIS]
    steps.put_state(conn, key, {"hotkey": hotkey, "uris": newest})


def unverified_uris(conn: Connection, uid: int, hotkey: str) -> list[str]:
    """The newest unverified URIs of the miner `hotkey` at `uid`, newest first (none for a former holder's)."""
    kept = steps.get_state(conn, f"unverified_uris:{uid}") or {}
    return list(kept.get("uris", [])) if kept.get("hotkey") == hotkey else []


def _step_totals(c: MinerCommit, inserted: int, now: datetime) -> dict[str, Any]:
    """The miner row's new values: scores replaced, counters grown by this step's."""
    values: dict[str, Any] = {
        "credibility": c.credibility, "score": c.score, "last_step": c.step, "last_seen_at": now,
        "accepted": MinerRow.accepted + inserted, "shared": MinerRow.shared + c.shared,
        "rejected": MinerRow.rejected + sum(c.rejected.values()), "pulled": MinerRow.pulled + c.pulled,
        "value_total": MinerRow.value_total + c.value,
        "verify_pass": MinerRow.verify_pass + c.verification.get("pass", 0),
        "verify_fail": MinerRow.verify_fail + c.verification.get("fail", 0),
        "verify_unknown": MinerRow.verify_unknown + c.verification.get("unknown", 0),
        "verify_unverified": MinerRow.verify_unverified + c.verification.get("unverified", 0),
    }
    if c.step_score is not None:
        values["last_step_score"] = c.step_score
    return values


def _miner_state(r) -> MinerState:
    return MinerState(uid=r.uid, hotkey=r.hotkey, credibility=r.credibility, score=r.score,
                      last_step_score=r.last_step_score, accepted=r.accepted, shared=r.shared, rejected=r.rejected,
                      pulled=r.pulled, value_total=r.value_total, verify_pass=r.verify_pass,
                      verify_fail=r.verify_fail, verify_unknown=r.verify_unknown, last_step=r.last_step,
                      verify_unverified=r.verify_unverified)
