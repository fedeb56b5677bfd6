"""Engines and sessions: SQLite (WAL, one file per role) or PostgreSQL, chosen by one URL."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from schemas.errors import StorageError

log = logging.getLogger(__name__)

# 8 KiB pages hold ~2 KB text rows without one page per row; a 64 MiB page cache; 5 s busy wait for writers.
SQLITE_PRAGMAS = (
    ("journal_mode", "WAL"),
    ("synchronous", "NORMAL"),
    ("foreign_keys", "ON"),
    ("busy_timeout", "5000"),
    ("cache_size", "-65536"),
    ("temp_store", "MEMORY"),
    ("mmap_size", str(256 * 1024 * 1024)),
)
SQLITE_PAGE_SIZE = 8192


def sqlite_url(data_dir: Path, role: str) -> str:
    """The default database of a role: `<data_dir>/<role>/<role>.sqlite`."""
    folder = Path(data_dir).expanduser() / role
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / (role + '.sqlite')}"


def role_database_url(configured: str | None, data_dir: Path, role: str) -> str:
    """A role's database: the configured URL, else its default SQLite file (`sqlite_url`)."""
    return configured or sqlite_url(data_dir, role)


def _on_sqlite_connect(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")  # only takes effect before the first table
    for name, value in SQLITE_PRAGMAS:
        cur.execute(f"PRAGMA {name}={value}")
    cur.close()


def make_engine(url: str, *, echo: bool = False, pool_size: int = 5) -> Engine:
    """An engine for a SQLite or PostgreSQL URL with the project's settings applied."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"invalid database URL {url!r}",
                           hint="use sqlite:///path/file.sqlite or postgresql+psycopg://user@host/db") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, echo=echo, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    if backend == "postgresql":
        if parsed.drivername != "postgresql+psycopg":
            raise StorageError(f"PostgreSQL driver {parsed.drivername!r} is not supported",
                               hint="use a postgresql+psycopg://… URL (psycopg 3)")
        return create_engine(parsed, echo=echo, pool_size=pool_size, pool_pre_ping=True)
    raise StorageError(f"database backend {backend!r} is not supported",
                       hint="use sqlite:///… or postgresql+psycopg://…")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A short session that commits on success and rolls back on any error."""
    with factory() as session, session.begin():
        yield session


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
