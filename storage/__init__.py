"""SQLAlchemy engine/session factory (SQLite, PostgreSQL) and the migration runner; tables live with their owners."""

from storage.engine import is_sqlite, make_engine, role_database_url, session_factory, sqlite_url, transaction
from storage.migrate import current, downgrade, upgrade

__all__ = ["current", "downgrade", "is_sqlite", "make_engine", "role_database_url", "session_factory", "sqlite_url",
           "transaction", "upgrade"]
