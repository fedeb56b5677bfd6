"""Accepted records: written with their signals, provenance and the facts the validator established, read back for
publishing, the novelty index and precedence. One row per (domain, uri) is current: a confirmed new version of a page
supersedes the current row in the transaction that inserts it (a partial unique index keeps it so)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from schemas.accepted import AcceptedRecord
from schemas.record import Record
from validator.store.tables import AcceptedRow, upsert

# `superseded_by` of a current row while its new version is being inserted (in one transaction, so never seen):
# accepted ids start at 1.
REPLACING = 0
# URIs per lookup of current rows (bound parameters per statement stay well under SQLite's limit).
LOOKUP_CHUNK = 500


@dataclass(frozen=True)
class Facts:
    """What the validator established about a row itself: the language its language id detected, its re-fetch when
    the row was sampled ("pass", "unknown_then_pass"; None: not sampled), its licence decision."""

    detected_lang: str | None = None
    verification: str | None = None
    licence: str | None = None
    text_allowed: bool | None = None
    attribution: str | None = None
    licence_basis: str | None = None


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
    facts: Facts = Facts()
    version: bool = False  # a re-fetch confirmed it as the page's new text: it supersedes the current row


@dataclass(frozen=True)
class Provenance:
    """Who delivered the records of one commit, to whom, in which step."""

    uid: int
    hotkey: str
    validator_hotkey: str
    step: int


@dataclass(frozen=True)
class AcceptedOrigin:
    """Who delivered an accepted record, in which step and when it was accepted (precedence evidence)."""

    accepted_id: int
    miner_hotkey: str
    step: int
    accepted_at: datetime


def insert(conn: Connection, accepted: Sequence[Accepted], by: Provenance,
           now: datetime) -> list[tuple[int, str, bytes]]:
    """Insert the records not accepted before; (accepted_id, content_hash, minhash) of those inserted, by id. A
    confirmed version supersedes its URI's current row; any other record of a URI that has a current row, and a
    second version of one URI, is skipped (as an exact duplicate is), so one version of a page stays current."""
    if not accepted:
        return []
    versions = [a.record for a in accepted if a.version]
    _replacing(conn, versions)
    rows = [_values(a, by, now) for a in accepted]
    table = AcceptedRow.__table__
    # Unordered RETURNING lets SQLAlchemy batch many rows per INSERT; the hash says which row got which id. No
    # conflict target: a duplicate hash and a second current row of a URI are both skipped.
    stmt = upsert(conn, table).on_conflict_do_nothing().returning(table.c.accepted_id, table.c.content_hash)
    signatures = {a.record.content_hash: a.minhash for a in accepted}
    inserted = sorted((int(i), h, signatures[h]) for i, h in conn.execute(stmt, rows))
    _supersede(conn, versions, {h: i for i, h, _ in inserted})
    return inserted


def _replacing(conn: Connection, versions: Sequence[Record]) -> None:
    """Set the current rows of the versions' URIs aside, so the versions can be inserted as current rows."""
    if versions:
        t = AcceptedRow.__table__
        conn.execute(t.update().where(t.c.domain == sa.bindparam("d"), t.c.uri == sa.bindparam("u"),
                                      t.c.superseded_by.is_(None), t.c.content_hash != sa.bindparam("h"))
                     .values(superseded_by=REPLACING),
                     [{"d": r.domain, "u": r.uri, "h": r.content_hash} for r in versions])


def _supersede(conn: Connection, versions: Sequence[Record], ids: Mapping[str, int]) -> None:
    """Rows set aside point at the version that replaced them; a version that was not inserted gives its row back."""
    if versions:
        t = AcceptedRow.__table__
        conn.execute(t.update().where(t.c.domain == sa.bindparam("d"), t.c.uri == sa.bindparam("u"),
                                      t.c.superseded_by == REPLACING).values(superseded_by=sa.bindparam("by")),
                     [{"d": r.domain, "u": r.uri, "by": ids.get(r.content_hash)} for r in versions])


def current(conn: Connection, pages: Sequence[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, str]]:
    """(domain, uri) -> (accepted_id, content_hash) of the current row of each page that has one."""
    by_domain: dict[str, list[str]] = {}
    for domain, uri in set(pages):
        by_domain.setdefault(domain, []).append(uri)
    found: dict[tuple[str, str], tuple[int, str]] = {}
    for domain, uris in sorted(by_domain.items()):
        for i in range(0, len(uris), LOOKUP_CHUNK):
            rows = conn.execute(sa.select(AcceptedRow.uri, AcceptedRow.accepted_id, AcceptedRow.content_hash).where(
                AcceptedRow.domain == domain, AcceptedRow.uri.in_(uris[i:i + LOOKUP_CHUNK]),
                AcceptedRow.superseded_by.is_(None)))  # the partial index's condition: it serves the lookup
            found.update({(domain, uri): (int(accepted_id), h) for uri, accepted_id, h in rows})
    return found


