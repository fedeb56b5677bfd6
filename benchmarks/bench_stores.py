"""The miner's record store and the validator's accepted store on PostgreSQL, filled to N records each.

Each store gets its own throwaway cluster (benchmarks/pg_cluster.py), filled in batches of 1,000 through the store's
own write path (`miner.store.Store.add`; `validator.store.accepted.insert` in one transaction a batch), then measured:
ingest records/s (overall, and over the last tenth of the fill, which shows whether it slows as the tables grow),
the miner's index and a 1,000-record page (in the store and over signed HTTP on loopback), the accepted store's
publisher page (1,000 after an id), current-version lookup of 1,000 pages (what a step does for its deliveries), the
per-domain count, a restart, and bytes on disk (`pg_total_relation_size` of each table) per byte of text.

Text: 2 KB of the Markov prose of bench_miner (20,000 texts, each record with its own closing line); accepted rows
carry a random (incompressible) MinHash signature of the real size. The fill stops early when the disk holding the
cluster falls below GLEAN_BENCH_STORES_MIN_FREE (default 15%) free, or after GLEAN_BENCH_STORES_MAX_MINUTES of filling
(default: no bound); the table says the size actually reached.

    python -m benchmarks stores    # GLEAN_BENCH_STORES_N=200000  GLEAN_BENCH_STORES=miner,accepted
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from benchmarks.bench_miner import DOMAINS, POOL, MarkovText, _median_ms, _record, _ServedMiner
from benchmarks.pg_cluster import Cluster, cluster
from schemas import Record

BATCH = 1_000
PAGE = 1_000
# Bulk-load settings an operator would give a store of this size (the defaults checkpoint every 1 GB of WAL and
# cache 128 MB); durability is PostgreSQL's default (fsync, synchronous commit).
SETTINGS = {"shared_buffers": "1GB", "max_wal_size": "8GB", "checkpoint_timeout": "15min"}
console = Console()


def _n() -> int:
    return int(os.environ.get("GLEAN_BENCH_STORES_N", "200000"))


def _stores() -> list[str]:
    return [s for s in os.environ.get("GLEAN_BENCH_STORES", "miner,accepted").split(",") if s]


def _min_free() -> float:
    return float(os.environ.get("GLEAN_BENCH_STORES_MIN_FREE", "0.15"))


def _max_seconds() -> float:
    return float(os.environ.get("GLEAN_BENCH_STORES_MAX_MINUTES", "0")) * 60 or float("inf")


def _records(n: int, texts: list[str], now: datetime) -> Iterator[Record]:
    for i in range(n):
        yield _record(i, f"{texts[i % len(texts)]}\n\nRecord {i}.", now)


class Fill:
    """Feeds batches to `write` until n records or the disk runs low; progress every tenth."""

    def __init__(self, n: int, where: Path, cpu: Callable[[], float]) -> None:
        self.n, self.where, self.done, self.text_bytes = n, where, 0, 0
        self.cpu, self.cpu_seconds = cpu, 0.0
        self.stopped: str | None = None
        self.seconds = 0.0
        self.marks: list[tuple[int, float]] = [(0, 0.0)]

    def free(self) -> float:
        usage = shutil.disk_usage(self.where)
        return usage.free / usage.total

    def run(self, records: Iterator[Record], write: Callable[[list[Record]], None], label: str) -> None:
        start, cpu0, step = time.perf_counter(), self.cpu(), max(BATCH, self.n // 10 // BATCH * BATCH)
        batch: list[Record] = []
        for rec in records:
            batch.append(rec)
            if len(batch) < BATCH:
                continue
            self._write(write, batch)
            batch = []
            if self.done % step == 0:
                self._mark(label, start)
                if self.free() < _min_free():
                    self.stopped = f"disk below {_min_free():.0%} free"
            if time.perf_counter() - start > _max_seconds():
                self.stopped = f"time bound of {_max_seconds() / 60:.0f} min"
            if self.stopped:
                break
        if batch:
            self._write(write, batch)
        self.seconds, self.cpu_seconds = time.perf_counter() - start, self.cpu() - cpu0
        if self.marks[-1][0] != self.done:
            self.marks.append((self.done, self.seconds))

    def _write(self, write: Callable[[list[Record]], None], batch: list[Record]) -> None:
        write(batch)
        self.done += len(batch)
        self.text_bytes += sum(r.text_bytes for r in batch)

    def _mark(self, label: str, start: float) -> None:
        elapsed = time.perf_counter() - start
        (n0, t0) = self.marks[-1]
        self.marks.append((self.done, elapsed))
        console.print(f"{label}: {self.done:,} records in {elapsed:,.0f} s, {(self.done - n0) / (elapsed - t0):,.0f}"
                      f"/s lately, disk {self.free():.0%} free, load {os.getloadavg()[0]:.1f}", highlight=False)

    def rates(self) -> tuple[float, float, float]:
        """Records/s over the whole fill and over its last tenth (or last interval), and per CPU-second (client
        and server processes), which the machine's other work does not change as much."""
        (n1, t1), (n0, t0) = self.marks[-1], self.marks[-2]
        return self.done / self.seconds, (n1 - n0) / max(t1 - t0, 1e-9), self.done / max(self.cpu_seconds, 1e-9)


