"""The shared novelty index on PostgreSQL (validator/novelty_pg.py; `novelty_backend = "postgres"`).

- `validator_novelty_docs`: one row per indexed document: `doc_id` (insertion order: the lowest wins a tie), its
  `key` (the accepted_id as text), the full `content_hash` (sha256) and `folded` hash (blake2b-128 of the
  whitespace-folded identity form), both unique or indexed for the exact lookups, and `digest`, the document's
  packed b-bit MinHash digest (64 bytes) that verifies near candidates.
- `validator_novelty_bands`: one row per (LSH band key, document), hash-partitioned on the band key into 16
  partitions, so a step's lookups of many keys spread over small indexes and a partition can be moved or vacuumed
  on its own.

Nothing on SQLite: the embedded default keeps the index in memory (scoring.NoveltyIndex).

Revision ID: 0005_validator_novelty_index
Revises: 0004_validator_requests
"""
from alembic import op

revision = "0005_validator_novelty_index"
down_revision = "0004_validator_requests"
branch_labels = None
depends_on = None

PARTITIONS = 16


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE TABLE validator_novelty_docs (
            doc_id bigserial PRIMARY KEY,
            key text NOT NULL UNIQUE,
            content_hash bytea NOT NULL UNIQUE,
            folded bytea NOT NULL,
            digest bytea NOT NULL
        )""")
    op.execute("CREATE INDEX ix_validator_novelty_docs_folded ON validator_novelty_docs (folded)")
    op.execute("""
        CREATE TABLE validator_novelty_bands (
            band_key bigint NOT NULL,
            doc_id bigint NOT NULL,
            PRIMARY KEY (band_key, doc_id)
        ) PARTITION BY HASH (band_key)""")
    for i in range(PARTITIONS):
        op.execute(f"CREATE TABLE validator_novelty_bands_{i:02d} PARTITION OF validator_novelty_bands "
                   f"FOR VALUES WITH (MODULUS {PARTITIONS}, REMAINDER {i})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TABLE validator_novelty_bands")
    op.execute("DROP TABLE validator_novelty_docs")
