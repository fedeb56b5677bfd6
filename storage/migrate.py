"""Alembic migrations: one shared env, one versions folder per owning package, one version table each."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError
from sqlalchemy import Engine

from schemas.errors import StorageError

_SCRIPT_LOCATION = Path(__file__).parent / "alembic"


def _config(engine: Engine, versions_dir: Path, version_table: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_SCRIPT_LOCATION))
    cfg.set_main_option("version_locations", str(versions_dir))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["engine"] = engine
    cfg.attributes["version_table"] = version_table
    return cfg


def upgrade(engine: Engine, versions_dir: Path, version_table: str, revision: str = "head") -> None:
    """Bring the tables of one package (its `versions_dir`) up to `revision`."""
    try:
        command.upgrade(_config(engine, versions_dir, version_table), revision)
    except CommandError as exc:
        raise StorageError(f"migration of {version_table} failed: {exc}",
                           hint="the database may be from a newer glean; upgrade glean or use a fresh database",
                           ) from exc


def downgrade(engine: Engine, versions_dir: Path, version_table: str, revision: str) -> None:
    """Take the tables of one package (its `versions_dir`) back down to `revision` ("base" drops them all)."""
    try:
        command.downgrade(_config(engine, versions_dir, version_table), revision)
    except CommandError as exc:
        raise StorageError(f"downgrade of {version_table} to {revision} failed: {exc}",
                           hint="name a revision older than the applied one (see the package's migrations folder)",
                           ) from exc


def current(engine: Engine, versions_dir: Path, version_table: str) -> str | None:
    """The applied revision of one package, None when none is."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn, opts={"version_table": version_table}).get_current_revision()
