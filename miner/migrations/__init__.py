"""Alembic revisions of the miner's tables (version table `alembic_version_miner`), run by `storage.upgrade`."""
