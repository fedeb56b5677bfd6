"""Fixtures of the validator tests: one sample web (real prose on loopback) shared by the whole session."""

from collections.abc import Iterator

import pytest

from glean.sampleweb import SampleWeb


@pytest.fixture(scope="session")
def web() -> Iterator[SampleWeb]:
    """The offline sample web; tests that edit pages or add faults undo them (`local_net` resets it)."""
    with SampleWeb() as sample:
        yield sample
