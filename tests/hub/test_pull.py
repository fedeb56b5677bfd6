"""`hub.pull` and `glean pull`: each filter returns exactly the expected rows; outputs; resolution."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from glean.cli import app
from glean.pull_cmd import newest_commitment
from hub import LocalTarget, Publisher, pull
from schemas.domain import DomainCatalog
from schemas.errors import PullError
from storage import make_engine
from tests.hub.records import AcceptedStore, accepted

# id: (source, lang, quality, published days after 2025-01-01 or None: fetched 2025-03-02)
ROWS = {
    1: ("arxiv", "en", 0.90, 10),
    2: ("feed", "en", 0.50, 20),
    3: ("arxiv", "en", 0.70, 30),
    4: ("feed", "de", 0.95, 40),
    5: ("arxiv", "de", 0.60, None),
    6: ("feed", None, 0.80, 5),
}
LATER = {7: ("web", "en", 0.85, 45)}  # the second release
DETECTED = {6: "de"}  # the validator's language id where it differs from the miner's claim (row 6 claimed none)


def _records(rows: dict) -> list:
    return [accepted(i, source=s, lang=lang, quality=q, published_days=days, detected_lang=DETECTED.get(i, lang))
            for i, (s, lang, q, days) in rows.items()]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local hub folder with two releases of ml-research: ids 1-6, then id 7."""
    root = tmp_path_factory.mktemp("pull")
    store = AcceptedStore(_records(ROWS))
    engine = make_engine(f"sqlite:///{root / 'v.sqlite'}")
    publisher = Publisher(engine, LocalTarget(root / "hub"), DomainCatalog.load())
    publisher.publish(store.fetch_after, validator_hotkey="5V")
    store.add(_records(LATER))
    publisher.publish(store.fetch_after, validator_hotkey="5V")
    return root / "hub"


def _ids(urls) -> list[int]:
    return sorted(int(u.rsplit("/", 1)[1]) for u in urls)


FILTERS = [
    ({}, [], [1, 2, 3, 4, 5, 6, 7]),
    ({"since": datetime(2025, 1, 25, tzinfo=UTC)}, ["--since", "2025-01-25"], [3, 4, 5, 7]),
    ({"source": "feed"}, ["--source", "feed"], [2, 4, 6]),
    ({"min_quality": 0.8}, ["--min-quality", "0.8"], [1, 4, 6, 7]),
    ({"lang": "de"}, ["--lang", "de"], [4, 5, 6]),  # the detected language, not the claim
    ({"source": "feed", "min_quality": 0.9}, ["--source", "feed", "--min-quality", "0.9"], [4]),
    ({"revision": "r00000001"}, ["--revision", "r00000001"], [1, 2, 3, 4, 5, 6]),
]


@pytest.mark.parametrize(("kwargs", "_args", "expected"), FILTERS, ids=[str(f[1]) for f in FILTERS])
def test_pull_filter_returns_exactly_the_expected_rows(folder, kwargs, _args, expected):
    assert _ids(pull("ml-research", path=folder, **kwargs)["uri"]) == expected


