"""Dataset requests and desirability lists (DESIGN §11).

- `validator_requests`: one row per request this validator received, keyed by its id (sha256 of the request's
  canonical JSON); `body` is that canonical JSON; `status` is pending | adopted | declined | expired | done;
  `weight`, `decided_at`, `decided_by` ("operator" or "policy"), `reason` record the decision; `deadline` is copied
  from the body so expiry runs in SQL.
- `validator_desirability_lists`: the bytes of every desirability list this validator built or mirrored, by the
  sha256 of those bytes (served at `GET /v1/desirability/{hash}`).

Revision ID: 0004_validator_requests
Revises: 0003_validator_versions
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_validator_requests"
down_revision = "0003_validator_versions"
branch_labels = None
depends_on = None

When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "validator_requests",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("requester", sa.String(64), nullable=False),
        sa.Column("received_at", When, nullable=False),
        sa.Column("deadline", When, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("weight", sa.Float, nullable=True),
        sa.Column("decided_at", When, nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
    )
    op.create_index("ix_validator_requests_status", "validator_requests", ["status", "received_at"])
    op.create_index("ix_validator_requests_requester", "validator_requests", ["requester"])
    op.create_table(
        "validator_desirability_lists",
        sa.Column("hash", sa.String(64), primary_key=True),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("created_at", When, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("validator_desirability_lists")
    op.drop_index("ix_validator_requests_requester", table_name="validator_requests")
    op.drop_index("ix_validator_requests_status", table_name="validator_requests")
    op.drop_table("validator_requests")
