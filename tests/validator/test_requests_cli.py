"""The request commands end to end on one machine: `glean request new` writes a spec, `glean request submit` checks
it and sends it signed to the validator's listener announced on a LocalChain, the operator adopts it with `glean
validator adopt`, and `glean request status` reads it back from the listener."""

from __future__ import annotations

import asyncio
import json

import pytest
import yaml

from chain import LocalChain
from glean.cli import main
from schemas.config import GleanConfig
from tests.miner.support import registered
from validator.listener import Listener
from validator.store import ValidatorStore, database_url

PATTERN = "^http://127\\.0\\.0\\.1:9/async/"


@pytest.fixture
def net(tmp_path, monkeypatch):
    monkeypatch.setenv("GLEAN_WALLET__PATH", str(tmp_path / "wallets"))
    return tmp_path / "net"


def _new(net, tmp_path, *extra: str) -> int:
    return main(["--data-dir", str(net), "request", "new", "--id", "rust-async", "--kind", "web",
                 "--param", "seeds=[http://127.0.0.1:9/async/]", "--param", f"allow_patterns=['{PATTERN}']",
                 "--keyword", "async", "--keyword", "tokio", "--out", str(tmp_path / "rust-async.yaml"), *extra])


def test_new_writes_a_spec_skeleton_that_loads(net, tmp_path):
    assert _new(net, tmp_path) == 0
    written = yaml.safe_load((tmp_path / "rust-async.yaml").read_text())
    assert written["sources"] == [{"kind": "web", "params": {"seeds": ["http://127.0.0.1:9/async/"],
                                                             "allow_patterns": [PATTERN]}}]
    assert written["relevance"]["keywords"] == {"async": 1.0, "tokio": 1.0}
    assert _new(net, tmp_path) == 2  # never overwrites


def test_submit_refuses_a_bad_spec_naming_the_file_and_field(net, tmp_path, capsys):
    path = tmp_path / "rust-async.yaml"
    path.write_text(yaml.safe_dump({"id": "rust-async", "title": "x", "relevance": {"keywords": {"a": 1}},
                                    "sources": [{"kind": "web", "params": {"seeds": ["https://x.org/"]}}]}))
    assert main(["--data-dir", str(net), "request", "submit", str(path), "--target-records", "5"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "allow_patterns" in err and "hint:" in err


async def test_submit_adopt_and_status_through_the_announced_listener(net, tmp_path, capsys):
    config = GleanConfig(data_dir=net, validator={"listener_host": "127.0.0.1", "listener_port": 0})
    net.mkdir()
    chain = LocalChain(net / "chain.sqlite")
    wallet = await registered(chain, "validator", stake=100.0)
    store = ValidatorStore.open(database_url(config))
    listener = Listener(config, chain=chain, store=store, hotkey=wallet.hotkey.ss58_address, builtin=())
    await listener.start(wallet)
    try:
        assert _new(net, tmp_path) == 0
        argv = ["--data-dir", str(net), "request", "submit", str(tmp_path / "rust-async.yaml"),
                "--target-records", "20", "--note", "for a small model"]
        assert await asyncio.to_thread(main, argv) == 0
        [kept] = store.list_requests()
        assert (kept.status, kept.domain, kept.request.note) == ("pending", "rust-async", "for a small model")
        assert await asyncio.to_thread(main, ["--data-dir", str(net), "validator", "adopt",
                                              kept.request_id[:10], "--weight", "2"]) == 0
        capsys.readouterr()
        assert await asyncio.to_thread(main, ["--data-dir", str(net), "request", "status", kept.request_id]) == 0
        assert "adopted" in capsys.readouterr().out
        assert await asyncio.to_thread(main, ["--data-dir", str(net), "validator", "requests", "--json"]) == 0
        [listed] = json.loads(capsys.readouterr().out)
        assert (listed["status"], listed["weight"], listed["target"]) == ("adopted", 2.0, {"records": 20})
    finally:
        await listener.stop()
        store.close()
        await chain.close()


async def test_miner_feedback_reads_what_the_validator_did_with_its_records(net, tmp_path, capsys):
    from chain import load_or_create_wallet
    from tests.validator.test_listener import _commit_miner

    config = GleanConfig(data_dir=net, validator={"listener_host": "127.0.0.1", "listener_port": 0})
    net.mkdir()
    chain = LocalChain(net / "chain.sqlite")
    wallet = await registered(chain, "validator", stake=100.0)
    miner = load_or_create_wallet("default", "default", tmp_path / "wallets")
    store = ValidatorStore.open(database_url(config))
    _commit_miner(store, miner.hotkey.ss58_address)
    listener = Listener(config, chain=chain, store=store, hotkey=wallet.hotkey.ss58_address, builtin=())
    await listener.start(wallet)
    try:
        assert await asyncio.to_thread(main, ["--data-dir", str(net), "miner", "feedback", "--json"]) == 0
        [answer] = json.loads(capsys.readouterr().out)
        assert (answer["status"], answer["uid"], answer["accepted"]) == (200, 4, 1)
        assert answer["rejected"] == {"quality:gopher_min_words": 2}
        assert await asyncio.to_thread(main, ["--data-dir", str(net), "miner", "feedback"]) == 0
        shown = capsys.readouterr().out
        assert "quality:gopher_min_words 2" in shown and "https://example.org/moved" in shown
    finally:
        await listener.stop()
        store.close()
        await chain.close()
