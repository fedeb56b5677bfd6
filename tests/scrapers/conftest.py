"""Fixtures of the scrapers suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scrapers.oauth import TOKENS
from scrapers.pacing import forget_pacing
from scrapers.robots import forget_robots
from tests.scrapers.recorded import TEST_CLIENT_ID, QuickSite


@pytest.fixture(autouse=True)
def _fresh_robots_cache() -> Iterator[None]:
    """fetch_one caches robots.txt per host:port; loopback ports are reused between tests."""
    forget_robots()
    yield
    forget_robots()


@pytest.fixture(autouse=True)
def _fresh_pace_and_tokens() -> Iterator[None]:
    """The re-fetch's pacer holds and the OAuth token cache live per process: each test starts without them."""
    forget_pacing()
    TOKENS.forget()
    yield
    forget_pacing()
    TOKENS.forget()


@pytest.fixture
def site() -> Iterator[QuickSite]:
    """The shared `site` fixture, quicker to stop."""
    with QuickSite() as s:
        yield s


@pytest.fixture(autouse=True)
def _reddit_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reddit sources need OAuth credentials in the environment; tests that check their absence delete them."""
    monkeypatch.setenv("GLEAN_REDDIT_CLIENT_ID", TEST_CLIENT_ID)
    monkeypatch.setenv("GLEAN_REDDIT_CLIENT_SECRET", "tests-secret")
