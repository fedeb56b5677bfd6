"""crawl(): run the spiders of one domain in a child process and stream its Records into a sink.

The child (`python -m scrapers.worker`) owns Scrapy and the extraction processes; this side only starts it,
validates every Record it sends back (strictly, hash included) and hands them to the sink in batches.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import inspect
import json
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from schemas import DomainSpec, Record, ScrapeError, SourceSpec
from scrapers import reasons, settings
from scrapers.kinds import SourceKind, kind_of, kind_path
from scrapers.oauth import CREDENTIALS_MISSING, CredentialsMissing
from scrapers.params import BaseParams

logger = logging.getLogger(__name__)

Sink = Callable[[list[Record]], Awaitable[None] | None]
STDERR_TAIL = 20


@dataclass
class CrawlStats:
    """What a crawl did: pages downloaded, records produced, counted error reasons, robots.txt refusals."""

    pages: int = 0
    records: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    robots_disallowed: int = 0
    seconds: float = 0.0
    # the newest change time (ISO 8601) the source's listings showed: the next incremental crawl's `since`
    watermark: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SourceJob:
    """One source of a domain to crawl: its kind, its validated params and its share of the page budget."""

    domain: str
    source: SourceSpec
    kind: type[SourceKind]
    params: BaseParams
    budget: int
    since: datetime | None = None  # fetch only what changed since (scrapers.incremental); None: everything


def plan_jobs(domain: DomainSpec, page_budget: int, sources: list[str] | None = None,
              since: datetime | None = None) -> list[SourceJob]:
    """The sources to crawl (all, or those named) with the page budget split evenly between them; with `since`,
    each asks only for what changed since then (where its kind can tell)."""
    if page_budget < 1:
        raise ScrapeError(f"page_budget must be at least 1, got {page_budget}", hint="pass a positive page_budget")
    chosen = [domain.source(s) for s in sources] if sources else list(domain.sources)
    share, extra = divmod(page_budget, len(chosen))
    jobs = []
    for index, source in enumerate(chosen):
        budget = share + (1 if index < extra else 0)
        if budget:
            kind = kind_of(source.kind)
            jobs.append(SourceJob(domain=domain.id, source=source, kind=kind,
                                  params=kind.load_params(source, domain.id), budget=budget, since=since))
    return jobs


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


async def _deliver(sink: Sink, records: list[Record]) -> None:
    result = sink(records)
    if inspect.isawaitable(result):
        await result


def _records(items: list[Any], stats: CrawlStats) -> list[Record]:
    records = []
    for item in items:
        try:
            records.append(Record.model_validate(item))
        except ValidationError:
            stats.errors[reasons.INVALID_RECORD] = stats.errors.get(reasons.INVALID_RECORD, 0) + 1
    return records


async def _drain_stderr(stream: asyncio.StreamReader, tail: collections.deque[str]) -> None:
    async for raw in stream:
        line = raw.decode("utf-8", "replace").rstrip()
        if line:
            tail.append(line)
            # the child's warnings (a source refusing us, with what to do) reach the operator's log
            level = logging.WARNING if line.startswith(("WARNING ", "ERROR ", "CRITICAL ")) else logging.DEBUG
            logger.log(level, "crawl process: %s", line)


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), settings.CHILD_STOP_GRACE)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


def _job_message(domain: DomainSpec, jobs: list[SourceJob], page_budget: int, sources: list[str] | None,
                 user_agent: str | None, http_cache_dir: Path | None, parse_workers: int | None,
                 since: datetime | None = None) -> bytes:
    """The job the crawl process reads on stdin, with the import path of every kind it crawls (see kinds)."""
    return json.dumps({
        "domain": domain.model_dump(mode="json"), "page_budget": page_budget, "sources": sources,
        "since": since.isoformat() if since else None,
        "kinds": sorted({kind_path(job.kind) for job in jobs}),
        "user_agent": user_agent, "http_cache_dir": str(http_cache_dir) if http_cache_dir else None,
        "parse_workers": parse_workers if parse_workers is not None else settings.default_parse_workers(),
        "log_level": logging.getLevelName(logging.getLogger("scrapers").getEffectiveLevel()),
    }).encode()


async def _read_child(stdout: asyncio.StreamReader, sink: Sink, local: CrawlStats,
                      tail: collections.deque[str]) -> dict[str, Any] | None:
    """Deliver the record batches the crawl process sends; its final stats (None if it sent none)."""
    final: dict[str, Any] | None = None
    async for line in stdout:
        message = json.loads(line)
        if "records" in message:
            records = _records(message["records"], local)
            if records:
                await _deliver(sink, records)
        elif "stats" in message:
            final = message["stats"]
        elif "error" in message:
            tail.append(str(message["error"]))
    return final


async def crawl(
    domain: DomainSpec,
    *,
    page_budget: int,
    sink: Sink,
    sources: list[str] | None = None,
    user_agent: str | None = None,
    http_cache_dir: Path | None = None,
    parse_workers: int | None = None,
    since: datetime | None = None,
) -> CrawlStats:
    """Crawl `domain` (all its sources, or those named) within `page_budget` requests; Records go to `sink`.
    With `since`, only what changed since then (an incremental crawl; `CrawlStats.watermark` is the next `since`).

    `sink(records)` may be sync or async and is called in batches while the crawl runs. Raises ScrapeError if the
    crawl process fails; cancelling the call stops the process.
    """
    jobs = plan_jobs(domain, page_budget, sources)  # bad params or source names fail here, before a process starts
    ready, skipped = _ready(domain, jobs)
    if skipped:  # the page budget goes to the sources that can run, and only they go to the crawl process
        sources = [j.source.source_id for j in ready]
        jobs = plan_jobs(domain, page_budget, sources) if ready else []
    if not jobs:
        return CrawlStats(errors=dict(skipped))
    started = time.monotonic()
    job = _job_message(domain, jobs, page_budget, sources, user_agent, http_cache_dir, parse_workers, since)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "scrapers.worker", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=_child_env(), limit=settings.CHILD_LINE_LIMIT,
    )
    assert proc.stdin and proc.stdout and proc.stderr
    tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL)
    drain = asyncio.create_task(_drain_stderr(proc.stderr, tail))
    local = CrawlStats()
    try:
        proc.stdin.write(job)
        await proc.stdin.drain()
        proc.stdin.close()
        final = await _read_child(proc.stdout, sink, local, tail)
        returncode = await proc.wait()
        await drain
    finally:
        await _stop(proc)
        drain.cancel()
    if returncode != 0 or final is None:
        detail = " | ".join(list(tail)[-5:]) or "no output"
        raise ScrapeError(f"crawl of {domain.id} failed (exit code {returncode}): {detail}",
                          hint="run with log level DEBUG for the crawl log; check the source params")
    stats = _totals(final, local, started)
    for reason, count in skipped.items():
        stats.errors[reason] = stats.errors.get(reason, 0) + count
    return stats


def _ready(domain: DomainSpec, jobs: list[SourceJob]) -> tuple[list[SourceJob], collections.Counter[str]]:
    """The jobs whose sources can run here, and the skipped ones counted by reason (missing API credentials are
    logged with what to set: one source without credentials must not stop a domain's other sources)."""
    ready: list[SourceJob] = []
    skipped: collections.Counter[str] = collections.Counter()
    for job in jobs:
        try:
            job.kind.check_ready(job.params)
        except CredentialsMissing as exc:
            logger.warning("source skipped domain=%s source=%s: %s (%s)", domain.id, job.source.source_id,
                        exc.message, exc.hint)
            skipped[CREDENTIALS_MISSING] += 1
            continue
        ready.append(job)
    return ready, skipped


def _totals(final: dict[str, Any], local: CrawlStats, started: float) -> CrawlStats:
    """The child's stats plus the records this side refused (invalid), timed from the caller's start."""
    stats = CrawlStats(**final)
    for reason, count in local.errors.items():
        stats.errors[reason] = stats.errors.get(reason, 0) + count
    stats.records -= local.errors.get(reasons.INVALID_RECORD, 0)
    stats.seconds = round(time.monotonic() - started, 3)
    return stats
