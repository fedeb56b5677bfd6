"""Runs the spiders of one domain in this process: Scrapy's reactorless AsyncCrawlerRunner inside asyncio.

This is what the crawl process (`python -m scrapers.worker`) executes; tests call it directly. Every call builds
fresh crawlers, so repeated crawls in one process work (no Twisted reactor is ever installed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from concurrent.futures import Executor
from datetime import datetime
from pathlib import Path

from scrapy.crawler import AsyncCrawlerRunner, Crawler

from schemas import DomainSpec, ScrapeError
from scrapers import settings
from scrapers.crawl import CrawlStats, SourceJob, plan_jobs
from scrapers.incremental import watermark_of
from scrapers.middlewares import PAGES_STAT
from scrapers.pipeline import Emit, RecordStream
from scrapers.spider import ERRORS_STAT, ParseRunner

logger = logging.getLogger(__name__)


def _crawler(job: SourceJob, user_agent: str, http_cache_dir: Path | None) -> Crawler:
    params = job.params
    config = settings.scrapy_settings(
        user_agent=user_agent, delay=params.delay, concurrency=params.concurrency,
        autothrottle=params.autothrottle, timeout=params.timeout, retries=params.retries,
        max_bytes=params.max_bytes, http_cache_dir=http_cache_dir / job.source.source_id if http_cache_dir else None,
    )
    return Crawler(job.kind.spider(), config)


async def _flush_periodically(stream: RecordStream) -> None:
    while True:
        await asyncio.sleep(settings.BATCH_SECONDS / 2)
        stream.flush_if_due()


def _collect(crawlers: list[Crawler], stream: RecordStream, started: float) -> CrawlStats:
    errors: dict[str, int] = {}
    pages = robots = 0
    marks = []
    for crawler in crawlers:
        stats = crawler.stats.get_stats() if crawler.stats else {}
        marks.append(watermark_of(stats))
        pages += int(stats.get(PAGES_STAT, 0))
        robots += int(stats.get("robotstxt/forbidden", 0))
        for key, value in stats.items():
            if key.startswith(ERRORS_STAT):
                name = key[len(ERRORS_STAT):]
                errors[name] = errors.get(name, 0) + int(value)
            elif key.startswith("spider_exceptions/"):
                errors["spider_error"] = errors.get("spider_error", 0) + int(value)
    newest = max((m for m in marks if m is not None), default=None)
    return CrawlStats(pages=pages, records=stream.emitted, errors=dict(sorted(errors.items())),
                      robots_disallowed=robots, seconds=round(time.monotonic() - started, 3),
                      watermark=newest.isoformat() if newest else None)


async def run_crawl(
    domain: DomainSpec,
    *,
    page_budget: int,
    emit: Emit,
    sources: list[str] | None = None,
    user_agent: str | None = None,
    http_cache_dir: Path | None = None,
    executor: Executor | None = None,
    since: datetime | None = None,
) -> CrawlStats:
    """Crawl the sources of `domain` concurrently; `emit(batch)` receives de-duplicated Records as they come.
    With `since`, each source fetches only what changed since then (scrapers.incremental)."""
    started = time.monotonic()
    jobs = plan_jobs(domain, page_budget, sources, since)
    stream = RecordStream(emit)
    parse = ParseRunner(executor)
    runner = AsyncCrawlerRunner({"TWISTED_REACTOR_ENABLED": False})
    crawlers = [_crawler(job, user_agent or settings.USER_AGENT, http_cache_dir) for job in jobs]
    flusher = asyncio.create_task(_flush_periodically(stream))
    try:
        pairs = zip(crawlers, jobs, strict=True)
        tasks = [runner.crawl(crawler, job=job, stream=stream, parse=parse) for crawler, job in pairs]
        results = await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flusher
    stream.flush()
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:
        hint = "see the crawl log; check the source params and that the hosts are reachable"
        raise ScrapeError(f"crawl of {domain.id} failed: {failed[0]!r}", hint=hint) from failed[0]
    stats = _collect(crawlers, stream, started)
    logger.info("crawl done domain=%s pages=%d records=%d errors=%s robots_disallowed=%d seconds=%.1f",
                domain.id, stats.pages, stats.records, stats.errors, stats.robots_disallowed, stats.seconds)
    return stats
