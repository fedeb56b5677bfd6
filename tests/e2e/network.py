"""The one local network run behind every end-to-end test (tests/e2e/conftest.py starts it once per session).

`glean local up --offline` as a real command (tests/e2e/local_up.py): 3 miners, 3 validators, 5 epochs, the living
sample web and the dataset request, adopted by validator1 and validator2 and left pending by validator3. While it
runs, once the chain has paid every miner, validator1's /dashboard is opened in a headless Chromium and read; after
it, the summary, the logs, the stores, the release and the chain are there to check.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from glean.local import Summary
from tests.e2e.browser import DashboardView, browser_paths, headless_chromium, view_dashboard

MINERS = 3
VALIDATORS = 3
ADOPTERS = 2  # validator1 and validator2 adopt the request by policy; validator3's policy lists nobody
EPOCHS = 5  # the request goes out after the first; 4 more leave room for its first accepted record and some more
# The whole `glean local up` (3 to 4 minutes on 2 cores with a loaded suite beside it); killed after this.
RUN_TIMEOUT_SECONDS = 600
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Run:
    root: Path
    returncode: int
    output: str
    summary: Summary | None
    pids: dict[str, int]
    dashboard: DashboardView | None
    dashboard_error: str | None
    trust: dict[str, float]  # validator name -> validator_trust at the end


def state(root: Path) -> dict:
    """`local.json`: the run's ports and the pids of its role processes (empty when unreadable)."""
    try:
        return json.loads((root / "local.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _every_miner_paid(url: str) -> bool:
    try:
        chain = httpx.get(f"{url}/api/dashboard/chain", timeout=5).json()
        board = httpx.get(f"{url}/api/leaderboard", timeout=5).json()
    except (httpx.HTTPError, ValueError):
        return False
    miners = [n for n in chain.get("neurons", []) if not n["validator"]]
    return len(board) >= MINERS and len(miners) >= MINERS and all(n.get("emission", 0) > 0 for n in miners)


def _watch(root: Path, proc: subprocess.Popen, deadline: float) -> tuple[dict[str, int], DashboardView | None, str]:
    """While the network runs: remember the role pids, and once every miner is paid, read the dashboard."""
    pids: dict[str, int] = {}
    while proc.poll() is None and time.monotonic() < deadline:
        now = state(root)
        pids.update(now.get("pids", {}))
        port = now.get("ports", {}).get("validator1")
        if port and "validator1" in pids and _every_miner_paid(f"http://127.0.0.1:{port}"):
            if browser_paths() is None:
                return pids, None, ("chromium/chromedriver not installed: run scripts/system-deps as root "
                                    "(make test does)")
            with headless_chromium() as driver:
                view = view_dashboard(driver, f"http://127.0.0.1:{port}/dashboard", miners=MINERS,
                                      screenshot=root.parent / "dashboard.png")
            return pids, view, ""
        time.sleep(1.0)
    return pids, None, "the run ended before the dashboard showed every miner paid"


async def _trust(root: Path, names: dict[str, str]) -> dict[str, float]:
    from chain import LocalChain

    chain = LocalChain(root / "chain.sqlite")
    try:
        chain_state = await chain.state()
    finally:
        await chain.close()
    return {names[n.hotkey]: n.validator_trust for n in chain_state.neurons if n.hotkey in names}


def local_up(root: Path) -> Run:
    """Run the network in `root` to its end (or RUN_TIMEOUT_SECONDS, then stop it as Ctrl-C would) and collect it."""
    log = root.parent / "local-up.out"
    argv = [sys.executable, "-m", "tests.e2e.local_up", str(ADOPTERS), "local", "up", "--offline", "--fresh",
            "--data-dir", str(root), "--miners", str(MINERS), "--validators", str(VALIDATORS),
            "--epochs", str(EPOCHS)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLEAN_")}
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                cwd=REPO)
        try:
            try:
                pids, view, error = _watch(root, proc, deadline)
            except Exception as exc:  # the browser part failed: keep the run going, report it in the dashboard tests
                pids, view, error = state(root).get("pids", {}), None, f"{type(exc).__name__}: {exc}"
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)  # stops the network cleanly, then it still summarises
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    summary_file = root / "summary.json"
    summary = Summary.load(summary_file) if summary_file.is_file() else None
    trust = asyncio.run(_trust(root, {v.hotkey: v.name for v in summary.validators})) if summary else {}
    return Run(root=root, returncode=proc.returncode, output=log.read_text(encoding="utf-8"), summary=summary,
               pids=pids, dashboard=view, dashboard_error=error, trust=trust)
