"""Pay for evidence: each miner's recent resolved checks per source (the window of the verified-fraction bound), an
unverified counter next to pass/fail/unknown, and one held batch per miner with its records counted by domain (so a
batch expires in SQL without unpacking its payload).

Revision ID: 0002_validator_evidence
Revises: 0001_validator_initial
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_validator_evidence"
down_revision = "0001_validator_initial"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "validator_evidence",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("uid", sa.Integer, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
    )
    op.create_index("ix_validator_evidence_uid_source", "validator_evidence", ["uid", "source", "id"])
    op.add_column("validator_miners",
                  sa.Column("verify_unverified", sa.Integer, nullable=False, server_default="0"))
    op.add_column("validator_pending", sa.Column("domains", sa.JSON, nullable=True))
    # One held batch per miner: an older database may hold several; the oldest of each miner stays (the others'
    # records are dropped, as an expiry would drop them, and their miners' cursors have moved past them).
    keep = sa.select(sa.func.min(sa.column("id"))).select_from(sa.table("validator_pending")).group_by(
        sa.column("uid")).scalar_subquery()
    op.execute(sa.table("validator_pending", sa.column("id")).delete().where(sa.column("id").not_in(keep)))
    op.drop_index("ix_validator_pending_uid", table_name="validator_pending")
    op.create_index("ux_validator_pending_uid", "validator_pending", ["uid"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_validator_pending_uid", table_name="validator_pending")
    op.create_index("ix_validator_pending_uid", "validator_pending", ["uid"])
    with op.batch_alter_table("validator_pending") as batch:
        batch.drop_column("domains")
    with op.batch_alter_table("validator_miners") as batch:
        batch.drop_column("verify_unverified")
    op.drop_index("ix_validator_evidence_uid_source", table_name="validator_evidence")
    op.drop_table("validator_evidence")
