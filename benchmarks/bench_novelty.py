"""The novelty index's two backends at scale.

1. In memory (`scoring.NoveltyIndex`): RSS and array bytes per document at 100,000 and 1,000,000 indexed documents
   (each size in a fresh process: `bench_scoring --probe scale`), rebuild time and assess_step rate.
2. On PostgreSQL (`validator.novelty_pg.PgNoveltyIndex`, a throwaway cluster with default settings): bulk insert
   rate, tables + indexes on disk per document, and lookups per second of one client in steps of 100 deliveries
   (exact copies, near copies and new documents), with the CPU of the client and of the server backend, so the
   rate per core is the deliveries over the CPU seconds both spent.

Indexed signatures are synthetic (uniform random slots, as distinct documents have); the queries are real documents.

    python -m benchmarks novelty    # GLEAN_BENCH_NOVELTY_SIZES=100000,1000000  GLEAN_BENCH_NOVELTY_PG_N=200000
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks.bench_scoring import STEP, _run_probe, _synthetic_rows
from schemas import hash_text
from scoring.minhash import signature
from scoring.novelty import Delivery
from tests.conftest import _free_port, _pg_bin
from tests.scoring.corpus import prose_of_about

LOAD_BATCH = 10_000      # documents per add_many while loading the PostgreSQL index
STEPS = 20               # query steps of STEP deliveries each


def _sizes() -> list[int]:
    return [int(s) for s in os.environ.get("GLEAN_BENCH_NOVELTY_SIZES", "100000,1000000").split(",") if s]


def _pg_n() -> int:
    return int(os.environ.get("GLEAN_BENCH_NOVELTY_PG_N", "200000"))


# ---- 1. in memory --------------------------------------------------------------------------------------------

def _memory_table() -> Table:
    table = Table(title="novelty index in memory (fresh process per size; 2-core shared machine)")
    for col in ("documents", "RSS a document (rebuilt / loaded)", "arrays a document", "rebuild / load",
                "assess_step (docs/s per core)", "planted caught"):
        table.add_column(col, justify="right")
    for n in _sizes():
        r = _run_probe("scale", n)
        table.add_row(f"{n:,}", f"{r['rss'] / n:,.0f} B / {r['rss_loaded'] / n:,.0f} B",
                      f"{r['array_bytes'] / n:,.0f} B", f"{r['build_s']:.1f} s / {r['load_s']:.1f} s",
                      f"{r['mixed_queries'] / r['mixed_cpu']:,.0f}", f"{r['caught']} / {r['expected']}")
    return table


# ---- 2. on PostgreSQL ----------------------------------------------------------------------------------------

@contextlib.contextmanager
def _cluster() -> Iterator[tuple[str, int]]:
    """(SQLAlchemy URL, postmaster pid) of a throwaway PostgreSQL cluster with default settings."""
    bindir = _pg_bin()
    if bindir is None:
        raise SystemExit("PostgreSQL server binaries not found: run scripts/system-deps as root")
    work = Path(tempfile.mkdtemp(prefix="glean-bench-pg-"))
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    (work / "sock").mkdir()
    if run_as:
        shutil.chown(work, "postgres")
        shutil.chown(work / "sock", "postgres")
    port = _free_port()
    data = work / "data"
    subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)
    subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(work / "log"), "-w", "-o",
                    f"-p {port} -k {work / 'sock'} -c listen_addresses=127.0.0.1", "start"],
                   check=True, capture_output=True)
    try:
        pid = int((data / "postmaster.pid").read_text().split()[0])
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", pid
    finally:
        subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def _server_cpu(postmaster: int) -> float:
    """CPU seconds (user + system) of the postmaster's children: the backends and background workers."""
    total = 0
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == postmaster:
                total += int(fields[11]) + int(fields[12])
    return total / tick


