"""Hub fixtures: isolated Hugging Face caches (offline by default), a catalog, a state engine, a fake Hub."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas.domain import DomainCatalog
from storage import make_engine
from tests.hub.fake_hub import FakeHub
from tests.hub.records import AcceptedStore, accepted


@pytest.fixture(autouse=True)
def hf_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Caches under the test HF_HOME and offline mode on, even if huggingface_hub or datasets were imported
    before the root conftest set the environment (both read it at import time)."""
    import datasets
    import datasets.config
    import huggingface_hub.constants as hf_constants
    from huggingface_hub.utils import disable_progress_bars

    home = Path(os.environ["HF_HOME"])
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hf_constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", home / "datasets")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True)
    disable_progress_bars()
    datasets.disable_progress_bars()


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    """A Hub-compatible server on loopback, with offline mode off so huggingface_hub may reach it."""
    import datasets.config
    import huggingface_hub.constants as hf_constants

    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", False)
    with FakeHub() as hub:
        yield hub


@pytest.fixture(scope="session")
def catalog() -> DomainCatalog:
    return DomainCatalog.load()


@pytest.fixture
def engine(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'validator.sqlite'}")
    yield engine
    engine.dispose()


def mixed_records(first: int, last: int) -> list:
    """ids first..last over two domains, two sources and three miners (a third of them world-news)."""
    return [accepted(i, domain="world-news" if i % 3 == 0 else "ml-research",
                     source="feed" if i % 2 else "arxiv", miner=f"5Miner{i % 3}", published_days=i % 50)
            for i in range(first, last + 1)]


@pytest.fixture
def store() -> AcceptedStore:
    """120 accepted records: 80 ml-research, 40 world-news."""
    return AcceptedStore(mixed_records(1, 120))
