"""`glean local up` parts that need no network: plan and ports, role configs, demo specs per miner, --fresh, process
stopping, progress parsing and rendering, the summary. The whole network runs in tests/e2e (slow)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from rich.console import Console

from glean.config import load_config
from glean.local import constants as K
from glean.local import leaderboard, progress
from glean.local.configs import to_toml, write_miner_domains, write_role_config
from glean.local.leaderboard import MinerLine, Summary, ValidatorLine
from glean.local.network import LocalNetwork, LocalNetworkError, LocalOptions, clear
from glean.local.plan import Layout, SavedState, make_plan, stale_pids
from glean.local.processes import RoleProcess, child_environment, stop_all
from glean.local.progress import MinerProgress, Snapshot, ValidatorProgress, crawled_sources
from schemas.domain import DomainCatalog
from schemas.errors import ConfigError

BASE_URL = "http://127.0.0.1:8799"


def _plan(miners: int = 3, validators: int = 1, saved: SavedState | None = None, offline: bool = True):
    return make_plan(saved or SavedState(), miners=miners, validators=validators, offline=offline, tempo=12,
                     block_time=1.0)


# --- plan ---------------------------------------------------------------------------------------------------------


def test_miners_cycle_through_the_offline_mixes() -> None:
    plan = _plan(miners=4)
    assert [m.mix for m in plan.miners[:3]] == list(K.OFFLINE_MIXES)
    assert plan.miners[3].mix == K.OFFLINE_MIXES[0]


def test_validators_curate_every_domain_a_miner_crawls() -> None:
    plan = _plan()
    crawled = {d for m in plan.miners for d in m.domains}
    assert all(set(v.domains) == crawled for v in plan.validators)
    assert all(sources is None for v in plan.validators for _domain, sources in v.mix)


def test_first_validator_has_the_most_stake() -> None:
    plan = _plan(validators=3)
    stakes = [v.stake for v in plan.validators]
    assert stakes == sorted(stakes, reverse=True) and len(set(stakes)) == 3 and min(stakes) > 0


def test_every_role_gets_its_own_port() -> None:
    plan = _plan(miners=5, validators=2)
    ports = [r.port for r in plan.roles] + [plan.sampleweb_port]
    assert len(set(ports)) == len(ports)


def test_ports_of_the_previous_run_are_reused_when_free() -> None:
    first = SavedState()
    plan = _plan(saved=first)
    again = _plan(saved=SavedState(ports=dict(first.ports)))
    assert [r.port for r in again.roles] == [r.port for r in plan.roles]
    assert again.sampleweb_port == plan.sampleweb_port


def test_a_port_taken_since_the_previous_run_is_replaced() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        saved = SavedState(ports={"miner1": taken})
        plan = _plan(saved=saved)
        assert plan.miners[0].port != taken
        assert saved.ports["miner1"] == plan.miners[0].port


def test_a_network_needs_a_miner_and_a_validator() -> None:
    with pytest.raises(ConfigError):
        _plan(miners=0)


def test_saved_state_round_trips(tmp_path: Path) -> None:
    state = SavedState(ports={"miner1": 1234}, pids={"miner1": 42}, runs=2)
    state.save(tmp_path / "local.json")
    assert SavedState.load(tmp_path / "local.json") == state


def test_saved_state_of_another_version_is_refused_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "local.json").write_text('{"version": 99}', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        SavedState.load(tmp_path / "local.json")
    assert "--fresh" in err.value.hint


# --- role configs ---------------------------------------------------------------------------------------------------


def test_to_toml_round_trips_plain_values() -> None:
    config = {"data_dir": "/x/y \"q\"", "n": 3, "f": 0.5, "on": True, "list": ["a", "b"],
              "section": {"port": 8091, "domains": ["python-stdlib"], "ratio": 1e-3}}
    assert tomllib.loads(to_toml(config)) == config


def test_miner_config_file_is_what_the_miner_process_loads(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("GLEAN_DATA_DIR", raising=False)  # the test session sets it; role processes never see it
    plan, layout = _plan(), Layout(tmp_path)
    miner = plan.miners[0]
    config = load_config(write_role_config(miner, plan, layout))
    assert config.data_dir == layout.role_dir("miner1")
    assert config.chain_path() == layout.chain_path
    assert (config.wallet.name, config.wallet.path) == ("miner1", layout.wallets)
    assert config.miner.domains == list(miner.domains) and config.miner.port == miner.port
    assert config.miner.host == "127.0.0.1"
    assert config.domain_dirs == [layout.miner_domains("miner1")]


def test_validator_config_publishes_to_its_own_hub_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("GLEAN_DATA_DIR", raising=False)
    plan, layout = _plan(validators=2), Layout(tmp_path)
    configs = [load_config(write_role_config(v, plan, layout)) for v in plan.validators]
    assert [c.hub_dir() for c in configs] == [layout.hub_dir("validator1"), layout.hub_dir("validator2")]
    assert all(c.domain_dirs == [layout.domains] for c in configs)
    assert configs[0].validator.dashboard_port == plan.validators[0].port


def test_miner_domain_specs_keep_only_the_sources_it_crawls(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    for miner in _plan().miners:
        folder = write_miner_domains(miner, BASE_URL, layout)
        catalog = DomainCatalog.load([folder], include_builtin=False)
        assert sorted(catalog.ids()) == sorted(miner.domains)
        for domain, sources in miner.mix:
            assert [s.source_id for s in catalog.get(domain).sources] == list(sources)


# --- folder and processes -------------------------------------------------------------------------------------------


def test_fresh_removes_only_what_local_up_created(tmp_path: Path) -> None:
    for name in ("local.json", "chain.sqlite", "summary.json", "notes.txt"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    for name in ("miner1", "validator12", "wallets", "hub", "logs", "my-data", "minerals"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "f").write_text("x", encoding="utf-8")
    clear(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["minerals", "my-data", "notes.txt"]


def test_a_second_run_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    first = LocalNetwork(LocalOptions(root=tmp_path))
    first._prepare()
    try:
        with pytest.raises(LocalNetworkError) as err:
            LocalNetwork(LocalOptions(root=tmp_path))._prepare()
        assert "another `glean local up`" in err.value.message
    finally:
        first._unlock()


def test_child_environment_drops_glean_variables(monkeypatch) -> None:
    monkeypatch.setenv("GLEAN_MINER__PORT", "1")
    env = child_environment({"GLEAN_CONFIG": "/c.toml"})
    assert env["GLEAN_CONFIG"] == "/c.toml"
    assert not [k for k in env if k.startswith("GLEAN_") and k != "GLEAN_CONFIG"]


def _ready_line(proc: RoleProcess) -> str | None:
    return next((line for line in proc.tail().splitlines() if line.startswith("ready")), None)


def _python(tmp_path: Path, name: str, code: str) -> RoleProcess:
    """A role-like process that prints "ready ..." once it is set up (the log's first line is the command)."""
    proc = RoleProcess(name, [sys.executable, "-c", code], tmp_path / f"{name}.log")
    proc.start()
    deadline = time.monotonic() + 30
    while _ready_line(proc) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return proc


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
        return fh.read().split(") ")[1][0] != "Z"  # a zombie has exited


def test_stop_all_kills_a_process_that_ignores_sigterm(tmp_path: Path) -> None:
    stubborn = _python(tmp_path, "stubborn", "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                                             "print('ready', flush=True)\ntime.sleep(60)")
    polite = _python(tmp_path, "polite", "import time\nprint('ready', flush=True)\ntime.sleep(60)")
    codes = stop_all([stubborn, polite], timeout=1.0)
    assert codes == {"stubborn": -9, "polite": -15}


def test_stop_all_also_ends_what_a_role_started(tmp_path: Path) -> None:
    code = ("import subprocess, sys, time\n"
            "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
            "print('ready', child.pid, flush=True)\ntime.sleep(60)")
    parent = _python(tmp_path, "parent", code)
    child_pid = int(_ready_line(parent).split()[1])
    stop_all([parent], timeout=5.0)
    deadline = time.monotonic() + 5
    while _alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child_pid)


def test_stale_pids_are_only_processes_of_this_network(tmp_path: Path) -> None:
    mine = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", str(tmp_path / "net")])
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        for proc in (mine, other):  # Popen returns after the fork: wait until each child runs its own command line
            deadline = time.monotonic() + 10
            while b"time.sleep" not in Path(f"/proc/{proc.pid}/cmdline").read_bytes() and time.monotonic() < deadline:
                time.sleep(0.01)
        found = stale_pids(SavedState(pids={"miner1": mine.pid, "miner2": other.pid, "miner3": 2**22 + 7}),
                           tmp_path / "net")
        assert found == {"miner1": mine.pid}
    finally:
        for proc in (mine, other):
            proc.kill()
            proc.wait()


# --- progress and summary ---------------------------------------------------------------------------------------------


def test_crawled_sources_are_read_from_miner_metrics() -> None:
    text = ('# HELP glean_miner_crawl_pages_total Pages fetched by crawls.\n'
            'glean_miner_crawl_pages_total{domain="python-stdlib",source="web"} 83.0\n'
            'glean_miner_crawl_pages_created{domain="python-stdlib",source="web"} 1.7e9\n'
            'glean_miner_source_failures_total{domain="python-language",source="wikipedia"} 1.0\n'
            'glean_miner_crawl_errors_total{domain="python-stdlib",source="feed",reason="http_404"} 1.0\n')
    assert crawled_sources(text) == {("python-stdlib", "web"), ("python-language", "wikipedia")}


def _text(renderable) -> str:
    console = Console(record=True, width=250)
    console.print(renderable)
    return console.export_text()


def test_live_view_shows_epoch_block_and_every_role() -> None:
    snapshot = Snapshot(phase="running", block=57, epochs=2, epochs_target=6, next_epoch_in=3, elapsed=61.0,
                        miners=(MinerProgress("miner1", 0, ("python-stdlib",), "up", 131, 0.5, 2.5),
                                MinerProgress("miner2", 1, ("python-language",), "exited 1", None)),
                        validators=(ValidatorProgress("validator1", 2, "up", 4, 93, 1.0, "http://x/dashboard"),))
    text = _text(progress.render(snapshot))
    for expected in ("epoch 2/6", "block 57", "miner1", "131", "miner2", "exited 1", "validator1", "93",
                     "http://x/dashboard"):
        assert expected in text


def _summary() -> Summary:
    miners = [MinerLine("miner1", 0, "5Abc", ["python-stdlib"], 131, 91, 0, 40, [("quality:gopher_dup_5gram", 25)],
                        12.8, 0.469, 0.1, 0.495, 0.495, 12.2),
              MinerLine("miner2", 1, "5Def", ["python-language"], 80, 0, 41, 39, [], 6.5, 0.469, 0.05, 0.25, 0.25,
                        6.2)]
    validators = [ValidatorLine("validator1", 2, "5Ghi", 1000.0, 7, 91, 1.0, 54.1, "http://x/dashboard", "r00000001",
                                "/d/hub/validator1@r00000001")]
    return Summary(data_dir="/d", epochs=6, epochs_in_run=8, block=105, seconds=104.0, interrupted=False, miners=miners,
                   validators=validators, emission_split={"owner": 17.3, "miners": 24.6, "validators": 54.1,
                                                          "recycled": 0.0},
                   rows_by_domain={"python-stdlib": 52, "python-digest": 0}, release="r00000001",
                   location="/d/hub/validator1@r00000001", hub_dir="/d/hub/validator1",
                   pull_commands=["glean pull python-stdlib --path /d/hub/validator1"])


def test_summary_round_trips_through_its_json_file(tmp_path: Path) -> None:
    summary = _summary()
    summary.save(tmp_path / "summary.json")
    assert Summary.load(tmp_path / "summary.json") == summary


def test_leaderboard_shows_every_miner_the_release_and_the_pull_command() -> None:
    text = _text(leaderboard.render(_summary()))
    for expected in ("miner1", "miner2", "quality:gopher_dup_5gram 25", "validator1", "python-stdlib", "52",
                     "release r00000001 written to /d/hub/validator1",
                     "glean pull python-stdlib --path /d/hub/validator1"):
        assert expected in text
