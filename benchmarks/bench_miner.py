"""Miner store and API at scale: ingest rate, index and page latency at 1,000,000 records, bytes on disk,
and the same workload through Data Universe's storage approach (benchmarks/du_storage_compare.py).

Targets (2-core machine): ingest >= 20,000 records/s (2 KB text, SQLite WAL); index served < 20 ms and a page of
1,000 records served < 100 ms with 1,000,000 records stored. Smaller runs: GLEAN_BENCH_MINER_N=100000 (records at
scale; the ingest run uses min(N, 50,000)).

Text: a word-trigram Markov chain over the docstrings of Python's standard library: English-like prose with no
two records alike, so compression figures are not flattered by repeated documents. The ingest run's records are
all distinct; the scale run reuses 20,000 generated texts with a unique closing line per record (bytes on disk
per text byte is reported for both; the ingest figure is the honest one).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from rich.console import Console
from rich.table import Table

from benchmarks import du_storage_compare as du
from benchmarks.stdlib_text import stdlib_docstrings
from schemas import Record, normalize_text

TEXT_CHARS = 2_048
BATCH = 1_000
DOMAINS = ("ml-research", "world-news", "python-ecosystem", "open-knowledge")
SOURCES = ("web", "feed")
DAYS = 30
POOL = 20_000
DU_SOURCE_IDS = {s: i for i, s in enumerate(SOURCES)}


def _sizes() -> tuple[int, int]:
    scale = int(os.environ.get("GLEAN_BENCH_MINER_N", "1000000"))
    return min(scale, 50_000), scale


class MarkovText:
    """Word-trigram chain over stdlib docstrings (deterministic for a seed)."""

    def __init__(self, seed: int = 7) -> None:
        words: list[str] = []
        for _name, doc in stdlib_docstrings():
            if len(doc) > 200:
                words.extend(doc.split() + ["\n\n"])
        self.chain: dict[tuple[str, str], list[str]] = defaultdict(list)
        for a, b, c in zip(words, words[1:], words[2:], strict=False):
            self.chain[(a, b)].append(c)
        self.starts = list(self.chain)
        self.rng = random.Random(seed)

    def text(self, chars: int = TEXT_CHARS) -> str:
        a, b = self.rng.choice(self.starts)
        out, size = [], 0
        while size < chars:
            follow = self.chain.get((a, b))
            if not follow:
                a, b = self.rng.choice(self.starts)
                continue
            c = self.rng.choice(follow)
            out.append(c)
            size += len(c) + 1
            a, b = b, c
        return normalize_text(" ".join(out)[:chars])


def _record(i: int, text: str, now: datetime) -> Record:
    """A record without re-validation (the benchmark measures the store, not the schema)."""
    domain, source = DOMAINS[i % len(DOMAINS)], SOURCES[(i // len(DOMAINS)) % len(SOURCES)]
    fetched = now - timedelta(days=i % DAYS, seconds=i % 3600)
    return Record.model_construct(
        uri=f"https://bench.example.org/{domain}/{i}", source=source, domain=domain, title=f"Document {i}",
        text=text, content_hash=hashlib.sha256(text.encode()).hexdigest(), fetched_at=fetched, published_at=None,
        lang="en", license=None, labels=[], meta={})


def _du_row(rec: Record, raw: bytes) -> du.DuRow:
    hours = int(rec.fetched_at.timestamp() // 3600)
    return du.DuRow(rec.uri, rec.fetched_at.isoformat(sep=" "), hours, DU_SOURCE_IDS[rec.source], rec.domain, raw)


def _median_ms(work, repeat: int) -> float:
    return _timed(work, repeat)[0]


def _timed(work, repeat: int) -> tuple[float, float]:
    """Median wall and CPU (every thread of this process) milliseconds of `work`."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        work()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def _disk(path: Path, engine) -> int:
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def dev_wallet(name: str) -> SimpleNamespace:
    """An in-memory wallet: what the chain and the signer need of one."""
    from bittensor.keyfiles import Keypair

    cold, hot = Keypair.create_from_uri(f"//{name}"), Keypair.create_from_uri(f"//{name}//hot")
    return SimpleNamespace(coldkey=cold, coldkeypub=Keypair(ss58_address=cold.ss58_address), hotkey=hot)


