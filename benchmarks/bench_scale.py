"""Scale simulation: one validator against 256 miners (4 processes x 64 real signed miner APIs on loopback), N
records in all, through the real ladder with the shared novelty index on PostgreSQL, step after step until every
record was pulled. Reports records/s, the validator's peak RSS (process and ladder workers), where the time goes per
phase (the step's own pull/novelty/verify/commit/pending timers) and an Amdahl projection to 16 cores.

The miners (benchmarks/scale_miners.py) hold a realistic mix (MIXES): most are honest (new pages, a few copies of
other miners' pages, near copies, low-quality pages), some are copiers (mostly other miners' pages, exact and near),
some pad their batches with invented URLs. Every page a record names is served by a page process on loopback (/doc,
/near, /low; an invented /gone URL answers 404), so a sampled record's re-fetch resolves as it would on the web;
records are built as the web kind's parser reads those pages (checked against `parse_page` for a few of each kind at
start). Each miner arrives with the evidence of 100 earlier checks (padders' 65% passed): a network in its steady
state.

    python -m benchmarks scale    # GLEAN_BENCH_SCALE_N=20000 (make bench); make bench-scale runs 1,000,000
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from benchmarks.bench_validator import DOMAIN, _proc_cpu, dev_wallet, domain_spec
from benchmarks.pg_cluster import cluster
from benchmarks.scale_miners import PROFILES, RecordMaker

MINERS = 256
PROCESSES = 4              # miner processes, MINERS / PROCESSES miner apps each
STEP_MINERS = 64           # miners visited per step
STEP_RECORDS = 1_000       # records pulled per miner per step
# Evidence each miner arrives with (pass flags of earlier checks of its web pages): the simulation measures a network
# in its steady state. Cold, a new miner's batches wait until 3 of its pages were checked, and the web kind allows 10
# re-fetches a step over all miners (docs/scale.md).
PRIOR_CHECKS = {"honest": 100, "copier": 100, "padder": 100}
PRIOR_PASS = {"honest": 1.0, "copier": 1.0, "padder": 0.65}
PARALLEL_PHASES = ("pull", "verify")   # ladder workers (one per core) and concurrent re-fetches

console = Console()


def _sizes() -> tuple[int, int]:
    return int(os.environ.get("GLEAN_BENCH_SCALE_N", "20000")), int(os.environ.get("GLEAN_BENCH_SCALE_MINERS",
                                                                                  str(MINERS)))


# ---- the simulation ------------------------------------------------------------------------------------------

def _child(target: str, arg: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", f"from benchmarks.scale_miners import {target}; {target}({arg!r})"],
                            stdin=subprocess.PIPE)


async def _wait_for(path: Path, children: list[subprocess.Popen], what: str, bound: float = 1800.0) -> None:
    """Until `path` exists (bounded); a child that died stops the benchmark."""
    deadline = time.monotonic() + bound
    while not path.exists():
        if any(c.poll() is not None for c in children) or time.monotonic() > deadline:
            raise SystemExit(f"bench_scale: {what} did not start")
        await asyncio.sleep(0.2)


async def _network(root: Path, miners: int):
    """The LocalChain with the validator (staked, permitted) and every miner registered."""
    from chain import LocalChain

    chain = LocalChain(root / "chain.sqlite", block_time=0.1, tempo=100, max_uids=miners + 8)
    validator = dev_wallet("scale-validator")
    await chain.register(validator)
    await chain.add_stake(validator.hotkey.ss58_address, 1000.0)
    await chain.set_validator_permits()
    for uid in range(miners):
        await chain.register(dev_wallet(f"scale-miner-{uid}"))
    return chain, validator


def _start_miners(root: Path, domains: Path, base_url: str, n: int, miners: int) -> list[subprocess.Popen]:
    per_process = -(-miners // PROCESSES)
    children = []
    for p in range(PROCESSES):
        uids = list(range(p * per_process, min(miners, (p + 1) * per_process)))
        plan = {"chain": str(root / "chain.sqlite"), "domains": str(domains), "root": str(root), "uids": uids,
                "per_miner": n // miners, "miners": miners, "base_url": base_url, "ready": str(root / f"ready-{p}")}
        (root / f"plan-{p}.json").write_text(json.dumps(plan))
        children.append(_child("serve_miners", str(root / f"plan-{p}.json")))
    return children


def _validator_config(root: Path, domains: Path, url: str, miners: int):
    from schemas.config import GleanConfig

    return GleanConfig(
        data_dir=root / "validator", domain_dirs=[domains],
        chain={"kind": "local", "local_path": root / "chain.sqlite", "block_time": 0.1},
        validator={"domains": [DOMAIN], "miners_per_step": min(STEP_MINERS, miners), "concurrency": 8,
                   "step_seconds": 1800, "miner_timeout_seconds": 600, "step_bytes_budget": 2 * 1024**3,
                   "miner_bytes_budget": 64 * 1024**2, "miner_records_budget": STEP_RECORDS,
                   "database_url": url, "novelty_backend": "postgres"})


async def _seed_evidence(v, chain, miners: int) -> None:
    """Each miner's earlier checks, as PRIOR_CHECKS and PRIOR_PASS of its profile say (steady state)."""
    from scoring.constants import EVIDENCE_WINDOW
    from validator.store import evidence

    state = await chain.state()
    with v.store.engine.begin() as conn:
        for i in range(miners):
            profile = PROFILES[i % len(PROFILES)]
            uid = state.by_hotkey(dev_wallet(f"scale-miner-{i}").hotkey.ss58_address).uid
            passes = round(PRIOR_CHECKS[profile] * PRIOR_PASS[profile])
            flags = [True] * passes + [False] * (PRIOR_CHECKS[profile] - passes)
            random.Random(i).shuffle(flags)
            evidence.add(conn, uid, 0, {"web": flags}, EVIDENCE_WINDOW)


