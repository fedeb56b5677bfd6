"""First deliveries: the step each miner first delivered a content whose batch waited for evidence or was held, so
that the earliest deliverer of a content keeps it while its delivery is decided (validator/precedence.py
`FirstDeliveries`). Before, a batch that waited left no trace, and a copier verified first took its content.

Revision ID: 0006_validator_first_deliveries
Revises: 0005_validator_novelty_index
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_validator_first_deliveries"
down_revision = "0005_validator_novelty_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "validator_first_deliveries",
        sa.Column("content_hash", sa.String(64), primary_key=True),
        sa.Column("hotkey", sa.String(64), primary_key=True),
        sa.Column("step", sa.Integer, nullable=False),
    )
    op.create_index("ix_validator_first_deliveries_step", "validator_first_deliveries", ["step"])


def downgrade() -> None:
    op.drop_index("ix_validator_first_deliveries_step", table_name="validator_first_deliveries")
    op.drop_table("validator_first_deliveries")