def _queries() -> tuple[list[tuple[str, str, bytes]], list[list[Delivery]]]:
    """Real documents to index, and steps mixing exact copies, near copies and new documents of real text."""
    texts = prose_of_about(250)
    half = len(texts) // 2
    real = [(f"real{i}", hash_text(t), signature(t)) for i, t in enumerate(texts[:half])]
    mixed = ([Delivery(f"e{i}", i, hash_text(t), t) for i, t in enumerate(texts[:half])]
             + [Delivery(f"n{i}", i, hash_text(t), t) for i, t in enumerate(texts[half:])]
             + [Delivery(f"v{i}", i, hash_text(t + "\nRead more."), t + "\nRead more.")
                for i, t in enumerate(texts[:half])])
    steps = [mixed[(s * STEP) % len(mixed):][:STEP] for s in range(STEPS)]
    return real, [s for s in steps if s]


def _pg_probe(n: int) -> dict[str, float]:
    from validator.novelty_pg import PgNoveltyIndex
    from validator.store import ValidatorStore

    real, steps = _queries()
    with _cluster() as (url, postmaster):
        store = ValidatorStore.open(url)
        index = PgNoveltyIndex(store.engine)
        start = time.perf_counter()
        rows = _synthetic_rows(n)
        while batch := list(islice(rows, LOAD_BATCH)):
            index.add_many(batch)
        load_s = time.perf_counter() - start
        index.add_many(real)
        with store.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        disk = index.nbytes()
        for step in steps[:2]:                                             # warm the caches once
            index.assess_step(step)
        cpu0, srv0, wall0 = time.process_time(), _server_cpu(postmaster), time.perf_counter()
        verdicts = [v for step in steps for v in index.assess_step(step)]
        cpu, srv, wall = time.process_time() - cpu0, _server_cpu(postmaster) - srv0, time.perf_counter() - wall0
        sig_cpu = _sig_cpu(steps)
        store.close()
    deliveries = [d for s in steps for d in s]
    return {"n": n, "load_s": load_s, "disk": disk, "deliveries": len(deliveries), "wall": wall, "client_cpu": cpu,
            "server_cpu": srv, "sig_cpu": sig_cpu, "duplicates": sum(v.novelty == 0 for v in verdicts),
            "copies": sum(not d.key.startswith("n") for d in deliveries)}


def _sig_cpu(steps: list[list[Delivery]]) -> float:
    start = time.process_time()
    for step in steps:
        for d in step:
            signature(d.text)
    return time.process_time() - start


def _pg_table() -> Table:
    r = _pg_probe(_pg_n())
    n, d = r["n"], r["deliveries"]
    lookups_cpu = r["client_cpu"] - r["sig_cpu"] + r["server_cpu"]
    table = Table(title=f"novelty index on PostgreSQL at {n:,} documents (throwaway cluster, default settings, "
                        "client and server on one 2-core shared machine)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("bulk insert (add_many, 10,000 a transaction)", f"{n / r['load_s']:,.0f} docs/s")
    table.add_row("tables + indexes on disk per document", f"{r['disk'] / n:,.0f} B")
    table.add_row(f"assess_step, {d} deliveries in steps of {STEP} (one client, wall)", f"{d / r['wall']:,.0f} docs/s")
    table.add_row("  lookups per core-second (client without signatures + server CPU)",
                  f"{d / max(lookups_cpu, 1e-9):,.0f} docs/s")
    table.add_row("  client CPU / server CPU per delivery",
                  f"{r['client_cpu'] / d * 1e3:.2f} ms / {r['server_cpu'] / d * 1e3:.2f} ms")
    table.add_row("  duplicates found among the copies (exact and near)", f"{r['duplicates']} / {r['copies']}")
    return table


def main() -> None:
    console = Console()
    console.print(f"[bold]bench_novelty[/] on {os.cpu_count()} cores (shared with other work)")
    console.print(_memory_table())
    console.print(_pg_table())


if __name__ == "__main__":
    main()