async def _steps(v, held: int, miners: int) -> dict:
    """Steps until a whole round pulls nothing (every record judged); totals and phase seconds up to the last step
    that pulled records (a batch that waits for evidence is pulled again: `pulled` counts it each time)."""
    t = {"phases": Counter(), "checks": Counter(), "steps": 0, "pulled": 0, "accepted": 0, "rejected": 0,
         "failures": 0, "held": held, "wall": 0.0}
    idle, rounds = 0, -(-miners // STEP_MINERS)
    began, most = time.monotonic(), 3 * rounds * (-(-held // (STEP_MINERS * STEP_RECORDS)) + 2)
    while idle < rounds and t["steps"] < most:
        report = await v.step()
        t["steps"] += 1
        t["phases"].update(report.phases)
        for checks in report.checks.values():
            t["checks"].update(checks)
        for key in ("pulled", "accepted", "rejected"):
            t[key] += getattr(report, key)
        t["failures"] += len(report.failures)
        idle = idle + 1 if report.pulled == 0 else 0
        if report.pulled:
            t["wall"] = time.monotonic() - began
        console.print(f"step {t['steps']}: pulled {report.pulled:,} (total {t['pulled']:,}, {held:,} held) in "
                      f"{report.seconds:.0f} s; {' '.join(f'{k}={s:.0f}' for k, s in report.phases.items())}; "
                      f"load {os.getloadavg()[0]:.1f}", highlight=False)
    return t


def _hwm_mb(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def _simulate(root: Path, n: int, miners: int) -> dict:
    from schemas.domain import DomainCatalog
    from validator.service import Validator

    with cluster() as pg:
        pages = _child("serve_pages", str(root / "pages.port"))
        children = [pages]
        try:
            await _wait_for(root / "pages.port", children, "the page server", 60)
            base_url = f"http://127.0.0.1:{(root / 'pages.port').read_text()}"
            RecordMaker(base_url).check()
            domains = root / "domains"
            domains.mkdir()
            (domains / f"{DOMAIN}.yaml").write_text(yaml.safe_dump(domain_spec(base_url)))
            chain, wallet = await _network(root, miners)
            began = time.monotonic()
            children += _start_miners(root, domains, base_url, n, miners)
            for p in range(PROCESSES):
                await _wait_for(root / f"ready-{p}", children, "the miners' processes")
            held = sum(int((root / f"ready-{p}").read_text()) for p in range(PROCESSES))
            setup = time.monotonic() - began
            config = _validator_config(root, domains, pg.database("validator"), miners)
            v = Validator(config, chain=chain, wallet=wallet, catalog=DomainCatalog.load([domains]), serve_http=False)
            await v.open()
            await _seed_evidence(v, chain, miners)
            cpu0 = (_self_cpu(), pg.server_cpu(), sum(_proc_cpu(c.pid) for c in children))
            totals = await _steps(v, held, miners)
            workers = v.ladder.pids()
            totals.update(setup=setup, rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                          workers_mb=[_hwm_mb(pid) for pid in workers],
                          cpu_validator=_self_cpu() - cpu0[0] + sum(_proc_cpu(pid) for pid in workers),
                          cpu_pg=pg.server_cpu() - cpu0[1],
                          cpu_miners=sum(_proc_cpu(c.pid) for c in children) - cpu0[2],
                          reasons=sum(v.store.rejection_reasons().values(), Counter()),
                          shared=sum(m.shared for m in v.store.miners().values()))
            await v.close()
            await chain.close()
        finally:
            for child in children:
                with contextlib.suppress(Exception):
                    child.stdin.close()
                child.wait(timeout=120)
    return totals


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ---- report --------------------------------------------------------------------------------------------------

def _amdahl(phases: Counter, pulled: int) -> tuple[float, float, float]:
    """(parallel fraction of the step time, records/s projected on 16 cores, the ceiling 1 / serial fraction)."""
    total = sum(phases.values()) or 1e-9
    parallel = sum(phases[p] for p in PARALLEL_PHASES) / total
    cores_now = os.cpu_count() or 1
    projected = total * ((1 - parallel) + parallel * cores_now / 16)
    return parallel, pulled / projected, 1 / max(1 - parallel, 1e-9)


def _table(r: dict, n: int, miners: int) -> Table:
    table = Table(title=f"scale simulation: {miners} miners in {PROCESSES} processes, {n:,} records, one validator, "
                        f"novelty on PostgreSQL ({os.cpu_count()} cores shared by miners, pages, PostgreSQL and "
                        "other work)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("steps / records the miners hold / pulled (again when a batch waits)",
                  f"{r['steps']} / {r['held']:,} / {r['pulled']:,}")
    table.add_row("accepted / copies credited to their original's cluster / rejected",
                  f"{r['accepted']:,} / {r['shared']:,} / {r['rejected']:,}")
    table.add_row("rejections by reason", ", ".join(f"{k} {v:,}" for k, v in r["reasons"].most_common(8)))
    table.add_row("sampled checks by outcome", ", ".join(f"{k} {v:,}" for k, v in r["checks"].most_common()))
    table.add_row("miner failures", str(r["failures"]))
    table.add_row("records/s end to end (held records / time to the last step that pulled)",
                  f"{r['held'] / max(r['wall'], 1e-9):,.0f}")
    total = sum(r["phases"].values()) or 1e-9
    table.add_row("time by phase (s, share)", "  ".join(f"{k} {v:,.0f} ({v / total:.0%})"
                                                        for k, v in r["phases"].items()))
    parallel, projected, ceiling = _amdahl(r["phases"], r["held"])
    table.add_row(f"Amdahl: parallel ({'+'.join(PARALLEL_PHASES)}) share; 16-core records/s; ceiling",
                  f"{parallel:.0%}; {projected:,.0f}; {ceiling:.1f}x")
    table.add_row("peak RSS: validator process / each ladder worker",
                  f"{r['rss_mb']:,.0f} MB / {', '.join(f'{m:,.0f}' for m in r['workers_mb'])} MB")
    table.add_row("CPU ms a record: validator (+workers) / PostgreSQL / miners and pages",
                  " / ".join(f"{r[k] * 1000 / max(r['held'], 1):.2f}" for k in ("cpu_validator", "cpu_pg",
                                                                                "cpu_miners")))
    table.add_row("set-up: miners filled and serving", f"{r['setup']:.0f} s")
    return table


def main() -> None:
    import logging

    logging.basicConfig(level=os.environ.get("GLEAN_BENCH_LOG", "WARNING"),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    n, miners = _sizes()
    console.print(f"[bold]bench_scale[/]: {n:,} records over {miners} miners, {os.cpu_count()} cores (shared)")
    with tempfile.TemporaryDirectory(prefix="glean-bench-scale-") as tmp:
        r = asyncio.run(_simulate(Path(tmp), n, miners))
    console.print(_table(r, n, miners))
    console.print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
