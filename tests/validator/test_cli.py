"""`glean validator status` reads the leaderboard from the validator's database."""

from __future__ import annotations

import json
from collections import Counter

from glean.cli import main
from schemas.config import GleanConfig
from validator.store import MinerCommit, ValidatorStore, database_url

HOTKEY = "5F1tEa7jqtScwZt9HDPLGaX3ik5dX4C6fnJ85PP47TNWGEBF"


def _seed(data_dir) -> None:
    store = ValidatorStore.open(database_url(GleanConfig(data_dir=data_dir)))
    store.sync_miners({4: HOTKEY, 5: "5Other"}, 0.1)
    store.commit_miner(MinerCommit(uid=4, hotkey=HOTKEY, step=1, validator_hotkey="v", credibility=0.42, score=0.3,
                                   step_score=0.3, rejected=Counter({("d", "quality:gopher_stop_words"): 3})))
    store.close()


def test_status_prints_the_leaderboard(tmp_path, capsys):
    _seed(tmp_path)
    assert main(["--data-dir", str(tmp_path), "validator", "status"]) == 0
    out = capsys.readouterr().out
    assert "leaderboard" in out and "5F1tEa" in out and "0.420" in out and "quality:gopher_stop_words" in out


def test_status_json_has_one_entry_per_miner(tmp_path, capsys):
    _seed(tmp_path)
    assert main(["--data-dir", str(tmp_path), "validator", "status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    by_uid = {m["uid"]: m for m in data["miners"]}
    assert set(by_uid) == {4, 5}
    assert by_uid[4]["top_reason"] == "quality:gopher_stop_words" and by_uid[4]["weight"] == 1.0


def test_run_without_registration_says_how_to_register(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GLEAN_CHAIN__LOCAL_PATH", str(tmp_path / "chain.sqlite"))
    monkeypatch.setenv("GLEAN_WALLET__PATH", str(tmp_path / "wallets"))
    assert main(["--data-dir", str(tmp_path), "validator", "run", "--steps", "1"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "is not registered" in err and "glean validator run --register" in err
