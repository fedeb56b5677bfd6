"""Alembic revisions of the hub tables (version table `alembic_version_hub`), run through `storage.upgrade`."""