def versions_of(conn: Connection, domain: str, uri: str) -> list[tuple[int, str, int | None]]:
    """(accepted_id, content_hash, superseded_by) of every row of one page, oldest first."""
    return [(int(i), h, s) for i, h, s in conn.execute(
        sa.select(AcceptedRow.accepted_id, AcceptedRow.content_hash, AcceptedRow.superseded_by)
        .where(AcceptedRow.domain == domain, AcceptedRow.uri == uri).order_by(AcceptedRow.accepted_id))]


def after(conn: Connection, after_id: int, limit: int) -> list[AcceptedRecord]:
    """The next `limit` accepted records with `accepted_id > after_id`, in id order."""
    rows = conn.execute(sa.select(AcceptedRow).where(AcceptedRow.accepted_id > after_id)
                        .order_by(AcceptedRow.accepted_id).limit(limit)).all()
    return [_accepted_record(r) for r in rows]


def signatures_after(conn: Connection, after_id: int, limit: int) -> list[tuple[int, str, bytes]]:
    """(accepted_id, content_hash, minhash) of the next `limit` accepted records after `after_id`, in id order."""
    return list(conn.execute(sa.select(AcceptedRow.accepted_id, AcceptedRow.content_hash, AcceptedRow.minhash)
                             .where(AcceptedRow.accepted_id > after_id).order_by(AcceptedRow.accepted_id)
                             .limit(limit)).all())


def stats(conn: Connection) -> tuple[int, int]:
    """(count, max accepted_id) of the accepted table."""
    count, top = conn.execute(sa.select(sa.func.count(), sa.func.max(AcceptedRow.accepted_id))
                              .select_from(AcceptedRow)).one()
    return int(count), int(top or 0)


def count_upto(conn: Connection, accepted_id: int) -> int:
    """How many accepted records have an id up to `accepted_id`."""
    return int(conn.execute(sa.select(sa.func.count()).select_from(AcceptedRow)
                            .where(AcceptedRow.accepted_id <= accepted_id)).scalar_one())


def by_domain(conn: Connection) -> dict[str, int]:
    """Accepted records per domain."""
    rows = conn.execute(sa.select(AcceptedRow.domain, sa.func.count()).group_by(AcceptedRow.domain))
    return {d: int(n) for d, n in rows}


def by_step(conn: Connection) -> dict[int, dict[str, int]]:
    """Accepted records per step and domain: step -> domain -> count."""
    counts = conn.execute(sa.select(AcceptedRow.step, AcceptedRow.domain, sa.func.count())
                          .group_by(AcceptedRow.step, AcceptedRow.domain)).all()
    new: dict[int, dict[str, int]] = {}
    for step, domain, n in counts:
        new.setdefault(int(step), {})[domain] = int(n)
    return new


def origins(conn: Connection, accepted_ids: Sequence[int]) -> dict[int, AcceptedOrigin]:
    """Who delivered each of the given accepted records (ids that do not exist are left out)."""
    rows = conn.execute(sa.select(AcceptedRow.accepted_id, AcceptedRow.miner_hotkey, AcceptedRow.step,
                                  AcceptedRow.accepted_at).where(AcceptedRow.accepted_id.in_(accepted_ids)))
    return {row.accepted_id: AcceptedOrigin(row.accepted_id, row.miner_hotkey, row.step, row.accepted_at)
            for row in rows}


def _values(a: Accepted, by: Provenance, now: datetime) -> dict[str, Any]:
    r = a.record
    return {
        "content_hash": r.content_hash, "uri": r.uri, "domain": r.domain, "source": r.source, "title": r.title,
        "text": r.text, "fetched_at": r.fetched_at, "published_at": r.published_at, "lang": r.lang,
        "license": r.license, "labels": list(r.labels), "meta": dict(r.meta), "quality": a.quality,
        "relevance": a.relevance, "novelty": a.novelty, "freshness": a.freshness, "size": a.size,
        "desirability": a.desirability, "value": a.value, "signals": dict(a.signals), "minhash": a.minhash,
        "miner_uid": by.uid, "miner_hotkey": by.hotkey, "validator_hotkey": by.validator_hotkey, "step": by.step,
        "accepted_at": now, "superseded_by": None, "detected_lang": a.facts.detected_lang,
        "verification": a.facts.verification, "decided_licence": a.facts.licence,
        "text_allowed": a.facts.text_allowed, "attribution": a.facts.attribution,
        "licence_basis": a.facts.licence_basis,
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
                          accepted_at=r.accepted_at, detected_lang=r.detected_lang, verification=r.verification,
                          licence=r.decided_licence, text_allowed=r.text_allowed, attribution=r.attribution,
                          licence_basis=r.licence_basis)
