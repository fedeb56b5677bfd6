"""SQLAlchemy engine/session factory (SQLite, PostgreSQL) and the migration runner; tables live with their owners."""

from storage.engine import is_sqlite, make_engine, session_factory, sqlite_url, transaction
from storage.migrate import current, upgrade

__all__ = ["current", "is_sqlite", "make_engine", "session_factory", "sqlite_url", "transaction", "upgrade"]
