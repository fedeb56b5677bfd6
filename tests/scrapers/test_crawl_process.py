"""crawl(): the public runner — a child process per crawl, Records streamed into the caller's sink in batches."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from schemas import DomainSpecError, Record
from scrapers import crawl, reasons
from tests.scrapers.recorded import html_page, make_domain, robots, source
from tests.support.site import Page


def crawl_children() -> list[int]:
    """Pids of crawl processes started by this test process."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == os.getpid() and b"scrapers.worker" in cmdline:
            found.append(int(entry.name))
    return found


def small_site(site, pages: int = 12):
    site.add("/robots.txt", robots("User-agent: *\nDisallow: /private\n"))
    links = tuple(f"/a{i}" for i in range(pages)) + ("/private", "/missing")
    site.add("/", html_page("Home", links=links))
    for i in range(pages):
        site.add(f"/a{i}", html_page(f"Article {i}", first=i))
    return make_domain(source("web", seeds=[site.url("/")]))


async def test_records_stream_into_an_async_sink_with_stats(site):
    domain = small_site(site)
    batches: list[list[Record]] = []

    async def sink(records: list[Record]) -> None:
        await asyncio.sleep(0)
        batches.append(records)

    stats = await crawl(domain, page_budget=100, sink=sink)
    records = [r for batch in batches for r in batch]
    assert len(records) == 13 == stats.records and len({r.uri for r in records}) == 13
    assert stats.pages == 13 + 6 and stats.robots_disallowed == 1  # 13 pages, 6 links that answer 404
    assert stats.errors == {reasons.http_reason(404): 6}
    assert stats.seconds > 0 and all(isinstance(r, Record) for r in records)


async def test_repeated_crawls_in_one_process_with_a_sync_sink(site):
    domain = small_site(site, pages=3)
    seen: list[str] = []
    first = await crawl(domain, page_budget=50, sink=lambda rs: seen.extend(r.content_hash for r in rs))
    second = await crawl(domain, page_budget=50, sink=lambda rs: seen.extend(r.content_hash for r in rs),
                         parse_workers=0)
    assert first.records == second.records == 4 and len(seen) == 8 and len(set(seen)) == 4


async def test_unknown_source_or_bad_params_fail_before_a_process_starts(site):
    domain = small_site(site)
    with pytest.raises(DomainSpecError, match="no source 'nope'"):
        await crawl(domain, page_budget=5, sink=lambda rs: None, sources=["nope"])
    bad = make_domain(source("reddit", subreddits=["Python"], listing="best-ever"))
    with pytest.raises(DomainSpecError, match=r"params\.listing"):
        await crawl(bad, page_budget=5, sink=lambda rs: None)


async def test_a_failing_sink_stops_the_crawl_process(site):
    domain = small_site(site)

    def sink(records: list[Record]) -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        await crawl(domain, page_budget=100, sink=sink)
    assert crawl_children() == []


async def test_cancelling_a_crawl_stops_its_process(site):
    for i in range(40):
        site.add(f"/slow{i}", Page(html_page(f"Slow {i}", first=i).body, delay=0.5))
    site.add("/", html_page("Home", links=tuple(f"/slow{i}" for i in range(40))))
    domain = make_domain(source("web", seeds=[site.url("/")], concurrency=1))
    started = asyncio.Event()
    task = asyncio.create_task(crawl(domain, page_budget=100, sink=lambda rs: started.set()))
    await asyncio.wait_for(started.wait(), timeout=30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert crawl_children() == []
