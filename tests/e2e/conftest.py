"""One local network run serves both end-to-end modules (tests/e2e/network.py): starting one takes minutes."""

from __future__ import annotations

import pytest

from tests.e2e.network import Run, local_up


@pytest.fixture(scope="session")
def run(tmp_path_factory: pytest.TempPathFactory, _isolated_caches) -> Run:
    return local_up(tmp_path_factory.mktemp("e2e") / "network")