class _ServedMiner:
    """The store behind the real miner (uvicorn on loopback, LocalChain gate) in a background thread."""

    def __init__(self, store, workdir: Path) -> None:
        from chain import LocalChain
        from miner.app import bind_socket, build_miner
        from schemas.config import GleanConfig

        self.chain = LocalChain(workdir / "chain.sqlite")
        self.validator, miner_wallet = dev_wallet("bench-validator"), dev_wallet("bench-miner")
        asyncio.run(self._register(miner_wallet))
        config = GleanConfig(data_dir=workdir, miner={"host": "127.0.0.1", "requests_per_minute": 10**6,
                                                      "request_burst": 10**6})
        self.miner = build_miner(config, wallet=miner_wallet, chain=self.chain, store=store)
        self.sock = bind_socket("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)

    async def _register(self, miner_wallet) -> None:
        await self.chain.register(miner_wallet)
        await self.chain.register(self.validator)
        await self.chain.add_stake(self.validator.hotkey.ss58_address, 1000.0)

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._ready.set()
        await self.miner.run(self._stop, sock=self.sock)

    def __enter__(self) -> _ServedMiner:
        self._thread.start()
        self._ready.wait()
        return self

    def __exit__(self, *_exc) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)

    def client(self):
        import httpx

        from chain.auth import HotkeyAuth
        from schemas.protocol import PROTOCOL_HEADER
        from schemas.version import PROTOCOL_VERSION

        return httpx.Client(base_url=self.url, auth=HotkeyAuth(self.validator.hotkey, self.miner.hotkey), timeout=30,
                            headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION)})


def _ingest(records: list[Record], workdir: Path) -> tuple[float, float, float]:
    """Records per wall second and per CPU second (all threads) into a fresh store, and disk per text byte."""
    from miner.store import Store

    path = workdir / "ingest.sqlite"
    store = Store.open(f"sqlite:///{path}")
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(records), BATCH):
        store.add(records[i:i + BATCH])
    store.wait_background()  # the dictionary trained on the way is part of the cost
    rate = len(records) / (time.perf_counter() - start)
    cpu_rate = len(records) / (time.process_time() - cpu)
    disk = _disk(path, store.engine) / sum(r.text_bytes for r in records)
    store.close()
    return rate, cpu_rate, disk


def _scale_records(texts: list[str], n: int, now: datetime):
    pool = min(POOL, len(texts))
    for i in range(n):
        yield _record(i, f"{texts[i % pool]}\n\nRecord {i}.", now)


def _at_scale(texts: list[str], n: int, now: datetime, workdir: Path) -> dict[str, float]:
    """Fill a store with n records, then time the index and pages, in the store and over signed HTTP."""
    from miner.store import Store
    from miner.wire import encode_page
    from schemas.protocol import RecordsRequest

    path = workdir / "scale.sqlite"
    store = Store.open(f"sqlite:///{path}")
    start, batch, text_bytes = time.perf_counter(), [], 0
    for rec in _scale_records(texts, n, now):
        batch.append(rec)
        text_bytes += rec.text_bytes
        if len(batch) == BATCH:
            store.add(batch)
            batch = []
    store.add(batch)
    fill = time.perf_counter() - start

    def index_after_a_write() -> bytes:
        store._version += 1  # what a write does: buckets, digest and JSON are rebuilt
        return store.index_json("5Bench")

    cursors = random.Random(3).sample(range(max(1, n - 1_000)), 10)

    def page_from_store() -> bytes:
        page = store.page(cursors.pop(), limit=1_000, max_bytes=16 * 1024**2)
        return encode_page(page.items, page.next_seq, page.more)

    figures = {"fill": fill, "text_bytes": text_bytes, "index": _median_ms(index_after_a_write, 20)}
    figures["page"], figures["page_cpu"] = _timed(page_from_store, 10)
    with _ServedMiner(store, workdir) as served, served.client() as http:
        http.get("/v1/index").raise_for_status()
        figures["http_index"] = _median_ms(lambda: http.get("/v1/index").raise_for_status(), 30)
        picks = random.Random(5).sample(range(max(1, n - 1_000)), 10)

        def page_over_http() -> None:
            request = RecordsRequest(after_seq=picks.pop(), limit=1_000, max_bytes=16 * 1024**2)
            response = http.post("/v1/records", content=request.model_dump_json().encode())
            response.raise_for_status()
            assert response.content.count(b'"seq":') == 1_000

        figures["http_page"], figures["http_page_cpu"] = _timed(page_over_http, 10)
    engine = store.engine  # Miner.run closed the store; the engine reconnects for the checkpoint
    figures["disk"] = _disk(path, engine) / text_bytes
    engine.dispose()
    return figures


