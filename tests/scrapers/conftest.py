"""Fixtures of the scrapers suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scrapers.robots import forget_robots
from tests.scrapers.recorded import QuickSite


@pytest.fixture(autouse=True)
def _fresh_robots_cache() -> Iterator[None]:
    """fetch_one caches robots.txt per host:port; loopback ports are reused between tests."""
    forget_robots()
    yield
    forget_robots()


@pytest.fixture
def site() -> Iterator[QuickSite]:
    """The shared `site` fixture, quicker to stop."""
    with QuickSite() as s:
        yield s
