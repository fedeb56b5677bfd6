"""Publishing state, owned by hub: releases (pending, then published) and their per-domain statistics.

A release row is written as *pending* (its accepted-id range fixed) before anything is uploaded, and marked
published, with its statistics, in one transaction only after the target confirmed the commit. The
watermark is the last accepted id of the published releases, so a crash at any point is re-run from the
same range into the same files.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import BigInteger, DateTime, Engine, Float, Integer, String, Text, delete, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hub.stats import DIMENSIONS, DomainStats
from schemas.times import as_utc
from storage import session_factory, transaction, upgrade

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_hub"


class Base(DeclarativeBase):
    pass


class ReleaseRow(Base):
    """One release of one target; `published_at` is NULL while it is pending."""

    __tablename__ = "hub_releases"

    target: Mapped[str] = mapped_column(String(512), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_accepted_id: Mapped[int] = mapped_column(BigInteger)
    last_accepted_id: Mapped[int] = mapped_column(BigInteger)
    rows: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    revision: Mapped[str | None] = mapped_column(String(128), default=None)
    location: Mapped[str | None] = mapped_column(String(1024), default=None)
    validator_hotkey: Mapped[str] = mapped_column(String(64))
    verification_json: Mapped[str] = mapped_column(Text, default="{}")
    schema_version: Mapped[int] = mapped_column(Integer, default=1)


class ReleaseDomainRow(Base):
    """Rows, bytes, time span and score sums of one domain in one published release."""

    __tablename__ = "hub_release_domains"

    target: Mapped[str] = mapped_column(String(512), primary_key=True)
    release: Mapped[str] = mapped_column(String(64), primary_key=True)
    domain: Mapped[str] = mapped_column(String(64), primary_key=True)
    rows: Mapped[int] = mapped_column(BigInteger)
    words: Mapped[int] = mapped_column(BigInteger, default=0)
    pii_replacements: Mapped[int] = mapped_column(BigInteger, default=0)
    withheld: Mapped[int] = mapped_column(BigInteger, default=0)
    text_bytes: Mapped[int] = mapped_column(BigInteger)
    file_bytes: Mapped[int] = mapped_column(BigInteger)
    shards: Mapped[int] = mapped_column(Integer)
    quality_sum: Mapped[float] = mapped_column(Float)
    value_sum: Mapped[float] = mapped_column(Float)
    first_published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_fetched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_fetched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReleaseCountRow(Base):
    """Rows per key of one dimension (source, lang, contributor_hotkey) of one domain in one release."""

    __tablename__ = "hub_release_counts"

    target: Mapped[str] = mapped_column(String(512), primary_key=True)
    release: Mapped[str] = mapped_column(String(64), primary_key=True)
    domain: Mapped[str] = mapped_column(String(64), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(256), primary_key=True)
    rows: Mapped[int] = mapped_column(BigInteger)


class DenyRow(Base):
    """One takedown: a canonical URI, a host (`example.org` or `*.example.org`) or a sha256 content hash."""

    __tablename__ = "hub_denylist"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    value: Mapped[str] = mapped_column(String(2048), primary_key=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything stored here is UTC.
    return None if value is None else as_utc(value)


@dataclass(frozen=True)
class ReleaseRecord:
    """A release as the state knows it (pending or published)."""

    name: str
    first_accepted_id: int
    last_accepted_id: int
    rows: int
    created_at: datetime
    published_at: datetime | None
    revision: str | None
    location: str | None
    validator_hotkey: str
    verification: dict[str, int]
    rows_by_domain: dict[str, int]
    schema_version: int = 1
    pii_replacements: int = 0
    withheld: int = 0


def _record(row: ReleaseRow, rows_by_domain: dict[str, int], sums: tuple[int, int] = (0, 0)) -> ReleaseRecord:
    return ReleaseRecord(row.name, row.first_accepted_id, row.last_accepted_id, row.rows, _aware(row.created_at),
                         _aware(row.published_at), row.revision, row.location, row.validator_hotkey,
                         json.loads(row.verification_json or "{}"), rows_by_domain, row.schema_version, *sums)


class PublishState:
    """The hub's tables in `engine` (migrated on construction), scoped by target key."""

    def __init__(self, engine: Engine) -> None:
        upgrade(engine, MIGRATIONS_DIR, VERSION_TABLE)
        self._sessions = session_factory(engine)

    def watermark(self, target: str) -> int:
        """Last accepted id already published to `target` (0 when nothing is)."""
        with self._sessions() as s:
            value = s.scalar(select(func.max(ReleaseRow.last_accepted_id))
                             .where(ReleaseRow.target == target, ReleaseRow.published_at.is_not(None)))
        return int(value or 0)

    def pending(self, target: str) -> ReleaseRecord | None:
        """The release begun but not confirmed published, if a previous run stopped half-way."""
        with self._sessions() as s:
            row = s.scalars(select(ReleaseRow).where(ReleaseRow.target == target, ReleaseRow.published_at.is_(None))
                            .order_by(ReleaseRow.first_accepted_id).limit(1)).first()
        return None if row is None else _record(row, {})

    def begin(self, target: str, *, name: str, first_accepted_id: int, last_accepted_id: int, rows: int,
              created_at: datetime, validator_hotkey: str, schema_version: int) -> None:
        """Fix the range of the next release before anything leaves this machine."""
        with transaction(self._sessions) as s:
            s.add(ReleaseRow(target=target, name=name, first_accepted_id=first_accepted_id,
                             last_accepted_id=last_accepted_id, rows=rows, created_at=created_at,
                             validator_hotkey=validator_hotkey, schema_version=schema_version))

    def discard(self, target: str, name: str) -> None:
        """Forget a pending release that turned out empty."""
        with transaction(self._sessions) as s:
            s.execute(delete(ReleaseRow).where(ReleaseRow.target == target, ReleaseRow.name == name,
                                               ReleaseRow.published_at.is_(None)))

    def complete(self, target: str, name: str, *, revision: str, location: str,
                 verification: dict[str, int], stats: dict[str, DomainStats], published_at: datetime) -> None:
        """Mark the release published and store its statistics, all in one transaction."""
        with transaction(self._sessions) as s:
            row = s.get(ReleaseRow, (target, name))
            if row is None:
                raise LookupError(f"release {name} of {target} was never begun")
            row.published_at = published_at
            row.revision = revision
            row.location = location
            row.verification_json = json.dumps(verification, sort_keys=True)
            for domain, st in sorted(stats.items()):
                s.add(ReleaseDomainRow(
                    target=target, release=name, domain=domain, rows=st.rows, words=st.words,
                    pii_replacements=st.pii_replacements, withheld=st.withheld, text_bytes=st.text_bytes,
                    file_bytes=st.file_bytes, shards=st.shards, quality_sum=st.quality_sum, value_sum=st.value_sum,
                    first_published_at=st.first_published_at, last_published_at=st.last_published_at,
                    first_fetched_at=st.first_fetched_at, last_fetched_at=st.last_fetched_at))
                for dim in DIMENSIONS:
                    for key, count in sorted(st.counts[dim].items()):
                        s.add(ReleaseCountRow(target=target, release=name, domain=domain, dimension=dim,
                                              key=key[:256], rows=count))

    def history(self, target: str) -> list[ReleaseRecord]:
        """Published releases of `target`, oldest first, with their rows per domain."""
        with self._sessions() as s:
            rows = s.scalars(select(ReleaseRow).where(ReleaseRow.target == target,
                                                      ReleaseRow.published_at.is_not(None))
                             .order_by(ReleaseRow.first_accepted_id)).all()
            per_domain: dict[str, dict[str, int]] = {}
            sums: dict[str, tuple[int, int]] = {}
            for rel, domain, n, pii, withheld in s.execute(
                    select(ReleaseDomainRow.release, ReleaseDomainRow.domain, ReleaseDomainRow.rows,
                           ReleaseDomainRow.pii_replacements, ReleaseDomainRow.withheld)
                    .where(ReleaseDomainRow.target == target)):
                per_domain.setdefault(rel, {})[domain] = n
                old = sums.get(rel, (0, 0))
                sums[rel] = (old[0] + pii, old[1] + withheld)
        return [_record(r, dict(sorted(per_domain.get(r.name, {}).items())), sums.get(r.name, (0, 0)))
                for r in rows]

    def totals(self, target: str) -> dict[str, DomainStats]:
        """Statistics of everything published to `target`, per domain."""
        totals: dict[str, DomainStats] = {}
        with self._sessions() as s:
            for row in s.scalars(select(ReleaseDomainRow).where(ReleaseDomainRow.target == target)):
                part = DomainStats(
                    rows=row.rows, words=row.words, pii_replacements=row.pii_replacements, withheld=row.withheld,
                    text_bytes=row.text_bytes, file_bytes=row.file_bytes, shards=row.shards,
                    quality_sum=row.quality_sum, value_sum=row.value_sum,
                    first_published_at=_aware(row.first_published_at), last_published_at=_aware(row.last_published_at),
                    first_fetched_at=_aware(row.first_fetched_at), last_fetched_at=_aware(row.last_fetched_at))
                totals.setdefault(row.domain, DomainStats()).merge(part)
            counts = s.execute(select(ReleaseCountRow.domain, ReleaseCountRow.dimension, ReleaseCountRow.key,
                                      func.sum(ReleaseCountRow.rows))
                               .where(ReleaseCountRow.target == target)
                               .group_by(ReleaseCountRow.domain, ReleaseCountRow.dimension, ReleaseCountRow.key))
            for domain, dim, key, n in counts:
                totals.setdefault(domain, DomainStats()).counts.setdefault(dim, Counter())[key] += int(n)
        return totals
