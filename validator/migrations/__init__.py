"""Alembic revisions of the validator tables (version table alembic_version_validator)."""
