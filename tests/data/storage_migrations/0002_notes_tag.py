"""Add a tag column (exercises batch ALTER on SQLite).

Revision ID: 0002_notes_tag
Revises: 0001_notes
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_notes_tag"
down_revision = "0001_notes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notes") as batch:
        batch.add_column(sa.Column("tag", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notes") as batch:
        batch.drop_column("tag")
