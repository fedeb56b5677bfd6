"""One current accepted record per (domain, canonical URI), and the facts the validator establishes per row.

- `superseded_by`: the accepted_id of the newer version that replaced the row (null: the row is current). A partial
  UNIQUE index on (domain, uri) over current rows lets at most one version of a page be current; older duplicates
  already in the table are superseded by the newest of their URI (highest accepted_id) first.
- `detected_lang`: the language the ladder's language-id signal detected (null: none with confidence).
- `verification`: the row's re-fetch when it was sampled ("pass", "unknown_then_pass"; null: not sampled).
- The licence decision (scrapers.licence.decide): `decided_licence`, `text_allowed`, `attribution`,
  `licence_basis`; null on rows accepted before this revision (no decision recorded).

Revision ID: 0003_validator_versions
Revises: 0002_validator_evidence
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_validator_versions"
down_revision = "0002_validator_evidence"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CURRENT = "ux_validator_accepted_current_uri"
FACTS = ("detected_lang", "verification", "decided_licence", "text_allowed", "attribution", "licence_basis")


def upgrade() -> None:
    with op.batch_alter_table("validator_accepted") as batch:
        batch.add_column(sa.Column("superseded_by", BigId, nullable=True))
        batch.add_column(sa.Column("detected_lang", sa.String(16), nullable=True))
        batch.add_column(sa.Column("verification", sa.String(32), nullable=True))
        batch.add_column(sa.Column("decided_licence", sa.String(200), nullable=True))
        batch.add_column(sa.Column("text_allowed", sa.Boolean, nullable=True))
        batch.add_column(sa.Column("attribution", sa.Text, nullable=True))
        batch.add_column(sa.Column("licence_basis", sa.String(200), nullable=True))
    _supersede_duplicates()
    op.create_index(CURRENT, "validator_accepted", ["domain", "uri"], unique=True,
                    sqlite_where=sa.text("superseded_by IS NULL"), postgresql_where=sa.text("superseded_by IS NULL"))


def _supersede_duplicates() -> None:
    """Every row of a (domain, uri) that has a newer row is superseded by the newest one."""
    accepted = sa.table("validator_accepted", sa.column("accepted_id"), sa.column("domain"), sa.column("uri"),
                        sa.column("superseded_by"))
    newer = accepted.alias("newer")
    newest = (sa.select(sa.func.max(newer.c.accepted_id))
              .where(newer.c.domain == accepted.c.domain, newer.c.uri == accepted.c.uri).scalar_subquery())
    op.execute(accepted.update().where(accepted.c.accepted_id < newest).values(superseded_by=newest))


def downgrade() -> None:
    op.drop_index(CURRENT, table_name="validator_accepted")
    with op.batch_alter_table("validator_accepted") as batch:
        for name in ("superseded_by", *FACTS):
            batch.drop_column(name)
