"""Network desirability figures: combining 64 validators' lists of 32 domains each, parsing a full 256-entry list
(what a node does for each list it fetches), and `network_desirability` end to end on a LocalChain with 16
validators serving their lists from real loopback listeners (first read: every list fetched; next reads: held)."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
from fastapi import FastAPI, Response
from rich.console import Console
from rich.table import Table

from chain import LocalChain
from chain.commitment import Commitment
from chain.desirability import network_desirability
from schemas import DomainCatalog
from schemas.desirability import MAX_ENTRIES, DesirabilityEntry, DesirabilityList, combine
from validator.web import HttpServer

VALIDATORS = 64
DOMAINS_PER_LIST = 32
SERVING = 16
TEMPO = 100
RUNS = 5


def _specs(count: int) -> list:
    base = DomainCatalog.load().get("ml-research")
    return [base.model_copy(update={"id": f"domain-{i:03d}", "title": f"Domain {i}"}) for i in range(count)]


def _lists(specs: list, validators: int, per_list: int) -> dict[str, DesirabilityList]:
    return {f"validator-{v:03d}": DesirabilityList.build(
        DesirabilityEntry.of(specs[(v * 7 + i) % len(specs)], 1.0 + (v + i) % 5) for i in range(per_list))
        for v in range(validators)}


def _best(work, runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def _listener(lists: dict[str, DesirabilityList]) -> HttpServer:
    by_hash = {listed.hash(): listed.canonical() for listed in lists.values()}
    app = FastAPI()

    @app.get("/v1/desirability/{digest}")
    def served(digest: str) -> Response:
        return Response(by_hash[digest], media_type="application/json")

    server = HttpServer(app, "127.0.0.1", 0)
    server.start()
    return server


async def _end_to_end(folder: Path, lists: dict[str, DesirabilityList]) -> tuple[float, float]:
    chain = LocalChain(folder / "chain.sqlite", tempo=TEMPO, block_time=3600.0)
    servers = []
    try:
        for i, (name, listed) in enumerate(lists.items()):
            wallet = SimpleNamespace(hotkey=SimpleNamespace(ss58_address=name),
                                     coldkeypub=SimpleNamespace(ss58_address=f"cold-{i}"))
            await chain.register(wallet)
            await chain.add_stake(name, 100.0 + i)
            servers.append(_listener({name: listed}))
            await chain.serve(wallet, "127.0.0.1", servers[-1].port)
            await chain.commit(wallet, Commitment(desirability=listed.hash()).encode())
        await chain.advance(TEMPO)
        state = await chain.state()
        async with httpx.AsyncClient() as client:
            started = time.perf_counter()
            first = await network_desirability(chain, state, client, {})
            fetched = time.perf_counter() - started
            started = time.perf_counter()
            await network_desirability(chain, state, client, first.sources)
            held = time.perf_counter() - started
        return fetched, held
    finally:
        for server in servers:
            with contextlib.suppress(Exception):
                await server.stop()
        await chain.close()


def main() -> None:
    specs = _specs(MAX_ENTRIES)
    lists = _lists(specs, VALIDATORS, DOMAINS_PER_LIST)
    stakes = {name: 100.0 + i for i, name in enumerate(lists)}
    combine_s = _best(lambda: combine(lists, stakes, {}))
    full = DesirabilityList.build(DesirabilityEntry.of(spec, 1.0) for spec in specs)
    body, digest = full.canonical(), full.hash()
    parse_s = _best(lambda: DesirabilityList.parse(body, digest))
    with tempfile.TemporaryDirectory() as tmp:
        runs = [asyncio.run(_end_to_end(Path(tmp) / f"run{i}", dict(list(lists.items())[:SERVING])))
                for i in range(3)]
    table = Table(title="network desirability (2 shared cores; other suites running)")
    table.add_column("what")
    table.add_column("figure", justify="right")
    table.add_row(f"combine {VALIDATORS} lists x {DOMAINS_PER_LIST} domains", f"{combine_s * 1000:.1f} ms")
    table.add_row(f"parse + check a {MAX_ENTRIES}-entry list ({len(body) / 1024:.0f} KiB)", f"{parse_s * 1000:.1f} ms")
    table.add_row(f"network_desirability, {SERVING} listeners, all fetched (median of 3)",
                  f"{statistics.median(r[0] for r in runs) * 1000:.0f} ms")
    table.add_row(f"network_desirability, {SERVING} lists held (median of 3)",
                  f"{statistics.median(r[1] for r in runs) * 1000:.0f} ms")
    Console().print(table)


if __name__ == "__main__":
    main()
