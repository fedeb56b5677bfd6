"""Hub: a streaming pull of a release several times larger than a 1 GB address-space cap.

Builds one release of `ml-research` with GLEAN_BENCH_STREAM_GB (default 3) GB of zstd parquet on disk (rows of
~8 KB of text, generated with numpy and pyarrow, laid out by hub's own ShardWriter and LocalTarget), then runs
each step in a child process under `resource.setrlimit(RLIMIT_AS, GLEAN_BENCH_STREAM_CAP_MB)` (default 1024):
- imports: what `import datasets` and `hub` take alone (also measured without the cap);
- normal pull: `hub.pull(...)` of the whole release, expected to fail under the cap (datasets maps its Arrow
  cache of the release into memory);
- streaming pull: `hub.pull(..., streaming=True)`, then `for row in ds` (Python dicts, datasets' row path), and
  `ds.with_format("arrow").iter(...)` (Arrow batches), counting rows and text bytes; also once with the default
  allocators (see ALLOCATOR_ENV);
- glean pull --streaming --out: the CLI's writer (`write_rows`), the stream to a parquet file.
Peak RSS is `ru_maxrss` (the release is built in a child too: a child inherits its parent's peak there); peak
address space is the kernel's VmPeak. Rows of ~8 KB fill hub's row groups to their 32 MB bound (the largest a
reader decodes at once). A smaller run: GLEAN_BENCH_STREAM_GB=0.2.

Text: ASCII words drawn at their natural frequency from the docstrings of Python's standard library; each row
is a fresh slice of a 128 MB pool, so zstd sees no repeats within a row group (32 MB).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

DOMAIN = "ml-research"
RELEASE = "r00000001"
ROW_TEXT_BYTES = 8_192
BATCH_ROWS = 2_000
POOL_BYTES = 128 * 1024 * 1024
T0 = datetime(2025, 1, 1, tzinfo=UTC)
CARD = f"""---
configs:
- config_name: {DOMAIN}
  data_files:
  - split: train
    path: data/{DOMAIN}/*/*.parquet
---
Synthetic release of benchmarks/bench_stream.py.
"""
STEPS = (("imports", "imports"), ("pull (not streaming)", "normal"), ("stream: for row in ds", "stream"),
         ("stream: Arrow batches", "batches"), ("glean pull --streaming --out", "cli"))
# Under RLIMIT_AS, address space counts even where nothing is resident: glibc reserves 64 MB per thread arena,
# mimalloc (pyarrow's default pool) reserves large segments, and glibc's sliding mmap threshold (up to 32 MB) puts
# the row groups' 30-50 MB buffers on heaps that fragment. Two arenas, a fixed 1 MB threshold (big buffers are
# mapped and unmapped whole) and the system allocator keep address space near what is used (docs/hub.md).
ALLOCATOR_ENV = {"MALLOC_ARENA_MAX": "2", "MALLOC_MMAP_THRESHOLD_": "1048576", "ARROW_DEFAULT_MEMORY_POOL": "system"}
CHILD_TIMEOUT_SECONDS = 3_600


def _pool(seed: int = 7) -> bytes:
    """POOL_BYTES of ASCII prose."""
    import numpy as np

    from benchmarks.bench_hub import _vocabulary

    vocab = np.array([w for w in _vocabulary() if w.isascii()], dtype=object)
    rng = np.random.default_rng(seed)
    text = " ".join(vocab[rng.integers(0, len(vocab), POOL_BYTES // 5)])
    return text.encode("ascii")[:POOL_BYTES]


def _batch(first: int, n: int, pool: bytes, rng):
    """Rows first..first+n-1 in hub.columns.SCHEMA: a fresh ~8 KB slice of the pool each, varied scores."""
    import numpy as np
    import pyarrow as pa

    from hub.columns import SCHEMA

    ids = np.arange(first, first + n)
    start = int(rng.integers(0, len(pool) - n * ROW_TEXT_BYTES))
    offsets = pa.py_buffer((np.arange(n + 1, dtype=np.int32) * ROW_TEXT_BYTES).tobytes())
    text = pa.StringArray.from_buffers(n, offsets, pa.py_buffer(memoryview(pool)[start:start + n * ROW_TEXT_BYTES]))
    micros = np.datetime64(T0.replace(tzinfo=None), "us") + ids.astype("timedelta64[s]")
    quality = 0.5 + (ids % 50) / 100
    columns = {
        "uri": [f"https://example.org/{DOMAIN}/{i}" for i in ids], "content_hash": [f"{i:064x}" for i in ids],
        "contributor_hotkey": [f"5Miner{i % 64:02d}" for i in ids], "claimed_title": [f"Title {i}" for i in ids],
        "text": text, "domain": [DOMAIN] * n, "source": [("web", "feed", "arxiv")[i % 3] for i in ids],
        "validator_hotkey": ["5Validator"] * n, "accepted_at": micros, "license": ["CC0-1.0"] * n,
        "text_allowed": [True] * n, "attribution": [None] * n, "licence_basis": ["kind:arxiv"] * n,
        "lang": ["en"] * n, "quality": quality, "relevance": np.full(n, 0.6), "novelty": np.ones(n),
        "value": quality * 0.6, "signals": [[{"name": "gopher_min_words", "value": 1300.0}]] * n,
        "words": np.full(n, 1300, dtype=np.int32), "verification": [None] * n,
        "pii_replacements": np.zeros(n, dtype=np.int32), "claimed_published_at": micros,
        "claimed_fetched_at": micros, "claimed_lang": [("en", "de")[i % 2] for i in ids], "release": [RELEASE] * n,
    }
    return pa.table({f.name: pa.array(columns[f.name], type=f.type) for f in SCHEMA}, schema=SCHEMA)


def build_release(folder: Path, target_bytes: int) -> tuple[int, int]:
    """A release of at least `target_bytes` of parquet in the local hub folder `folder`: (rows, parquet bytes)."""
    import numpy as np

    from hub import LocalTarget
    from hub.release import StagedFile, StagedRelease, shard_path
    from hub.shards import ShardWriter

    target = LocalTarget(folder)
    staged = target.staging_parent() / RELEASE
    writer, pool, rng, rows = ShardWriter(staged), _pool(), np.random.default_rng(11), 0
    while sum(p.stat().st_size for p in staged.glob("*.parquet")) < target_bytes:
        writer.write(_batch(rows + 1, BATCH_ROWS, pool, rng))
        rows += BATCH_ROWS
    shards = writer.close()
    files = [StagedFile(shard_path(DOMAIN, RELEASE, i), s.path, s.rows) for i, s in enumerate(shards)]
    target.publish(StagedRelease(RELEASE, 1, rows, datetime.now(UTC), files, CARD, {DOMAIN: rows}))
    return rows, sum(p.stat().st_size for p in (folder / "data").rglob("*.parquet"))


def _status(field: str) -> int:
    """A /proc/self/status figure in bytes (VmPeak: peak address space; VmRSS: resident now)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    return 0


def _run_step(step: str, folder: Path, out: Path, result: dict) -> None:
    """Run `step`, keeping its figures in `result` as it goes (a step that fails shows how far it got)."""
    start = time.perf_counter()
    import datasets  # noqa: F401

    from glean.pull_cmd import write_rows
    from hub import pull

    result.update(import_s=time.perf_counter() - start, import_vm=_status("VmPeak"), import_rss=_status("VmRSS"),
                  rows=0, bytes=0)
    start = time.perf_counter()
    if step == "normal":
        ds = pull(DOMAIN, path=folder)
        for batch in ds.with_format("arrow").iter(batch_size=BATCH_ROWS):
            result["rows"] += batch.num_rows
            result["bytes"] += batch.column("text").nbytes
    elif step == "stream":
        for row in pull(DOMAIN, path=folder, streaming=True):
            result["rows"] += 1
            result["bytes"] += len(row["text"].encode("utf-8"))
    elif step == "batches":
        for batch in pull(DOMAIN, path=folder, streaming=True).with_format("arrow").iter(batch_size=BATCH_ROWS):
            result["rows"] += batch.num_rows
            result["bytes"] += batch.column("text").nbytes
    elif step == "cli":
        result["rows"] = write_rows(pull(DOMAIN, path=folder, streaming=True), out)  # text bytes not counted
    result["seconds"] = time.perf_counter() - start


def child(step: str, folder: str, limit: int) -> None:
    """One step in this process, its figures printed as one JSON line. `limit`: the address-space cap in bytes (0:
    none), or for `build` the parquet bytes to write (built here so the parent's peak RSS, which a child inherits
    in ru_maxrss across fork, stays small)."""
    if step == "build":
        rows, size = build_release(Path(folder), limit)
        print(json.dumps({"rows": rows, "bytes": size}), flush=True)
        return
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    result: dict = {}
    try:
        _run_step(step, Path(folder), Path(folder).parent / "cli-out.parquet", result)
    except Exception as exc:  # the figure to report: how a pull fails under the cap
        result["error"] = f"{type(exc).__name__}: {str(exc)[:160]}"
    result.update(peak_rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, peak_vm=_status("VmPeak"),
                  hwm=_status("VmHWM"))
    print(json.dumps(result), flush=True)


def _spawn(step: str, folder: Path, cap_bytes: int, env: dict) -> dict:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_stream", "child", step, str(folder),
                           str(cap_bytes)], capture_output=True, text=True, env=env, timeout=CHILD_TIMEOUT_SECONDS)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:  # killed before it could report (e.g. a failed allocation inside native code)
        return {"error": f"exit {proc.returncode}: {proc.stderr.strip().splitlines()[-1:] or ''}"}
    return json.loads(lines[-1])


def _mb(value: float) -> str:
    return f"{value / 2**20:,.0f} MB"


def _row(table: Table, name: str, limit: str, r: dict) -> None:
    if name.startswith("imports") and "error" not in r:
        table.add_row(name, limit, "", "", "", _mb(r["peak_rss"]), _mb(r["peak_vm"]))
        return
    if "error" in r:
        got = f"failed after {r['rows']:,}" if "rows" in r else "failed"
        table.add_row(name, limit, got, "", "", _mb(r["peak_rss"]) if "peak_rss" in r else "", r["error"])
        return
    rate = f"{r['rows'] / r['seconds']:,.0f}"
    mbs = f"{r['bytes'] / r['seconds'] / 1e6:,.0f}" if r["bytes"] else ""
    table.add_row(name, limit, f"{r['rows']:,}", rate, mbs, _mb(r["peak_rss"]), _mb(r["peak_vm"]))


def main() -> None:
    gb = float(os.environ.get("GLEAN_BENCH_STREAM_GB", "3"))
    cap = int(float(os.environ.get("GLEAN_BENCH_STREAM_CAP_MB", "1024")) * 2**20)
    console = Console(width=max(Console().width, 140))
    with tempfile.TemporaryDirectory(prefix="glean-bench-stream-") as tmp:
        root = Path(tmp)
        default_env = {k: v for k, v in os.environ.items() if k not in ALLOCATOR_ENV}
        default_env.update(HF_HOME=str(root / "hf"), HF_DATASETS_CACHE=str(root / "hf" / "ds"), HF_HUB_OFFLINE="1")
        env = {**default_env, **ALLOCATOR_ENV}
        console.print(f"building a release of {gb:g} GB of parquet …")
        start = time.perf_counter()
        built = _spawn("build", root / "hub", int(gb * 1e9), env)
        rows, size = built["rows"], built["bytes"]
        console.print(f"{rows:,} rows, {size / 1e9:.2f} GB of parquet in {time.perf_counter() - start:.0f} s")
        load = os.getloadavg()[0]
        results = {("imports", "none"): _spawn("imports", root / "hub", 0, env),
                   ("imports, default allocators", "none"): _spawn("imports", root / "hub", 0, default_env),
                   ("stream, default allocators", _mb(cap)): _spawn("stream", root / "hub", cap, default_env)}
        results.update({(label, _mb(cap)): _spawn(step, root / "hub", cap, env) for label, step in STEPS})
    table = Table(title=f"hub: pull of {rows:,} rows ({size / 1e9:.2f} GB parquet) under RLIMIT_AS = {_mb(cap)}, "
                        f"{os.cpu_count()} cores (shared), load average {load:.1f} at start")
    for column in ("step", "RLIMIT_AS", "rows", "rows/s", "text MB/s", "peak RSS", "peak address space / error"):
        table.add_column(column, justify="left" if column.startswith(("step", "peak address")) else "right")
    for (name, limit), r in results.items():
        _row(table, name, limit, r)
    console.print(table)
    imports = results[("imports", "none")]
    console.print(f"import datasets + hub alone: {_mb(imports.get('import_vm', 0))} address space, "
                  f"{_mb(imports.get('import_rss', 0))} RSS, {imports.get('import_s', 0):.1f} s")


if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main()
