"""The miner's tables: records (compressed bodies, monotonic seq), the incremental index, state, dictionaries.

Created by the Alembic revisions in `miner/migrations/`; these declarations are what the code queries through.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from miner.constants import URI_KEY_BYTES

VERSION_TABLE = "alembic_version_miner"

# INTEGER PRIMARY KEY on SQLite is the rowid itself (no second b-tree); BIGINT elsewhere.
SeqType = BigInteger().with_variant(Integer(), "sqlite")


class Bytes(TypeDecorator):
    """Binary handed to the driver as is: sqlite3 and psycopg take `bytes` natively, and skipping the generic
    wrapper saves a call per value on the bulk-insert path."""

    impl = LargeBinary
    cache_ok = True

    def bind_processor(self, dialect):
        return None


class Base(DeclarativeBase):
    metadata = MetaData()


class RecordRow(Base):
    """One stored record. `seq` is assigned by the store (one writer), so it only grows and is never reused.

    `body` is the record's JSON, compressed (see `miner.store.codec`). A record is identified by two 8-byte keys, the
    uri's (`uri_key`) and the content hash's first bytes (`hash_key`): narrow keys keep the two randomly-filled
    indexes small, and every batch rewrites most of their leaf pages. The full `content_hash` stays in the row
    (unindexed) so lookups by hash are exact. No foreign key to the index table: the store keeps them consistent in
    one transaction, and a per-row FK check would cost ingest speed.
    """

    __tablename__ = "miner_records"
    __table_args__ = (
        # Also the index of lookups by uri (its first column); see migrations/0002_narrow_record_keys.py.
        Index("uq_miner_records_uri_hash", "uri_key", "hash_key", unique=True),
        Index("ix_miner_records_hash_key", "hash_key"),
        Index("ix_miner_records_domain_seq", "domain", "seq"),
    )

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=False)
    content_hash: Mapped[bytes] = mapped_column(Bytes(32))
    hash_key: Mapped[bytes] = mapped_column(Bytes(8))
    uri_key: Mapped[bytes] = mapped_column(Bytes(8))
    domain: Mapped[str] = mapped_column(String(64))
    bucket_id: Mapped[int] = mapped_column(Integer)
    text_bytes: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(Bytes)


class BucketRow(Base):
    """The index: one row per (domain, source kind, day of fetch), kept current with every insert and prune."""

    __tablename__ = "miner_index"
    __table_args__ = (UniqueConstraint("domain", "source", "day", name="uq_miner_index_bucket"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    domain: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    newest_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class StateRow(Base):
    """A single row (id 1): the last seq ever assigned, kept even when every record has been pruned."""

    __tablename__ = "miner_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class DictionaryRow(Base):
    """A zstd dictionary shared by record bodies; bodies name the dictionary they were compressed with."""

    __tablename__ = "miner_dictionaries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    data: Mapped[bytes] = mapped_column(LargeBinary)


records = RecordRow.__table__
buckets = BucketRow.__table__
state = StateRow.__table__
dictionaries = DictionaryRow.__table__


def uri_key(uri: str) -> bytes:
    """The short binary key a uri is indexed by."""
    return hashlib.sha256(uri.encode("utf-8")).digest()[:URI_KEY_BYTES]