def main() -> None:
    console = Console()
    n_ingest, n_scale = _sizes()
    console.print(f"miner benchmark: ingest {n_ingest:,} records, scale {n_scale:,} records, {os.cpu_count()} cores")
    gen, now = MarkovText(), datetime.now(UTC)
    start = time.perf_counter()
    texts = [gen.text() for _ in range(n_ingest)]
    console.print(f"generated {len(texts):,} distinct texts in {time.perf_counter() - start:.1f} s")
    ingest = [_record(i, t, now) for i, t in enumerate(texts)]
    ingest_text = sum(r.text_bytes for r in ingest)

    with tempfile.TemporaryDirectory(prefix="glean-bench-miner-") as tmp:
        workdir = Path(tmp)
        load_before = os.getloadavg()[0]
        rate, cpu_rate, disk_ingest = _ingest(ingest, workdir)
        console.print(f"ingest done: {rate:,.0f} records/s")
        scale = _at_scale(texts, n_scale, now, workdir)
        console.print(f"scale done: filled in {scale['fill']:.0f} s")
        du_ingest = [_du_row(r, r.model_dump_json().encode()) for r in ingest]
        du_scale = (_du_row(r, r.model_dump_json().encode()) for r in _scale_records(texts, n_scale, now))
        theirs = du.run(du_ingest, du_scale, ingest_text, scale["text_bytes"], workdir)

    n = f"{n_scale:,}"
    rows = [
        ("ingest, records/s (2 KB text, SQLite WAL)", rate, theirs.ingest_per_s, ">= 20,000", "{:,.0f}"),
        ("ingest, records per CPU-second (all threads)", cpu_rate, theirs.ingest_per_cpu_s, "", "{:,.0f}"),
        ("bytes on disk per text byte (distinct texts)", disk_ingest, theirs.disk_per_text_byte, "", "{:.3f}"),
        (f"fill to {n} records, s", scale["fill"], theirs.fill_seconds, "", "{:,.1f}"),
        (f"index after a write at {n}, ms", scale["index"], theirs.index_ms, "", "{:.2f}"),
        (f"GET /v1/index, signed, loopback, at {n}, ms", scale["http_index"], None, "< 20", "{:.1f}"),
        (f"1,000 records from the store at {n}, ms", scale["page"], theirs.bucket_page_ms, "", "{:.1f}"),
        ("  same, CPU ms", scale["page_cpu"], None, "", "{:.1f}"),
        (f"POST /v1/records 1,000, signed, gzip, at {n}, ms", scale["http_page"], None, "< 100", "{:.1f}"),
        ("  same, CPU ms (server and client threads)", scale["http_page_cpu"], None, "", "{:.1f}"),
        (f"bytes on disk per text byte at {n}", scale["disk"], theirs.disk_per_text_byte_scale, "", "{:.3f}"),
    ]
    table = Table(title=f"miner store and API vs the Data Universe approach ({os.cpu_count()} cores)")
    for column in ("figure", "glean", "target", "DU approach", "glean / DU"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for name, ours, du_value, target, fmt in rows:
        table.add_row(name, fmt.format(ours), target, "" if du_value is None else fmt.format(du_value),
                      "" if not du_value else f"{ours / du_value:.3g}x")
    console.print(table)
    console.print(f"load average (1 min) before: {load_before:.1f}, after: {os.getloadavg()[0]:.1f} "
                  f"on {os.cpu_count()} cores (other work on the machine slows every wall-clock figure)")
    console.print("DU index: GROUP BY over the whole table (hour buckets). DU page: 1,000 rows of its largest bucket "
                  "(it has no cursor). glean index: incremental table + digest. glean page: 1,000 after a cursor.")
