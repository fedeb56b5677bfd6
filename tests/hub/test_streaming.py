"""`pull(..., streaming=True)` and `glean pull --streaming`: the same rows, features and errors as a normal pull,
from a local folder and from a Hub-compatible server (read with range requests, nothing downloaded to the cache)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from glean.cli import app
from hub import HubTarget, LocalTarget, Publisher, pull
from schemas.domain import DomainCatalog
from schemas.errors import PullError
from storage import make_engine
from tests.hub.fake_hub import FakeHub
from tests.hub.records import AcceptedStore
from tests.hub.test_pull import FILTERS, LATER, ROWS, _ids, _records

REPO = "org/glean-stream"
FILTER_KWARGS = [f[0] for f in FILTERS]
FILTER_IDS = [str(f[1]) for f in FILTERS]


def _publish_twice(root: Path, target) -> None:
    """Two releases of ml-research (ids 1-6, then id 7) and one of world-news."""
    store = AcceptedStore(_records(ROWS))
    publisher = Publisher(make_engine(f"sqlite:///{root / 'v.sqlite'}"), target, DomainCatalog.load())
    publisher.publish(store.fetch_after, validator_hotkey="5V")
    store.add(_records(LATER))
    publisher.publish(store.fetch_after, validator_hotkey="5V")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stream")
    _publish_twice(root, LocalTarget(root / "hub"))
    return root / "hub"


def _hub_online(monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline mode off (the hub conftest turns it on for every test), as the fake_hub fixture does."""
    import datasets.config
    import huggingface_hub.constants as hf_constants

    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", False)


@pytest.fixture(scope="module")
def hub_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeHub]:
    """A local Hub server holding the same two releases in REPO, published once for the module."""
    import huggingface_hub.constants as hf_constants

    with FakeHub() as hub, pytest.MonkeyPatch.context() as monkeypatch:
        _hub_online(monkeypatch)
        # Module fixtures start before the conftest's autouse ones: uploads through legacy LFS, as there.
        monkeypatch.setattr(hf_constants, "HF_HUB_DISABLE_XET", True)
        root = tmp_path_factory.mktemp("stream-hub")
        _publish_twice(root, HubTarget(REPO, token="hf_test", endpoint=hub.url, backoff_seconds=0.01))
        yield hub


@pytest.fixture
def hub_repo(hub_server, tmp_path, monkeypatch) -> dict:
    """The keyword arguments that pull from the local Hub server, online, with an empty Hugging Face cache of this
    test's own."""
    import huggingface_hub.constants as hf_constants

    _hub_online(monkeypatch)
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    return {"repo": REPO, "endpoint": hub_server.url, "token": "hf_test"}


def _both(**kwargs) -> tuple[list[dict], list[dict]]:
    """Rows of a normal pull and of a streaming pull with the same arguments, in the order each yields them."""
    eager = pull("ml-research", **kwargs)
    stream = pull("ml-research", streaming=True, **kwargs)
    assert isinstance(eager, datasets.Dataset) and isinstance(stream, datasets.IterableDataset)
    assert stream.features == eager.features
    return list(eager), list(stream)


def _hub_cache_parquet() -> list[Path]:
    import huggingface_hub.constants as hf_constants

    return list(Path(hf_constants.HF_HUB_CACHE).rglob("*.parquet"))


@pytest.mark.parametrize("kwargs", FILTER_KWARGS, ids=FILTER_IDS)
def test_streaming_pull_of_a_folder_yields_the_rows_of_a_normal_pull(folder, kwargs):
    eager, stream = _both(path=folder, **kwargs)

    assert stream == eager
    assert _ids(r["uri"] for r in stream) == next(f[2] for f in FILTERS if f[0] == kwargs)


@pytest.mark.parametrize("kwargs", FILTER_KWARGS, ids=FILTER_IDS)
def test_streaming_pull_from_the_hub_yields_the_rows_of_a_normal_pull(hub_repo, kwargs):
    stream = list(pull("ml-research", streaming=True, **hub_repo, **kwargs))
    assert _hub_cache_parquet() == []  # read with range requests, not downloaded ahead
    eager = list(pull("ml-research", **hub_repo, **kwargs))

    assert stream == eager
    assert _ids(r["uri"] for r in stream) == next(f[2] for f in FILTERS if f[0] == kwargs)


def test_streaming_pull_of_a_release_without_the_domain_is_empty_with_the_features(folder):
    stream = pull("ml-research", path=folder, revision="r00000001", streaming=True, source="web")

    assert list(stream) == []
    assert stream.features == pull("ml-research", path=folder).features