@pytest.mark.parametrize(("_kwargs", "args", "expected"), FILTERS, ids=[str(f[1]) for f in FILTERS])
def test_glean_pull_filter_writes_exactly_the_expected_rows(folder, tmp_path, _kwargs, args, expected):
    out = tmp_path / "rows.parquet"
    result = CliRunner().invoke(app, ["pull", "ml-research", "--path", str(folder), *args, "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert _ids(pq.read_table(out)["uri"].to_pylist()) == expected


def test_glean_pull_writes_jsonl_with_iso_times(folder, tmp_path):
    out = tmp_path / "rows.jsonl"
    result = CliRunner().invoke(app, ["pull", "ml-research", "--path", str(folder), "--lang", "de", "--out", str(out)])

    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert result.exit_code == 0, result.output
    assert _ids(r["uri"] for r in rows) == [4, 5, 6]
    assert rows[0]["claimed_fetched_at"].startswith("2025-03-02T")
    assert rows[0]["signals"][0]["name"] == "stop_word_ratio"


def test_glean_pull_without_out_prints_a_summary(folder):
    result = CliRunner().invoke(app, ["pull", "ml-research", "--path", str(folder), "--source", "arxiv"],
                                env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    assert "rows" in result.output and "arxiv 3" in result.output
    assert "r00000001 (3)" in result.output


def test_pull_of_an_unknown_domain_names_the_published_ones(folder):
    with pytest.raises(PullError, match="no domain 'world-news'") as err:
        pull("world-news", path=folder)
    assert "ml-research" in err.value.hint


def test_pull_of_an_unknown_revision_names_the_releases(folder):
    with pytest.raises(PullError, match="no release") as err:
        pull("ml-research", path=folder, revision="r00000099")
    assert "r00000001, r00000007" in err.value.hint


def test_glean_pull_with_both_repo_and_path_is_a_usage_error(folder):
    result = CliRunner().invoke(app, ["pull", "ml-research", "--path", str(folder), "--repo", "a/b"])
    assert result.exit_code != 0


def _neuron(commitment: str | None, stake: float, permit: bool = True) -> SimpleNamespace:
    return SimpleNamespace(commitment=commitment, stake=stake, validator_permit=permit)


def test_newest_commitment_is_the_newest_release_of_the_most_staked_repo():
    neurons = [_neuron("org/a@r00000001", 50), _neuron("org/a@r00000120", 5), _neuron("org/b@r00000900", 40),
               _neuron("org/c@r99999999", 1000, permit=False), _neuron("not a location", 900), _neuron(None, 900)]

    assert newest_commitment(neurons) == ("org/a", "r00000120")
    assert newest_commitment(neurons, repo="org/b") == ("org/b", "r00000900")
    assert newest_commitment(neurons, repo="org/z") is None


def test_newest_commitment_orders_releases_numerically():
    neurons = [_neuron("org/a@r99999999", 1), _neuron("org/a@r100000000", 1)]
    assert newest_commitment(neurons) == ("org/a", "r100000000")


async def _commit_locations(chain_path: Path, commitments: list[tuple[str, float]]) -> None:
    from chain import LocalChain

    chain = LocalChain(chain_path, netuid=1)
    try:
        for i, (location, stake) in enumerate(commitments):
            wallet = SimpleNamespace(hotkey=SimpleNamespace(ss58_address=f"5Validator{i}"),
                                     coldkeypub=SimpleNamespace(ss58_address=f"5Owner{i}"))
            await chain.register(wallet)
            await chain.add_stake(f"5Validator{i}", stake)
            await chain.commit(wallet, location)
        await chain.set_validator_permits()
    finally:
        await chain.close()


def test_glean_pull_from_chain_loads_the_newest_committed_release(folder, tmp_path):
    """--from-chain through chain.open_chain on a real LocalChain file (the chain package's LocalChain)."""
    import asyncio

    chain_path = tmp_path / "chain.sqlite"
    asyncio.run(_commit_locations(chain_path, [(f"{folder}@r00000001", 100.0), (f"{folder}@r00000007", 10.0)]))
    out = tmp_path / "rows.parquet"

    result = CliRunner().invoke(app, ["pull", "ml-research", "--from-chain", "--out", str(out)],
                                env={"GLEAN_CHAIN__LOCAL_PATH": str(chain_path)})

    assert result.exit_code == 0, result.output
    assert _ids(pq.read_table(out)["uri"].to_pylist()) == [1, 2, 3, 4, 5, 6, 7]


def test_pull_of_a_folder_that_is_not_a_glean_dataset_is_a_pull_error(tmp_path):
    (tmp_path / "data" / "ml-research").mkdir(parents=True)
    (tmp_path / "data" / "ml-research" / "notes.txt").write_text("not parquet")

    with pytest.raises(PullError, match="cannot load ml-research"):
        pull("ml-research", path=tmp_path)
