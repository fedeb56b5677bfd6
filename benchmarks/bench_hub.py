"""Hub: rows/s of a release of 100,000 accepted records of ~2 KB, and the time `pull` takes to load it back.

Target (2-core machine): >= 50,000 rows/s to parquet. Figures:
- release: the whole `Publisher.publish` to a `LocalTarget` (records -> Arrow columns -> zstd parquet shards,
  the two overlapping on two threads; card, tag file, SQLite state), and each stage alone on one thread;
- pull: `hub.pull` of the largest domain, cold (datasets builds its Arrow cache) and cached, and filtered.
Smaller runs: GLEAN_BENCH_HUB_N=20000.

Text: words drawn at their natural frequency from the docstrings of Python's standard library, so no two records
are alike and zstd is not flattered by repeated documents.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import os
import random
import sysconfig
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

TEXT_BYTES = 2_048
DOMAIN_SHARES = (("ml-research", 0.7), ("world-news", 0.1), ("python-ecosystem", 0.1), ("open-knowledge", 0.1))
SOURCES = ("web", "feed", "arxiv")
T0 = datetime(2025, 1, 1, tzinfo=UTC)
RELEASE_RUNS = 2


def _vocabulary() -> list[str]:
    words: list[str] = []
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py")):
        with contextlib.suppress(SyntaxError, UnicodeDecodeError, ValueError):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.Module):
                    words += (ast.get_docstring(node) or "").split()
    return words


def make_records(n: int) -> list:
    """n accepted records of ~2 KB, built without validation (the validator's store hands them over built)."""
    from schemas.accepted import AcceptedRecord
    from schemas.record import Record

    rng = random.Random(11)
    vocab = _vocabulary()
    domains = [d for d, _ in DOMAIN_SHARES]
    weights = [w for _, w in DOMAIN_SHARES]
    records = []
    for i in range(1, n + 1):
        words = rng.choices(vocab, k=TEXT_BYTES // 6)
        text = f"Record {i}.\n" + " ".join(words)[:TEXT_BYTES]
        domain = rng.choices(domains, weights)[0]
        record = Record.model_construct(
            uri=f"https://example.org/{domain}/{i}", source=SOURCES[i % 3], domain=domain, title=f"Title {i}",
            text=text, content_hash=hashlib.sha256(text.encode()).hexdigest(),
            fetched_at=T0 + timedelta(seconds=i), published_at=T0 + timedelta(days=i % 90), lang="en",
            license=None, labels=[], meta={})
        quality = 0.5 + (i % 50) / 100
        records.append(AcceptedRecord.model_construct(
            accepted_id=i, record=record, quality=quality, relevance=0.6, novelty=1.0, value=quality * 0.6,
            signals={"gopher_min_words": float(len(words)), "stop_word_ratio": 0.31, "line_repetition": 0.0},
            miner_uid=i % 64, miner_hotkey=f"5Miner{i % 64:02d}", validator_hotkey="5Validator", step=i // 1000,
            accepted_at=T0 + timedelta(days=100, seconds=i)))
    return records


def _stages(records: list, folder: Path) -> tuple[float, float, int]:
    """Seconds to build Arrow columns, then seconds to write them as shards (one thread each), and bytes."""
    from hub import constants
    from hub.columns import to_batch
    from hub.shards import ShardWriter

    start = time.perf_counter()
    batches: dict[str, list] = {}
    for at in range(0, len(records), constants.FETCH_PAGE_ROWS):
        by_domain: dict[str, list] = {}
        for rec in records[at:at + constants.FETCH_PAGE_ROWS]:
            by_domain.setdefault(rec.record.domain, []).append(rec)
        for domain, recs in by_domain.items():
            batches.setdefault(domain, []).append(to_batch(recs, "r00000001"))
    columns_s = time.perf_counter() - start
    start = time.perf_counter()
    shards = []
    for domain, items in batches.items():
        writer = ShardWriter(folder / domain)
        for batch in items:
            writer.write(batch)
        shards += writer.close()
    return columns_s, time.perf_counter() - start, sum(s.path.stat().st_size for s in shards)


def _warm_up(records: list, folder: Path) -> None:
    """First-call costs a long-running validator pays once (pyarrow imports pandas on its first array)."""
    from hub.columns import to_batch
    from hub.shards import ShardWriter

    writer = ShardWriter(folder)
    writer.write(to_batch(records[:10], "r00000001"))
    writer.close()


def _release(records: list, root: Path, scrub: bool = True) -> tuple[float, float, object]:
    """Wall and CPU seconds (all threads) of one publish of `records`, and its ReleaseInfo."""
    from hub import LocalTarget, Publisher
    from schemas.domain import DomainCatalog
    from storage import make_engine

    root.mkdir(parents=True, exist_ok=True)
    publisher = Publisher(make_engine(f"sqlite:///{root / 'validator.sqlite'}"), LocalTarget(root / "hub"),
                          DomainCatalog.load(), scrub_personal_data=scrub)

    def fetch_after(after: int, limit: int) -> list:
        return records[after:after + limit]  # ids are 1..n, so id `after` sits at index after - 1

    start, cpu = time.perf_counter(), time.process_time()
    info = publisher.publish(fetch_after, validator_hotkey="5Validator", verification_stats={"pass": 100})
    return time.perf_counter() - start, time.process_time() - cpu, info


def _timed(call):
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def main() -> None:
    n = int(os.environ.get("GLEAN_BENCH_HUB_N", "100000"))
    console = Console()
    with tempfile.TemporaryDirectory(prefix="glean-bench-hub-") as tmp:
        root = Path(tmp)
        os.environ["HF_HOME"] = str(root / "hf")
        os.environ["HF_HUB_OFFLINE"] = "1"
        import datasets
        import datasets.config

        datasets.config.HF_DATASETS_CACHE = root / "hf" / "datasets"  # in case datasets was imported earlier
        datasets.disable_progress_bars()
        from hub import pull

        console.print(f"building {n:,} records of ~{TEXT_BYTES} B …")
        records = make_records(n)
        text_mb = sum(len(r.record.text.encode()) for r in records) / 1e6

        _warm_up(records, root / "warm-up")
        load = os.getloadavg()[0]
        # Best of RELEASE_RUNS fresh releases: the machine is shared, the best run is the least disturbed one.
        runs = [_release(records, root / f"run{i}") for i in range(RELEASE_RUNS)]
        release_s, release_cpu, info = min(runs, key=lambda r: r[0])
        unscrubbed_s = min(_release(records, root / f"plain{i}", scrub=False)[0] for i in range(RELEASE_RUNS))
        columns_s, shards_s, parquet_bytes = _stages(records, root / "stages")
        largest = max(info.rows_by_domain, key=info.rows_by_domain.get)
        folder = root / "run0" / "hub"
        cold_s, ds = _timed(lambda: pull(largest, path=folder))
        warm_s, _ = _timed(lambda: pull(largest, path=folder))
        filtered_s, subset = _timed(lambda: pull(largest, path=folder, min_quality=0.8,
                                                 since=T0 + timedelta(days=45)))

    table = Table(title=f"hub: release of {n:,} records (~{TEXT_BYTES} B text), {os.cpu_count()} cores, "
                        f"load average {load:.1f} at start")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    table.add_row(f"release to parquet: rows/s (whole publish: shards, card, state; best of {RELEASE_RUNS})",
                  f"{n / release_s:,.0f}", ">= 50,000")
    table.add_row("  the same with the personal data scrub off (hub.scrub_personal_data = false)",
                  f"{n / unscrubbed_s:,.0f}", "")
    table.add_row("release to parquet: text MB/s", f"{text_mb / release_s:,.1f}", "")
    table.add_row("release to parquet: rows per CPU-second (all threads)", f"{n / release_cpu:,.0f}", "")
    table.add_row("  stage: Arrow columns, rows/s (1 thread)", f"{n / columns_s:,.0f}", "")
    table.add_row("  stage: zstd parquet shards, rows/s (1 thread)", f"{n / shards_s:,.0f}", "")
    table.add_row("parquet bytes on disk / text bytes", f"{parquet_bytes / (text_mb * 1e6):.2f}", "")
    table.add_row(f"pull {largest} ({len(ds):,} rows): cold load s", f"{cold_s:.2f}", "")
    table.add_row(f"pull {largest}: cached load s", f"{warm_s:.2f}", "")
    table.add_row(f"pull {largest} filtered ({len(subset):,} rows): s", f"{filtered_s:.2f}", "")
    console.print(table)


if __name__ == "__main__":
    main()
