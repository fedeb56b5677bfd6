"""`glean validator status` reads the leaderboard from the validator's database."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

from chain.commitment import Commitment
from glean.cli import main
from schemas.config import GleanConfig
from validator.store import MinerCommit, ValidatorStore, database_url

HOTKEY = "5F1tEa7jqtScwZt9HDPLGaX3ik5dX4C6fnJ85PP47TNWGEBF"


def _seed(data_dir) -> None:
    store = ValidatorStore.open(database_url(GleanConfig(data_dir=data_dir)))
    store.sync_miners({4: HOTKEY, 5: "5Other"}, 0.1)
    store.commit_miner(MinerCommit(uid=4, hotkey=HOTKEY, step=1, validator_hotkey="v", credibility=0.42, score=0.3,
                                   step_score=0.3, rejected=Counter({("d", "quality:gopher_stop_words"): 3}),
                                   verification=Counter({"pass": 7, "fail": 1, "unverified": 2, "unknown": 3})))
    store.close()


def test_status_prints_the_leaderboard(tmp_path, capsys):
    _seed(tmp_path)
    assert main(["--data-dir", str(tmp_path), "validator", "status"]) == 0
    out = capsys.readouterr().out
    assert "leaderboard" in out and "5F1tEa" in out and "0.420" in out and "quality:gopher_stop_words" in out
    assert "7/1/2/3" in out  # checks: pass / fail / unverified / unknown


def test_status_json_has_one_entry_per_miner(tmp_path, capsys):
    _seed(tmp_path)
    assert main(["--data-dir", str(tmp_path), "validator", "status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    by_uid = {m["uid"]: m for m in data["miners"]}
    assert set(by_uid) == {4, 5}
    assert by_uid[4]["top_reason"] == "quality:gopher_stop_words" and by_uid[4]["weight"] == 1.0
    assert by_uid[4]["verify_unverified"] == 2


def test_run_without_registration_says_how_to_register(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GLEAN_CHAIN__LOCAL_PATH", str(tmp_path / "chain.sqlite"))
    monkeypatch.setenv("GLEAN_WALLET__PATH", str(tmp_path / "wallets"))
    assert main(["--data-dir", str(tmp_path), "validator", "run", "--steps", "1"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "is not registered" in err and "glean validator run --register" in err


def test_publish_writes_a_release_and_commits_it(tmp_path, capsys, monkeypatch):
    from chain import LocalChain, load_or_create_wallet
    from schemas.record import Record
    from validator.store import Accepted

    chain_path, wallets = tmp_path / "chain.sqlite", tmp_path / "wallets"
    wallet = load_or_create_wallet("publisher", "default", wallets)
    hotkey = wallet.hotkey.ss58_address

    async def on_chain(work):
        chain = LocalChain(chain_path)
        try:
            return await work(chain)
        finally:
            await chain.close()

    asyncio.run(on_chain(lambda chain: chain.register(wallet)))
    store = ValidatorStore.open(database_url(GleanConfig(data_dir=tmp_path)))
    store.sync_miners({1: HOTKEY}, 0.1)
    record = Record.build(uri="https://docs.python.org/3/reference/compound_stmts.html", source="web",
                          domain="python-ecosystem", text="The if statement is used for conditional execution.")
    store.commit_miner(MinerCommit(uid=1, hotkey=HOTKEY, step=1, validator_hotkey=hotkey, credibility=0.2,
                                   score=0.1, step_score=0.1, accepted=[Accepted(
                                       record=record, quality=0.9, relevance=0.8, novelty=1.0, freshness=1.0,
                                       size=0.1, desirability=1.0, value=0.07, signals={}, minhash=b"\0" * 16)]))
    store.close()
    monkeypatch.setenv("GLEAN_CHAIN__LOCAL_PATH", str(chain_path))
    monkeypatch.setenv("GLEAN_WALLET__PATH", str(wallets))
    monkeypatch.setenv("GLEAN_WALLET__NAME", "publisher")
    assert main(["--data-dir", str(tmp_path), "validator", "publish"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    state = asyncio.run(on_chain(lambda chain: chain.state()))
    commitment = state.by_hotkey(hotkey).commitment
    assert "published release" in out and "python-ecosystem: 1" in out
    release = Commitment.decode(commitment).release  # committed beside the desirability list's hash
    assert release and release.replace(" ", "") in out.replace(" ", "")
