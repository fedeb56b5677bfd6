"""Miner store: records, index buckets, state, compression dictionaries.

Revision ID: 0001_miner_store
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_miner_store"
down_revision = None
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "miner_records",
        sa.Column("seq", _SEQ, primary_key=True, autoincrement=False),
        sa.Column("content_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("uri_key", sa.LargeBinary(8), nullable=False),
        sa.Column("domain", sa.String(64), nullable=False),
        sa.Column("bucket_id", sa.Integer, nullable=False),
        sa.Column("text_bytes", sa.Integer, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.UniqueConstraint("content_hash", "uri_key", name="uq_miner_records_hash_uri"),
    )
    op.create_index("ix_miner_records_uri_key", "miner_records", ["uri_key"])
    op.create_index("ix_miner_records_domain_seq", "miner_records", ["domain", "seq"])
    op.create_table(
        "miner_index",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("domain", sa.String(64), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("bytes", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("newest_seq", sa.BigInteger, nullable=False, server_default="0"),
        sa.UniqueConstraint("domain", "source", "day", name="uq_miner_index_bucket"),
    )
    op.create_table(
        "miner_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.bulk_insert(sa.table("miner_state", sa.column("id", sa.Integer), sa.column("last_seq", sa.BigInteger)),
                   [{"id": 1, "last_seq": 0}])
    op.create_table(
        "miner_dictionaries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    for name in ("miner_dictionaries", "miner_state", "miner_index", "miner_records"):
        op.drop_table(name)
