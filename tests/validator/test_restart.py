"""SIGKILL the validator process (`glean validator run`) at arbitrary points and restart it: no record is accepted
twice or lost, cursors and scores continue."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from chain import load_or_create_wallet
from schemas.config import GleanConfig
from scoring.constants import INITIAL_CREDIBILITY
from tests.validator.harness import DOMAIN, local_net, real_miner
from validator.store import ValidatorStore, database_url

MINERS = 3
RECORDS = 12
KILL_POINTS = ("step_start", "after_a_commit", "anywhere", "anywhere")


def _start(config: Path, data_dir: Path, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLEAN_")}
    return subprocess.Popen([sys.executable, "-m", "glean", "--config", str(config), "--data-dir", str(data_dir),
                             "validator", "run"], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


@contextlib.asynccontextmanager
async def _killed_on_exit(procs: list[subprocess.Popen]):
    """Whatever happens in the test, no validator process outlives it."""
    try:
        yield
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (the ladder's worker processes)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


async def _wait_gone(pids: list[int], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while any(Path(f"/proc/{p}").exists() and "zombie" not in _state(p) for p in pids):
        assert time.monotonic() < deadline, f"worker processes {pids} outlived the killed validator"
        await asyncio.sleep(0.1)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return "zombie"


def _steps(store: ValidatorStore) -> int:
    return int(store.get_state("step", 0) or 0)


async def _wait(condition, timeout: float, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        await asyncio.sleep(0.05)


@pytest.mark.slow
async def test_sigkill_at_any_point_neither_loses_nor_doubles_records(tmp_path, web):
    rng = random.Random(7)
    async with local_net(tmp_path, web) as net:
        wallet = load_or_create_wallet("restart-validator", "default", tmp_path / "wallets")
        await net.chain.register(wallet)
        await net.chain.add_stake(wallet.hotkey.ss58_address, 5000.0)
        await net.chain.set_validator_permits()
        records = await net.records(MINERS * RECORDS)
        config, data_dir, log = tmp_path / "validator.toml", tmp_path / "vdata", tmp_path / "validator.log"
        net.write_validator_toml(config, "restart-validator", tmp_path / "wallets", step_seconds=2.0,
                                 miners_per_step=1, concurrency=1, dashboard_port=0, ladder_processes=1)
        store = ValidatorStore.open(database_url(GleanConfig(data_dir=data_dir)))
        procs: list[subprocess.Popen] = []
        async with real_miner(net, "m0", records[:RECORDS]), \
                real_miner(net, "m1", records[RECORDS:2 * RECORDS]), \
                real_miner(net, "m2", records[2 * RECORDS:]), _killed_on_exit(procs):
            seen_steps: list[int] = []
            for kill_at in KILL_POINTS:
                proc = _start(config, data_dir, log)
                procs.append(proc)
                steps, accepted = _steps(store), store.accepted_stats()[0]
                if kill_at == "after_a_commit":
                    await _wait(lambda a=accepted: store.accepted_stats()[0] > a, 60, proc, log)
                else:
                    await _wait(lambda s=steps: _steps(store) > s, 60, proc, log)
                    await asyncio.sleep(0.0 if kill_at == "step_start" else rng.uniform(0.0, 1.5))
                workers = _children(proc.pid)
                assert workers, "the ladder worker process should be running"
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
                await _wait_gone(workers)
                seen_steps.append(_steps(store))
                with store.engine.connect() as conn:
                    rows, hashes = conn.execute(sa.text(
                        "SELECT count(*), count(DISTINCT content_hash) FROM validator_accepted")).one()
                assert rows == hashes == sum(m.accepted for m in store.miners().values())
            # the killed runs may already have accepted everything: wait for a step of this run too, so the SIGTERM
            # meets a running validator (not one still importing, which has no handler yet)
            steps = _steps(store)
            proc = _start(config, data_dir, log)
            procs.append(proc)
            await _wait(lambda: store.accepted_stats()[0] >= len(records) and _steps(store) > steps, 90, proc, log)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(30) == 0, log.read_text()[-3000:]
        uids = {m.hotkey: m.uid for m in store.miners().values()}
        with store.engine.connect() as conn:
            uris = [u for (u,) in conn.execute(sa.text("SELECT uri FROM validator_accepted"))]
            step_numbers = [s for (s,) in conn.execute(sa.text("SELECT step FROM validator_steps ORDER BY step"))]
        miners = store.miners()
        cursors = {uid: store.cursors(uid) for uid in uids.values()}
        store.close()
    assert sorted(uris) == sorted(r.uri for r in records)
    assert seen_steps == sorted(seen_steps) and step_numbers == list(range(1, len(step_numbers) + 1))
    assert all(c == {DOMAIN: RECORDS} for c in cursors.values())
    assert all(m.accepted == RECORDS and m.score > 0 and m.credibility > INITIAL_CREDIBILITY
               for m in miners.values())
