"""Validator tables: accepted records, miners, cursors, rejections, pending verifications, state, steps, weights.

Revision ID: 0001_validator_initial
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_validator_initial"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "validator_accepted",
        sa.Column("accepted_id", BigId, primary_key=True, autoincrement=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("uri", sa.String(2048), nullable=False),
        sa.Column("domain", sa.String(64), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("fetched_at", When, nullable=False),
        sa.Column("published_at", When, nullable=True),
        sa.Column("lang", sa.String(16), nullable=True),
        sa.Column("license", sa.String(200), nullable=True),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("meta", sa.JSON, nullable=False),
        sa.Column("quality", sa.Float, nullable=False),
        sa.Column("relevance", sa.Float, nullable=False),
        sa.Column("novelty", sa.Float, nullable=False),
        sa.Column("freshness", sa.Float, nullable=False),
        sa.Column("size", sa.Float, nullable=False),
        sa.Column("desirability", sa.Float, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("signals", sa.JSON, nullable=False),
        sa.Column("minhash", sa.LargeBinary, nullable=False),
        sa.Column("miner_uid", sa.Integer, nullable=False),
        sa.Column("miner_hotkey", sa.String(64), nullable=False),
        sa.Column("validator_hotkey", sa.String(64), nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("accepted_at", When, nullable=False),
        sa.UniqueConstraint("content_hash", name="uq_validator_accepted_content_hash"),
    )
    op.create_index("ix_validator_accepted_miner_uid", "validator_accepted", ["miner_uid"])
    op.create_index("ix_validator_accepted_domain", "validator_accepted", ["domain", "accepted_id"])
    op.create_table(
        "validator_miners",
        sa.Column("uid", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("hotkey", sa.String(64), nullable=False),
        sa.Column("credibility", sa.Float, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("last_step_score", sa.Float, nullable=False),
        sa.Column("accepted", sa.Integer, nullable=False),
        sa.Column("shared", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
        sa.Column("pulled", sa.Integer, nullable=False),
        sa.Column("value_total", sa.Float, nullable=False),
        sa.Column("verify_pass", sa.Integer, nullable=False),
        sa.Column("verify_fail", sa.Integer, nullable=False),
        sa.Column("verify_unknown", sa.Integer, nullable=False),
        sa.Column("last_step", sa.Integer, nullable=False),
        sa.Column("first_seen_at", When, nullable=False),
        sa.Column("last_seen_at", When, nullable=True),
    )
    op.create_table(
        "validator_cursors",
        sa.Column("uid", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("domain", sa.String(64), primary_key=True),
        sa.Column("after_seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "validator_rejections",
        sa.Column("uid", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("domain", sa.String(64), primary_key=True),
        sa.Column("reason", sa.String(64), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("last_step", sa.Integer, nullable=False),
    )
    op.create_table(
        "validator_pending",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("uid", sa.Integer, nullable=False),
        sa.Column("hotkey", sa.String(64), nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("next_attempt_at", When, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("records", sa.Integer, nullable=False),
        sa.Column("sample", sa.JSON, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_validator_pending_uid", "validator_pending", ["uid"])
    op.create_table(
        "validator_state",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.JSON, nullable=True),
    )
    op.create_table(
        "validator_steps",
        sa.Column("step", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("block", sa.BigInteger, nullable=False),
        sa.Column("started_at", When, nullable=False),
        sa.Column("finished_at", When, nullable=True),
        sa.Column("miners", sa.Integer, nullable=False, server_default="0"),
        sa.Column("pulled", sa.Integer, nullable=False, server_default="0"),
        sa.Column("accepted", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rejected", sa.Integer, nullable=False, server_default="0"),
        sa.Column("seconds", sa.Float, nullable=False, server_default="0"),
    )
    op.create_table(
        "validator_weights",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("block", sa.BigInteger, nullable=False),
        sa.Column("set_at", When, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("weights", sa.JSON, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
    )


def downgrade() -> None:
    for table in ("validator_weights", "validator_steps", "validator_state", "validator_pending",
                  "validator_rejections", "validator_cursors", "validator_miners", "validator_accepted"):
        op.drop_table(table)
