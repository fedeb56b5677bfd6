"""The validator's /dashboard (validator/dashboard.py) over its FastAPI app: the page and its bundled assets, the
accepted-over-steps series from the store, and the chain's emission history. The browser test is in tests/e2e."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from chain import LocalChain
from schemas.record import Record, utcnow
from tests.chain.devkeys import dev_wallet
from validator import dashboard
from validator.metrics import ValidatorMetrics
from validator.store import Accepted, MinerCommit, ValidatorStore
from validator.web import build_app

TEXT = "The standard library module reads the file object and returns the decoded value for the caller. " * 5


@pytest.fixture
def store(tmp_path: Path):
    s = ValidatorStore.open(f"sqlite:///{tmp_path / 'validator.sqlite'}")
    yield s
    s.close()


def _accept(store: ValidatorStore, step: int, domain: str, n: int) -> None:
    now = utcnow() - timedelta(minutes=1)
    records = [Record.build(uri=f"https://example.org/{domain}/{step}/{i}", text=f"{domain} {i} {step} {TEXT}",
                            source="web", domain=domain, title=f"page {i}", fetched_at=now) for i in range(n)]
    accepted = [Accepted(record=record,
                         quality=0.9, relevance=0.8, novelty=1.0, freshness=1.0, size=0.5, desirability=1.0,
                         value=0.36, signals={}, minhash=b"\0" * 16) for record in records]
    store.commit_miner(MinerCommit(uid=0, hotkey="5Miner", step=step, validator_hotkey="5Val", credibility=0.5,
                                   score=0.1, step_score=0.1, accepted=accepted))


def _client(store: ValidatorStore, hotkey: str = "5Val") -> TestClient:
    return TestClient(build_app(store, ValidatorMetrics(), hotkey))


def test_dashboard_page_loads_its_chart_library_from_the_package(store: ValidatorStore) -> None:
    client = _client(store)
    page = client.get("/dashboard")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'src="dashboard/static/chart.umd.min.js"' in page.text and "http" not in page.text.split("<body>")[0]
    library = client.get("/dashboard/static/chart.umd.min.js")
    assert library.status_code == 200 and library.text.startswith("/*!\n * Chart.js v4")
    assert client.get("/dashboard/static/dashboard.js").status_code == 200


@pytest.mark.parametrize("name", ["../web.py", "..%2Fweb.py", "dashboard.html", "chart.js.LICENSE.md", "x.js"])
def test_only_the_dashboard_assets_are_served(store: ValidatorStore, name: str) -> None:
    assert _client(store).get(f"/dashboard/static/{name}").status_code == 404


def test_accepted_records_per_domain_are_cumulative_over_steps(store: ValidatorStore) -> None:
    for step in (1, 2, 3):
        store.next_step(block=10 * step)
    _accept(store, 1, "python-stdlib", 3)
    _accept(store, 1, "python-language", 1)
    _accept(store, 3, "python-stdlib", 2)
    data = _client(store).get("/api/dashboard/accepted").json()
    assert data["steps"] == [0, 1, 2, 3] and data["blocks"] == [10, 10, 20, 30]
    assert data["domains"] == {"python-language": [0, 1, 1, 1], "python-stdlib": [0, 3, 3, 5]}


def test_accepted_series_is_empty_before_the_first_step(store: ValidatorStore) -> None:
    assert _client(store).get("/api/dashboard/accepted").json()["domains"] == {}


def test_thinning_keeps_the_limit_and_the_newest_point() -> None:
    kept = dashboard.thin(10_000, limit=300)
    assert len(kept) <= 300 and kept[0] == 0 and kept[-1] == 9_999
    assert dashboard.thin(5, limit=300) == [0, 1, 2, 3, 4]


async def _paid_chain(path: Path) -> tuple[LocalChain, str]:
    """A LocalChain where one validator weighted two miners and two epochs ran."""
    chain = LocalChain(path, tempo=5, block_time=1.0)
    validator, miners = dev_wallet("dash-validator"), [dev_wallet("dash-miner-a"), dev_wallet("dash-miner-b")]
    for wallet in (*miners, validator):
        await chain.register(wallet)
    for i, wallet in enumerate(miners):
        await chain.serve(wallet, "127.0.0.1", 9000 + i)
    await chain.add_stake(validator.hotkey.ss58_address, 1000.0)
    await chain.advance(12)  # past the weights rate limit counted from registration
    await chain.set_weights(validator, {0: 0.75, 1: 0.25})
    await chain.advance(10)
    return chain, validator.hotkey.ss58_address


async def test_chain_view_has_emission_per_epoch_for_every_uid(store: ValidatorStore, tmp_path: Path) -> None:
    chain, hotkey = await _paid_chain(tmp_path / "chain.sqlite")
    try:
        data = await dashboard.ChainReader(hotkey, chain).view()
    finally:
        await chain.close()
    assert data["available"] and data["epochs"] and len(data["blocks"]) == len(data["epochs"])
    series = {s["uid"]: s for s in data["series"]}
    assert set(series) == {0, 1, 2} and series[2]["validator"]
    assert sum(series[0]["emission"]) == pytest.approx(3 * sum(series[1]["emission"]), rel=0.01)
    neurons = {n["uid"]: n for n in data["neurons"]}
    assert neurons[0]["emission"] > neurons[1]["emission"] > 0 and neurons[2]["dividends"] > 0


async def test_chain_view_is_unavailable_to_a_validator_not_on_that_chain(tmp_path: Path) -> None:
    chain, _hotkey = await _paid_chain(tmp_path / "chain.sqlite")
    try:
        data = await dashboard.ChainReader("5SomeoneElse", chain).view()
    finally:
        await chain.close()
    assert data == {"available": False, "reason": "this validator is not registered on the configured chain"}


async def test_chain_is_found_from_the_process_configuration(tmp_path: Path, monkeypatch) -> None:
    chain, hotkey = await _paid_chain(tmp_path / "net" / "chain.sqlite")
    await chain.close()
    config = tmp_path / "validator.toml"
    config.write_text(f'[chain]\nlocal_path = "{tmp_path / "net" / "chain.sqlite"}"\n', encoding="utf-8")
    monkeypatch.setenv("GLEAN_CONFIG", str(config))
    reader = dashboard.ChainReader(hotkey)
    data = await reader.view()
    await (await reader.chain()).close()
    assert data["available"] and data["epochs"]


async def test_no_chain_file_is_created_when_none_is_configured(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("GLEAN_CONFIG", raising=False)
    monkeypatch.setenv("GLEAN_DATA_DIR", str(tmp_path / "nothing-here"))
    data = await dashboard.ChainReader("5Val").view()
    assert data == {"available": False, "reason": "no chain configured for this process"}
    assert not (tmp_path / "nothing-here").exists()


def test_chain_endpoint_answers_even_without_a_chain(store: ValidatorStore, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("GLEAN_CONFIG", raising=False)
    monkeypatch.setenv("GLEAN_DATA_DIR", str(tmp_path / "nothing-here"))
    response = _client(store).get("/api/dashboard/chain")
    assert response.status_code == 200 and response.json()["available"] is False
