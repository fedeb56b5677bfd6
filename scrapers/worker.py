"""The crawl process: `python -m scrapers.worker` reads a job (JSON) on stdin and streams JSON lines on stdout.

The job names the import path of every source kind it crawls (`scrapers.kinds.kind_path`), so kinds registered
in the parent, third-party ones included, are the kinds used here.
Lines: {"records": [...]} per batch, then {"stats": {...}}; {"error": "..."} and exit code 1 on failure.
Extraction runs in a pool of worker processes forked at start-up (before any thread exists).
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import os
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import IO, Any

from schemas import DomainSpec, Record
from scrapers.incremental import parse_time

PARENT_POLL_SECONDS = 1.0


def _exit_with_parent(parent: int) -> None:
    """Extraction workers end when the crawl process is gone (even if it was killed)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def _pool(workers: int) -> ProcessPoolExecutor | None:
    if workers < 1:
        return None
    import scrapers.extract  # noqa: F401  (import trafilatura once, before forking)

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_exit_with_parent, initargs=(os.getpid(),))
    pool.submit(int).result()  # fork every worker now, while this process has a single thread
    return pool


def _writer(out: IO[bytes]):
    def emit(records: list[Record]) -> None:
        line = json.dumps({"records": [r.model_dump(mode="json") for r in records]}, ensure_ascii=False)
        try:
            out.write(line.encode() + b"\n")
            out.flush()
        except BrokenPipeError:
            os._exit(3)  # the caller is gone (killed): nobody will take these records, stop crawling

    return emit


def _configure_logging(level: str) -> None:
    logging.basicConfig(stream=sys.stderr, level=level, format="%(levelname)s %(name)s: %(message)s")
    # Scrapy's reactorless download handler warns that it is experimental on every crawler start.
    logging.getLogger("scrapy.core.downloader.handlers._base_streaming").setLevel(logging.ERROR)
    if logging.getLevelName(level) > logging.DEBUG:
        logging.getLogger("scrapy").setLevel(max(logging.WARNING, logging.getLevelName(level)))


def _register_kinds(paths: list[str]) -> None:
    """Register the kinds the parent crawls (by import path), third-party ones included."""
    from scrapers.kinds import import_kind, register

    for path in paths:
        register(import_kind(path))


def main() -> int:
    job: dict[str, Any] = json.loads(sys.stdin.buffer.read())
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # the protocol owns the original stdout; stray prints go to stderr
    _configure_logging(job.get("log_level") or "WARNING")
    pool = None
    try:
        _register_kinds(job.get("kinds") or [])  # before the parse workers fork, so they know every kind too
        pool = _pool(int(job.get("parse_workers") or 0))  # and before Scrapy is imported: fork a quiet process
        from scrapers.runner import run_crawl

        stats = asyncio.run(run_crawl(
            DomainSpec.model_validate(job["domain"]), page_budget=int(job["page_budget"]), emit=_writer(out),
            sources=job.get("sources"), user_agent=job.get("user_agent"),
            http_cache_dir=Path(job["http_cache_dir"]) if job.get("http_cache_dir") else None, executor=pool,
            since=parse_time(job.get("since")),
        ))
    except Exception as exc:  # reported to the parent, which raises ScrapeError with it
        logging.getLogger(__name__).exception("crawl failed")
        out.write(json.dumps({"error": str(exc)}).encode() + b"\n")
        out.flush()
        return 1
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    out.write(json.dumps({"stats": stats.to_json()}).encode() + b"\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
