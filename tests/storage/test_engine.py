from pathlib import Path

import pytest
from sqlalchemy import text

from schemas import StorageError
from storage import current, make_engine, session_factory, sqlite_url, transaction, upgrade

VERSIONS = Path(__file__).parent.parent / "data" / "storage_migrations"


def test_migrations_create_tables_and_are_idempotent(database_url):
    engine = make_engine(database_url)
    upgrade(engine, VERSIONS, "alembic_version_test")
    upgrade(engine, VERSIONS, "alembic_version_test")
    assert current(engine, VERSIONS, "alembic_version_test") == "0002_notes_tag"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO notes (body, tag) VALUES (:b, :t)"), {"b": "hello", "t": "x"})
        assert conn.execute(text("SELECT body, tag FROM notes")).one() == ("hello", "x")
    engine.dispose()


def test_two_packages_keep_separate_version_tables(database_url):
    engine = make_engine(database_url)
    upgrade(engine, VERSIONS, "alembic_version_a", revision="0001_notes")
    assert current(engine, VERSIONS, "alembic_version_a") == "0001_notes"
    assert current(engine, VERSIONS, "alembic_version_b") is None
    engine.dispose()


def test_transaction_rolls_back_on_error(database_url):
    engine = make_engine(database_url)
    upgrade(engine, VERSIONS, "alembic_version_test")
    factory = session_factory(engine)
    with pytest.raises(RuntimeError), transaction(factory) as session:
        session.execute(text("INSERT INTO notes (body) VALUES ('lost')"))
        raise RuntimeError("boom")
    with transaction(factory) as session:
        assert session.execute(text("SELECT count(*) FROM notes")).scalar_one() == 0
    engine.dispose()


def test_bound_parameters_keep_hostile_text_as_data(database_url):
    engine = make_engine(database_url)
    upgrade(engine, VERSIONS, "alembic_version_test")
    hostile = "x'); DROP TABLE notes; --"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO notes (body) VALUES (:b)"), {"b": hostile})
        assert conn.execute(text("SELECT body FROM notes")).scalar_one() == hostile
    engine.dispose()


def test_sqlite_uses_wal_and_busy_timeout(tmp_path):
    engine = make_engine(sqlite_url(tmp_path, "miner"))
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() == 5000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    assert (tmp_path / "miner" / "miner.sqlite").exists()
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "fragment"),
    [("mysql://u@h/db", "not supported"), ("postgresql+asyncpg://u@h/db", "psycopg"), ("::::", "invalid database URL")],
)
def test_unsupported_urls_say_what_to_use(url, fragment):
    with pytest.raises(StorageError) as info:
        make_engine(url)
    assert fragment in info.value.message or fragment in (info.value.hint or "")