def _table_bytes(engine, tables: tuple[str, ...]) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: int(conn.exec_driver_sql(f"SELECT pg_total_relation_size('{t}')").scalar_one()) for t in tables}


# ---- the miner's store ---------------------------------------------------------------------------------------

def _miner(pg: Cluster, n: int, texts: list[str], now: datetime, workdir: Path) -> dict:
    from miner.store import Store

    url = pg.database("miner")
    store = Store.open(url)
    fill = Fill(n, workdir, lambda: time.process_time() + pg.server_cpu())
    fill.run(_records(n, texts, now), store.add, "miner store")
    store.wait_background()
    figures = {"n": fill.done, "fill": fill, "disk": _table_bytes(store.engine, ("miner_records", "miner_index",
                                                                                 "miner_dictionaries"))}
    figures.update(_miner_reads(store, fill.done))
    figures.update(_miner_http(store, fill.done, workdir))
    start = time.perf_counter()
    Store.open(url).engine.dispose()
    figures["restart_s"] = time.perf_counter() - start
    return figures


def _miner_reads(store, n: int) -> dict[str, float]:
    from miner.wire import encode_page

    cursors = random.Random(3).sample(range(max(1, n - PAGE)), 10)

    def index_after_a_write() -> bytes:
        store._version += 1  # what a write does: buckets, digest and JSON are rebuilt
        return store.index_json("5Bench")

    def page() -> bytes:
        rows = store.page(cursors.pop(), limit=PAGE, max_bytes=16 * 1024**2)
        return encode_page(rows.items, rows.next_seq, rows.more)

    picks = random.Random(4).sample(range(n), 10)
    uris = [f"https://bench.example.org/{DOMAINS[i % len(DOMAINS)]}/{i}" for i in picks]
    return {"index_ms": _median_ms(index_after_a_write, 20), "page_ms": _median_ms(page, 10),
            "lookup_ms": _median_ms(lambda: store.lookup(uris=uris), 10)}


def _miner_http(store, n: int, workdir: Path) -> dict[str, float]:
    from schemas.protocol import RecordsRequest

    picks = random.Random(5).sample(range(max(1, n - PAGE)), 10)
    with _ServedMiner(store, workdir) as served, served.client() as http:
        http.get("/v1/index").raise_for_status()
        index_ms = _median_ms(lambda: http.get("/v1/index").raise_for_status(), 30)

        def page() -> None:
            request = RecordsRequest(after_seq=picks.pop(), limit=PAGE, max_bytes=16 * 1024**2)
            http.post("/v1/records", content=request.model_dump_json().encode()).raise_for_status()

        return {"http_index_ms": index_ms, "http_page_ms": _median_ms(page, 10)}


# ---- the validator's accepted store --------------------------------------------------------------------------

def _accepted_writer(store) -> Callable[[list[Record]], None]:
    from scoring.minhash import SIGNATURE_BYTES, signature
    from validator.store.accepted import Accepted, Facts, Provenance, insert

    rng, head, step = np.random.default_rng(7), signature("x")[:4], iter(range(1, 10**9))
    signals = {"quality": 0.8, "word_count": 320.0, "stop_word_ratio": 0.41, "symbol_ratio": 0.0}
    facts = Facts(detected_lang="en", licence="cc-by-4.0", text_allowed=True, licence_basis="domain policy")

    def write(batch: list[Record]) -> None:
        sigs = rng.bytes(len(batch) * (SIGNATURE_BYTES - 4))
        width = SIGNATURE_BYTES - 4
        rows = [Accepted(record=r, quality=0.8, relevance=0.6, novelty=1.0, freshness=1.0, size=0.5,
                         desirability=1.0, value=0.24, signals=signals, minhash=head + sigs[i * width:(i + 1) * width],
                         facts=facts) for i, r in enumerate(batch)]
        by = Provenance(uid=next(step) % 256, hotkey="5Miner" + "x" * 42, validator_hotkey="5Validator" + "y" * 38,
                        step=next(step))
        with store.engine.begin() as conn:
            insert(conn, rows, by, datetime.now(UTC))
    return write


