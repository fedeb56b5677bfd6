"""hub publishing state: releases, per-domain statistics, per-key counts

Revision ID: hub_0001
Revises:
Create Date: 2025-01-01
"""

import sqlalchemy as sa
from alembic import op

revision = "hub_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_releases",
        sa.Column("target", sa.String(512), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("first_accepted_id", sa.BigInteger, nullable=False),
        sa.Column("last_accepted_id", sa.BigInteger, nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revision", sa.String(128), nullable=True),
        sa.Column("location", sa.String(1024), nullable=True),
        sa.Column("validator_hotkey", sa.String(64), nullable=False),
        sa.Column("verification_json", sa.Text, nullable=False),
    )
    op.create_index("ix_hub_releases_target_published", "hub_releases", ["target", "published_at"])
    op.create_table(
        "hub_release_domains",
        sa.Column("target", sa.String(512), primary_key=True),
        sa.Column("release", sa.String(64), primary_key=True),
        sa.Column("domain", sa.String(64), primary_key=True),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("text_bytes", sa.BigInteger, nullable=False),
        sa.Column("file_bytes", sa.BigInteger, nullable=False),
        sa.Column("shards", sa.Integer, nullable=False),
        sa.Column("quality_sum", sa.Float, nullable=False),
        sa.Column("value_sum", sa.Float, nullable=False),
        sa.Column("first_published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_fetched_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "hub_release_counts",
        sa.Column("target", sa.String(512), primary_key=True),
        sa.Column("release", sa.String(64), primary_key=True),
        sa.Column("domain", sa.String(64), primary_key=True),
        sa.Column("dimension", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(256), primary_key=True),
        sa.Column("rows", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("hub_release_counts")
    op.drop_table("hub_release_domains")
    op.drop_index("ix_hub_releases_target_published", table_name="hub_releases")
    op.drop_table("hub_releases")
