"""Miner records keyed by (uri_key, hash_key): two 8-byte keys instead of the 32-byte hash in the unique index.

The unique index (content_hash, uri_key) and the index on uri_key become one unique index (uri_key, hash_key), which
also serves lookups by uri, plus an index on hash_key for lookups by hash (the full hash stays in the row). Every
batch of inserts rewrites most leaf pages of these randomly-keyed indexes, so their width sets much of the cost of
an insert and of its commit (see docs/miner.md). On SQLite the table is rebuilt once (a unique constraint declared
in CREATE TABLE cannot be dropped otherwise).

Revision ID: 0002_narrow_record_keys
Revises: 0001_miner_store
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_narrow_record_keys"
down_revision = "0001_miner_store"
branch_labels = None
depends_on = None

HASH_KEY_BYTES = 8  # miner.constants.HASH_KEY_BYTES when this revision was written; a revision never changes


def upgrade() -> None:
    op.add_column("miner_records", sa.Column("hash_key", sa.LargeBinary(HASH_KEY_BYTES), nullable=True))
    rows = sa.table("miner_records", sa.column("content_hash", sa.LargeBinary), sa.column("hash_key", sa.LargeBinary))
    # substr() counts bytes on SQLite blobs and on PostgreSQL bytea alike.
    op.execute(rows.update().values(hash_key=sa.func.substr(rows.c.content_hash, 1, HASH_KEY_BYTES)))
    op.drop_index("ix_miner_records_uri_key", table_name="miner_records")
    with op.batch_alter_table("miner_records") as batch:
        batch.alter_column("hash_key", existing_type=sa.LargeBinary(HASH_KEY_BYTES), nullable=False)
        batch.drop_constraint("uq_miner_records_hash_uri", type_="unique")
    op.create_index("uq_miner_records_uri_hash", "miner_records", ["uri_key", "hash_key"], unique=True)
    op.create_index("ix_miner_records_hash_key", "miner_records", ["hash_key"])


def downgrade() -> None:
    # (uri_key, hash_key) unique implies (content_hash, uri_key) unique: the old constraint always holds again.
    op.drop_index("ix_miner_records_hash_key", table_name="miner_records")
    op.drop_index("uq_miner_records_uri_hash", table_name="miner_records")
    with op.batch_alter_table("miner_records") as batch:
        batch.drop_column("hash_key")
        batch.create_unique_constraint("uq_miner_records_hash_uri", ["content_hash", "uri_key"])
    op.create_index("ix_miner_records_uri_key", "miner_records", ["uri_key"])