def _accepted(pg: Cluster, n: int, texts: list[str], now: datetime, workdir: Path) -> dict:
    from validator.store import ValidatorStore

    url = pg.database("validator")
    store = ValidatorStore.open(url)
    fill = Fill(n, workdir, lambda: time.process_time() + pg.server_cpu())
    fill.run(_records(n, texts, now), _accepted_writer(store), "accepted store")
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE validator_accepted")
    figures = {"n": fill.done, "fill": fill, "disk": _table_bytes(store.engine, ("validator_accepted",))}
    with store.engine.connect() as conn:
        figures["text_stored"] = float(conn.exec_driver_sql(
            "SELECT avg(pg_column_size(text)) / avg(octet_length(text)) FROM validator_accepted "
            "WHERE accepted_id <= 10000").scalar_one() or 0)
    figures.update(_accepted_reads(store, fill.done))
    store.close()
    start = time.perf_counter()
    ValidatorStore.open(url).close()
    figures["restart_s"] = time.perf_counter() - start
    return figures


def _accepted_reads(store, n: int) -> dict[str, float]:
    after_ids = random.Random(6).sample(range(max(1, n - PAGE)), 10)
    rng = random.Random(8)
    lookups = [[(DOMAINS[i % len(DOMAINS)], f"https://bench.example.org/{DOMAINS[i % len(DOMAINS)]}/{i}")
                for i in rng.sample(range(n * 2), PAGE)] for _ in range(5)]  # half of them not accepted
    return {"page_ms": _median_ms(lambda: store.accepted_after(after_ids.pop(), PAGE), 10),
            "current_ms": _median_ms(lambda: store.current_versions(lookups.pop()), 5),
            "by_domain_ms": _median_ms(store.accepted_by_domain, 3)}


# ---- report --------------------------------------------------------------------------------------------------

def _table(name: str, r: dict, rows: list[tuple[str, str]]) -> Table:
    fill: Fill = r["fill"]
    overall, last, per_cpu = fill.rates()
    stop = f" of {fill.n:,} (stopped: {fill.stopped})" if fill.stopped else ""
    table = Table(title=f"{name} on PostgreSQL at {r['n']:,} records{stop} ({os.cpu_count()} cores, shared)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("ingest records/s, whole fill / last tenth", f"{overall:,.0f} / {last:,.0f}")
    table.add_row("ingest records per CPU-second (benchmark process + PostgreSQL)", f"{per_cpu:,.0f}")
    table.add_row("fill time", f"{fill.seconds / 60:,.1f} min")
    for t, size in r["disk"].items():
        table.add_row(f"{t} on disk, bytes per text byte", f"{size / fill.text_bytes:.3f} ({size / 1e9:.2f} GB)")
    for row in rows:
        table.add_row(*row)
    table.add_row("restart (open the store)", f"{r['restart_s']:.2f} s")
    return table


def _miner_rows(r: dict) -> list[tuple[str, str]]:
    return [("index after a write (in the store)", f"{r['index_ms']:.2f} ms"),
            ("GET /v1/index, signed, loopback", f"{r['http_index_ms']:.1f} ms"),
            ("1,000 records after a cursor (in the store)", f"{r['page_ms']:.1f} ms"),
            ("POST /v1/records 1,000, signed, gzip, loopback", f"{r['http_page_ms']:.1f} ms"),
            ("lookup of 10 uris (sampling)", f"{r['lookup_ms']:.1f} ms")]


def _accepted_rows(r: dict) -> list[tuple[str, str]]:
    return [("text column as stored (TOAST) per text byte", f"{r['text_stored']:.3f}"),
            ("1,000 accepted records after an id (publishing)", f"{r['page_ms']:.1f} ms"),
            ("current version of 1,000 pages (a step's check)", f"{r['current_ms']:.1f} ms"),
            ("accepted per domain (dashboard, full count)", f"{r['by_domain_ms']:,.0f} ms")]


def main() -> None:
    n, wanted = _n(), _stores()
    console.print(f"[bold]bench_stores[/]: {n:,} records a store, {os.cpu_count()} cores (shared), "
                  f"PostgreSQL settings {SETTINGS}, stop below {_min_free():.0%} free disk")
    gen, now = MarkovText(), datetime.now(UTC)
    texts = [gen.text() for _ in range(min(POOL, n))]
    runs = {"miner": ("miner store", _miner, _miner_rows), "accepted": ("accepted store", _accepted, _accepted_rows)}
    for key in wanted:
        name, bench, rows = runs[key]
        with tempfile.TemporaryDirectory(prefix="glean-bench-stores-") as tmp, cluster(SETTINGS) as pg:
            r = bench(pg, n, texts, now, Path(tmp))
        console.print(_table(name, r, rows(r)))
    console.print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
