"""hub: schema version of releases, words/PII/withheld sums per domain, the takedown deny-list

Revision ID: hub_0002
Revises: hub_0001
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "hub_0002"
down_revision = "hub_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Releases published before this revision carry the first column layout (schema version 1).
    with op.batch_alter_table("hub_releases") as batch:
        batch.add_column(sa.Column("schema_version", sa.Integer, nullable=False, server_default="1"))
    with op.batch_alter_table("hub_release_domains") as batch:
        batch.add_column(sa.Column("words", sa.BigInteger, nullable=False, server_default="0"))
        batch.add_column(sa.Column("pii_replacements", sa.BigInteger, nullable=False, server_default="0"))
        batch.add_column(sa.Column("withheld", sa.BigInteger, nullable=False, server_default="0"))
    op.create_table(
        "hub_denylist",
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("value", sa.String(2048), primary_key=True),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("hub_denylist")
    with op.batch_alter_table("hub_release_domains") as batch:
        batch.drop_column("withheld")
        batch.drop_column("pii_replacements")
        batch.drop_column("words")
    with op.batch_alter_table("hub_releases") as batch:
        batch.drop_column("schema_version")
