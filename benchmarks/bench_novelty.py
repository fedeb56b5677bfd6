"""The novelty index's two backends at scale.

1. In memory (`scoring.NoveltyIndex`): RSS and array bytes per document at 100,000 and 1,000,000 indexed documents
   (each size in a fresh process: `bench_scoring --probe scale`), rebuild time and assess_step rate.
2. On PostgreSQL (`validator.novelty_pg.PgNoveltyIndex`, a throwaway cluster, PostgreSQL's settings unless
   GLEAN_BENCH_NOVELTY_PG_SETTINGS gives others): build rate, tables + indexes on disk per document, server
   memory, and lookups per second of one client in steps of 100 deliveries (exact copies, near copies and new
   documents), with the CPU of the client and of the server backend, so the rate per core is the deliveries over
   the CPU seconds both spent. GLEAN_BENCH_NOVELTY_PG_FILL=rebuild (default) fills it as a validator rebuilds it
   (`PgNoveltyIndex.rebuild`), then adds the last 100,000 documents live (`add_many`), and measures at
   GLEAN_BENCH_NOVELTY_PG_N; =insert adds every document live and measures at each size of
   GLEAN_BENCH_NOVELTY_PG_AT while filling (each printed as it is measured) and at the end;
   GLEAN_BENCH_NOVELTY_PG_MAX_S then bounds the fill, which stops and is measured at the size reached.

Indexed signatures are synthetic (uniform random slots, as distinct documents have); the queries are real documents.

    python -m benchmarks novelty    # GLEAN_BENCH_NOVELTY_SIZES=100000,1000000  GLEAN_BENCH_NOVELTY_PG_N=200000
    # the PostgreSQL index alone, at 10 million (an empty size list or N skips a part):
    GLEAN_BENCH_NOVELTY_SIZES= GLEAN_BENCH_NOVELTY_PG_N=10000000 \
      GLEAN_BENCH_NOVELTY_PG_SETTINGS=shared_buffers=2GB,max_wal_size=4GB,maintenance_work_mem=1GB \
      python -m benchmarks novelty
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from benchmarks.bench_scoring import STEP, _run_probe, _synthetic_rows
from benchmarks.pg_cluster import cluster
from schemas import hash_text
from scoring.minhash import signature
from scoring.novelty import Delivery
from tests.scoring.corpus import prose_of_about

LOAD_BATCH = 10_000      # documents per add_many while loading the PostgreSQL index
GROW = 100_000           # documents added through add_many after a rebuild: the live insert rate at that size
DISK_A_DOC = 3_000       # bytes of disk a document needs while rebuilding (2,040 B measured, plus WAL and sorts)
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

def _pg_settings() -> dict[str, str]:
    """Server settings for the throwaway cluster (GLEAN_BENCH_NOVELTY_PG_SETTINGS="shared_buffers=2GB,..."; default:
    PostgreSQL's own)."""
    pairs = [s.split("=", 1) for s in os.environ.get("GLEAN_BENCH_NOVELTY_PG_SETTINGS", "").split(",") if s]
    return {k.strip(): v.strip() for k, v in pairs}


def _checkpoints(n: int) -> list[int]:
    """Sizes to measure at while filling (GLEAN_BENCH_NOVELTY_PG_AT=1000000,2000000,5000000), always ending at n."""
    at = [int(s) for s in os.environ.get("GLEAN_BENCH_NOVELTY_PG_AT", "").split(",") if s]
    return sorted({c for c in at if 0 < c < n} | {n})


def _server_pss(postmaster: int) -> int:
    """Bytes of memory the server holds: the proportional set size of the postmaster and its children (shared
    buffers counted once, however many processes touched them)."""
    total = 0
    for status in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError):
            pid = int(status.parent.name)
            if pid != postmaster and int(status.read_text().rsplit(")", 1)[1].split()[1]) != postmaster:
                continue
            for line in (status.parent / "smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
    return total


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


def _backend_cpu(postmaster: int) -> float:
    """CPU seconds (user + system) of the server's client backends only: the lookups' own work, without autovacuum,
    the checkpointer and the other background processes (which `Cluster.server_cpu` counts too)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == postmaster and b"127.0.0.1(" in (stat.parent / "cmdline").read_bytes():
                total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _measure(index, pg, steps: list[list[Delivery]]) -> dict[str, float]:
    """Disk, server memory and one client's lookups at the index's current size, after a VACUUM (ANALYZE) as
    autovacuum would have run on a settled index (it sets the visibility map the band lookups read)."""
    start = time.perf_counter()
    with index.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE)")
    vacuum_s = time.perf_counter() - start
    disk = index.nbytes()
    for step in steps[:2]:                                             # warm the caches once
        index.assess_step(step)
    cpu0, srv0, all0, wall0 = (time.process_time(), _backend_cpu(pg.postmaster), pg.server_cpu(),
                               time.perf_counter())
    verdicts = [v for step in steps for v in index.assess_step(step)]
    cpu, srv, wall = time.process_time() - cpu0, _backend_cpu(pg.postmaster) - srv0, time.perf_counter() - wall0
    deliveries = [d for s in steps for d in s]
    return {"disk": disk, "cluster_disk": pg.disk_bytes(), "server_pss": _server_pss(pg.postmaster),
            "vacuum_s": vacuum_s, "deliveries": len(deliveries), "wall": wall, "client_cpu": cpu, "server_cpu": srv,
            "background_cpu": pg.server_cpu() - all0 - srv, "sig_cpu": _sig_cpu(steps),
            "duplicates": sum(v.novelty == 0 for v in verdicts),
            "copies": sum(not d.key.startswith("n") for d in deliveries), "load1": os.getloadavg()[0]}


def _pg_probe(n: int) -> list[dict]:
    """The index filled towards `n` synthetic documents and measured (GLEAN_BENCH_NOVELTY_PG_FILL):
    - "rebuild" (default): what a validator does when it opens the shared index under a new scoring version or for
      the first time: `PgNoveltyIndex.rebuild` of all but the last GROW documents, then the last GROW through
      `add_many` (the live insert rate at that size); measured once, at `n`.
    - "insert": every document through `add_many`, measured at each checkpoint; the fill stops early, and is
      measured at the size reached, after GLEAN_BENCH_NOVELTY_PG_MAX_S seconds or when the disk holding the cluster
      falls below 15% free."""
    from validator.novelty_pg import PgNoveltyIndex
    from validator.store import ValidatorStore

    real, steps = _queries()
    fill = os.environ.get("GLEAN_BENCH_NOVELTY_PG_FILL", "rebuild")
    if fill not in ("rebuild", "insert"):
        raise SystemExit(f"GLEAN_BENCH_NOVELTY_PG_FILL={fill!r}: use rebuild or insert")
    with cluster(_pg_settings(), prefix="glean-bench-novelty-") as pg:
        store = ValidatorStore.open(pg.url)
        index = PgNoveltyIndex(store.engine)
        try:
            if fill == "rebuild":
                return [_rebuilt(index, pg, real, steps, n)]
            return _inserted(index, pg, real, steps, n)
        finally:
            store.close()


def _rebuilt(index, pg, real: list[tuple[str, str, bytes]], steps: list[list[Delivery]], n: int) -> dict:
    usage = shutil.disk_usage(pg.data)
    if n * DISK_A_DOC > usage.free - 0.15 * usage.total:
        raise SystemExit(f"a rebuild of {n:,} documents needs about {n * DISK_A_DOC / 1e9:.0f} GB and the disk holding "
                         f"the cluster has {usage.free / 1e9:.0f} GB free (15% kept): use a smaller "
                         "GLEAN_BENCH_NOVELTY_PG_N or free some disk")
    grow = min(GROW, n // 10)
    rows = _synthetic_rows(n)
    start = time.perf_counter()
    with Progress(*Progress.get_default_columns(), transient=True) as progress:
        task = progress.add_task("rebuilding the index", total=n - grow)

        def counted() -> Iterator[tuple[str, str, bytes]]:
            yield from real                                            # the copies' originals
            for i, row in enumerate(islice(rows, n - grow), 1):
                if i % 100_000 == 0:
                    progress.update(task, completed=i)
                yield row

        index.rebuild(counted())
    rebuild_s = time.perf_counter() - start
    start = time.perf_counter()
    while batch := list(islice(rows, LOAD_BATCH)):
        index.add_many(batch)
    insert_s = time.perf_counter() - start
    r = {"n": n, "stop": "", **_measure(index, pg, steps)}
    r["build"] = {"rebuild (PgNoveltyIndex.rebuild, one transaction)": f"{(n - grow) / rebuild_s:,.0f} docs/s "
                                                                        f"({rebuild_s / 60:,.1f} min)",
                  f"then add_many of {grow:,} more (10,000 a transaction)": f"{grow / insert_s:,.0f} docs/s"}
    print(_line(r), flush=True)
    return r


def _inserted(index, pg, real: list[tuple[str, str, bytes]], steps: list[list[Delivery]], n: int) -> list[dict]:
    max_s = float(os.environ.get("GLEAN_BENCH_NOVELTY_PG_MAX_S", "inf"))
    results: list[dict] = []
    index.add_many(real)                                               # the copies' originals, there from the start
    rows, done, load_s, stop = _synthetic_rows(n), 0, 0.0, ""
    for target in _checkpoints(n):
        start, before = time.perf_counter(), done
        while not stop and done < target and (batch := list(islice(rows, min(LOAD_BATCH, target - done)))):
            index.add_many(batch)
            done += len(batch)
            if load_s + time.perf_counter() - start > max_s:
                stop = f"time bound {max_s:.0f} s"
            elif done % 1_000_000 < LOAD_BATCH:
                usage = shutil.disk_usage(pg.data)
                if usage.free < 0.15 * usage.total:
                    stop = "disk below 15% free"
        segment_s = time.perf_counter() - start
        load_s += segment_s
        r = {"n": done, "stop": stop, **_measure(index, pg, steps)}
        r["build"] = {"add_many (10,000 a transaction), overall": f"{done / load_s:,.0f} docs/s",
                      "  since the previous column": f"{(done - before) / max(segment_s, 1e-9):,.0f} docs/s"}
        results.append(r)
        print(_line(r), flush=True)
        if stop:
            break
    return results


def _sig_cpu(steps: list[list[Delivery]]) -> float:
    start = time.process_time()
    for step in steps:
        for d in step:
            signature(d.text)
    return time.process_time() - start


def _lookups_per_core_s(r: dict[str, float]) -> float:
    return r["deliveries"] / max(r["client_cpu"] - r["sig_cpu"] + r["server_cpu"], 1e-9)


def _line(r: dict[str, float]) -> str:
    """One checkpoint as a log line, printed as soon as it is measured."""
    d = r["deliveries"]
    build = "; ".join(f"{k.strip()} {v}" for k, v in r["build"].items())
    return (f"novelty pg at {r['n']:,} docs: {build}; {r['disk'] / r['n']:,.0f} B a doc on disk "
            f"(cluster dir {r['cluster_disk'] / 1e9:.1f} GB); server PSS {r['server_pss'] / 1e6:,.0f} MB; "
            f"{_lookups_per_core_s(r):,.0f} lookups per core-second; wall {d / r['wall']:,.0f}/s; "
            f"client {r['client_cpu'] / d * 1e3:.2f} ms / server {r['server_cpu'] / d * 1e3:.2f} ms CPU a delivery; "
            f"(background {r['background_cpu']:.1f} s meanwhile); {r['duplicates']}/{r['copies']} copies found; "
            f"vacuum {r['vacuum_s']:.0f} s; load {r['load1']:.1f}" + (f"; stopped: {r['stop']}"
                                                                                        if r["stop"] else ""))


def _pg_table() -> Table:
    results = _pg_probe(_pg_n())
    settings = ", ".join(f"{k}={v}" for k, v in _pg_settings().items()) or "default settings"
    table = Table(title=f"novelty index on PostgreSQL (throwaway cluster, {settings}, client and server on one "
                        "2-core shared machine)")
    table.add_column("figure")
    for r in results:
        table.add_column(f"{r['n']:,} docs", justify="right")
    d = results[-1]["deliveries"]
    for name in results[0]["build"]:
        table.add_row(name, *(r["build"][name] for r in results))
    rows = {
        "tables + indexes on disk per document": lambda r: f"{r['disk'] / r['n']:,.0f} B",
        "server memory (PSS of all its processes)": lambda r: f"{r['server_pss'] / 1e6:,.0f} MB",
        f"assess_step, {d} deliveries in steps of {STEP} (one client, wall)":
            lambda r: f"{r['deliveries'] / r['wall']:,.0f} docs/s",
        "  lookups per core-second (client without signatures + server CPU)":
            lambda r: f"{_lookups_per_core_s(r):,.0f} docs/s",
        "  client CPU / server CPU per delivery": lambda r: f"{r['client_cpu'] / r['deliveries'] * 1e3:.2f} ms / "
                                                           f"{r['server_cpu'] / r['deliveries'] * 1e3:.2f} ms",
        "  server background processes' CPU meanwhile (not counted)": lambda r: f"{r['background_cpu']:.1f} s",
        "  duplicates found among the copies (exact and near)": lambda r: f"{r['duplicates']} / {r['copies']}",
        "VACUUM (ANALYZE) before measuring": lambda r: f"{r['vacuum_s']:.0f} s",
        "load average (1 min) when measured": lambda r: f"{r['load1']:.1f}",
    }
    for name, cell in rows.items():
        table.add_row(name, *(cell(r) for r in results))
    if results[-1]["stop"]:
        table.caption = f"fill stopped at {results[-1]['n']:,} of {_pg_n():,} documents: {results[-1]['stop']}"
    return table


def main() -> None:
    console = Console()
    console.print(f"[bold]bench_novelty[/] on {os.cpu_count()} cores (shared with other work)")
    if _sizes():
        console.print(_memory_table())
    if _pg_n():
        console.print(_pg_table())


if __name__ == "__main__":
    main()