@pytest.mark.parametrize("streaming", [False, True], ids=["normal", "streaming"])
def test_unknown_domain_of_a_folder_names_the_published_ones(folder, streaming):
    with pytest.raises(PullError, match=f"{folder} has no domain 'world-news'") as err:
        pull("world-news", path=folder, streaming=streaming)
    assert err.value.hint == "published domains: ml-research"


@pytest.mark.parametrize("streaming", [False, True], ids=["normal", "streaming"])
def test_unknown_revision_of_a_folder_names_the_releases(folder, streaming):
    with pytest.raises(PullError, match="has no release 'r00000099'") as err:
        pull("ml-research", path=folder, revision="r00000099", streaming=streaming)
    assert err.value.hint == "known releases: r00000001, r00000007"


@pytest.mark.parametrize("streaming", [False, True], ids=["normal", "streaming"])
def test_unknown_domain_of_a_hub_repo_names_the_published_ones(hub_repo, streaming):
    with pytest.raises(PullError, match=f"^{REPO} has no domain 'world-news' ") as err:
        pull("world-news", streaming=streaming, **hub_repo)
    assert err.value.hint == "published domains: ml-research"


@pytest.mark.parametrize("streaming", [False, True], ids=["normal", "streaming"])
def test_unknown_revision_of_a_hub_repo_is_a_pull_error(hub_repo, streaming):
    with pytest.raises(PullError, match=f"^{REPO} has no revision 'r00000099' "):
        pull("ml-research", revision="r00000099", streaming=streaming, **hub_repo)


@pytest.mark.parametrize("streaming", [False, True], ids=["normal", "streaming"])
def test_unknown_hub_repo_is_a_pull_error(hub_repo, streaming):
    with pytest.raises(PullError, match="^dataset repo org/missing not found "):
        pull("ml-research", streaming=streaming, **{**hub_repo, "repo": "org/missing"})


@pytest.mark.parametrize(("_kwargs", "args", "expected"), FILTERS, ids=FILTER_IDS)
def test_glean_pull_streaming_writes_the_rows_of_a_normal_pull(folder, tmp_path, _kwargs, args, expected):
    written = {}
    for mode in ("normal", "streaming"):
        out = tmp_path / f"{mode}.parquet"
        flags = ["--streaming"] if mode == "streaming" else []
        result = CliRunner().invoke(app, ["pull", "ml-research", "--path", str(folder), *args, *flags,
                                          "--out", str(out)])
        assert result.exit_code == 0, result.output
        written[mode] = pq.read_table(out)

    assert written["streaming"].equals(written["normal"])
    assert _ids(written["streaming"]["uri"].to_pylist()) == expected


def test_glean_pull_streaming_from_the_hub_writes_jsonl_line_by_line(hub_repo, tmp_path):
    out = tmp_path / "rows.jsonl"
    result = CliRunner().invoke(app, ["pull", "ml-research", "--repo", REPO, "--streaming", "--lang", "de",
                                      "--out", str(out)],
                                env={"GLEAN_HUB__ENDPOINT": hub_repo["endpoint"], "HF_TOKEN": "hf_test"})

    assert result.exit_code == 0, result.output
    assert "wrote 3 rows" in result.output
    assert len(out.read_text().splitlines()) == 3
    assert _hub_cache_parquet() == []


def test_glean_pull_streaming_without_out_prints_the_summary_of_a_normal_pull(folder):
    args = ["pull", "ml-research", "--path", str(folder), "--source", "arxiv"]
    normal = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    streamed = CliRunner().invoke(app, [*args, "--streaming"], env={"COLUMNS": "200"})

    assert streamed.exit_code == 0, streamed.output
    assert streamed.output == normal.output
    assert "arxiv 3" in streamed.output


def test_glean_pull_streaming_of_a_damaged_shard_fails_clearly_and_leaves_no_file(folder, tmp_path):
    damaged = tmp_path / "hub"
    shutil.copytree(folder, damaged)
    shard = next((damaged / "data" / "ml-research" / "r00000007").glob("*.parquet"))
    shard.write_bytes(shard.read_bytes()[:200])
    out = tmp_path / "rows.parquet"

    result = CliRunner().invoke(app, ["pull", "ml-research", "--path", str(damaged), "--streaming", "--out", str(out)])

    assert isinstance(result.exception, PullError) and "reading the rows failed" in str(result.exception)
    assert list(tmp_path.glob("*rows.parquet*")) == []


def test_streaming_pull_from_an_unreachable_hub_is_a_pull_error(monkeypatch):
    import socket

    _hub_online(monkeypatch)
    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(PullError, match=f"cannot reach the Hub for {REPO}") as err:
        pull("ml-research", repo=REPO, endpoint=f"http://127.0.0.1:{port}", streaming=True)
    assert "HF_ENDPOINT" in err.value.hint
