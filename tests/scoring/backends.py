"""The novelty backends the novelty tests run against: the in-memory index and the shared PostgreSQL one."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator

import pytest

from scoring.novelty import NoveltyIndex

BACKENDS = ["memory", pytest.param("postgres", marks=pytest.mark.postgres)]


def fresh_database(base_url: str) -> str:
    """A new empty database on the throwaway cluster."""
    import psycopg

    name = f"n_{os.getpid()}_{time.monotonic_ns()}"
    with psycopg.connect(base_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base_url.rsplit("/", 1)[0] + f"/{name}"


def index_factory(request: pytest.FixtureRequest) -> Iterator[Callable[[], object]]:
    """Empty indexes of the backend `request.param` names (each PostgreSQL one in its own database)."""
    if request.param == "memory":
        yield NoveltyIndex
        return
    from validator.novelty_pg import PgNoveltyIndex
    from validator.store import ValidatorStore

    base = request.getfixturevalue("postgres_url")
    stores: list[ValidatorStore] = []

    def make() -> PgNoveltyIndex:
        stores.append(ValidatorStore.open(fresh_database(base)))
        return PgNoveltyIndex(stores[-1].engine)

    yield make
    for store in stores:
        store.close()
