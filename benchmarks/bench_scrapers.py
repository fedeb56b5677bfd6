"""Scrapers: a crawl of a loopback static site (fetch + extract + store) and extraction alone.

Targets (2-core machine): >= 150 pages/s end to end with extraction; >= 100 pages/s per core for extraction.

The site: GLEAN_BENCH_SCRAPERS_PAGES (default 2,400) article pages built from the docstrings of Python's standard
library (read with `ast`, nothing imported), each with a header, a 40-link navigation, a sidebar of related pages,
headings, a code block and a footer (~20 KB of HTML, 500-1,500 words), plus robots.txt, a sitemap and an index. It
is served by an aiohttp server in its own process. The crawl is `scrapers.crawl` as the miner runs it (a child
process with the default extraction workers), with politeness turned down for loopback (no delay, no AutoThrottle,
16 requests in flight per host); its sink stores every record in SQLite. Extraction alone runs `parse_page` on the
same pages in this process (one core).
"""

from __future__ import annotations

import asyncio
import html
import multiprocessing
import os
import random
import resource
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks.stdlib_text import stdlib_docstrings
from schemas import DomainSpec, Record, SourceSpec
from scrapers import crawl
from scrapers.extract import parse_page
from scrapers.kinds import load_params
from scrapers.parsing import ParseContext
from scrapers.settings import default_parse_workers

PAGES = int(os.environ.get("GLEAN_BENCH_SCRAPERS_PAGES", "2400"))
EXTRACT_SAMPLE = 600
NAV_LINKS = 40
RELATED_LINKS = 10
TARGET_E2E = 150.0
TARGET_EXTRACT = 100.0


def _docstrings() -> list[tuple[str, str]]:
    """(qualified name, docstring) of the stdlib's modules, classes and functions with some prose."""
    return [(name, doc) for name, doc in stdlib_docstrings() if len(doc.split()) >= 40]


def _page(i: int, docs: list[tuple[str, str]], rng: random.Random) -> str:
    picks = rng.sample(docs, rng.randint(4, 9))
    title = picks[0][0]
    body = []
    for name, doc in picks:
        body.append(f"<h2>{html.escape(name)}</h2>")
        body.extend(f"<p>{html.escape(' '.join(p.split()))}</p>" for p in doc.split("\n\n") if p.strip())
    body.insert(3, f"<pre><code>import {title.split('.')[0]}\nhelp({html.escape(title)})</code></pre>")
    items = [f'<li><a href="/p/{(i * 7 + k) % PAGES}.html">Section {k}</a></li>' for k in range(NAV_LINKS)]
    nav, short_nav = "".join(items), "".join(items[: NAV_LINKS // 4])
    related = "".join(f'<li><a href="/p/{rng.randrange(PAGES)}.html">{html.escape(rng.choice(docs)[0])}</a></li>'
                      for _ in range(RELATED_LINKS))
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} — Library '
        f'Notes</title><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="author" '
        f'content="Library Notes"><meta property="article:published_time" content="2025-0{i % 9 + 1}-1{i % 10}'
        f'T08:00:00Z"><meta property="og:title" content="{html.escape(title)}"><link rel="stylesheet" '
        f'href="/s.css">{_SCRIPTS}</head><body>{_BANNER}<header><a href="/">Library Notes</a><nav><ul>{nav}'
        f'</ul></nav><form action="/search"><input name="q" placeholder="Search"></form></header>'
        f'<div class="layout"><main><nav class="crumbs"><a href="/">Home</a> › <a href="/p/{i // 50}.html">'
        f'Section</a></nav><article><h1>{html.escape(title)}</h1>{"".join(body)}</article><div class="share">'
        f'Share: <a href="https://twitter.example/share">Twitter</a> <a href="https://mail.example/">Mail</a>'
        f'</div></main><aside><h3>Related</h3><ul>{related}</ul><div class="ad">Advertisement</div></aside>'
        f'</div><footer>{_FOOTER}<ul>{short_nav}</ul></footer></body></html>'
    )


_SCRIPTS = (
    "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}gtag('js',new Date());"
    "gtag('config','G-XXXXXXX');</script><script type='application/ld+json'>{\"@context\":\"https://schema.org\","
    "\"@type\":\"TechArticle\",\"publisher\":{\"@type\":\"Organization\",\"name\":\"Library Notes\"}}</script>"
    + "<style>" + " ".join(f".c{k}{{margin:{k}px;padding:{k % 7}px}}" for k in range(120)) + "</style>"
)
_BANNER = ("<div class='cookie-banner'><p>We use cookies to understand how the site is used. You can accept or "
           "refuse them at any time.</p><button>Accept</button><button>Refuse</button></div>")
_FOOTER = "".join(
    f"<div class='col'><h4>{group}</h4><ul>"
    + "".join(f"<li><a href='/p/{(g * 8 + k) * 37 % PAGES}.html'>{group} link {k}</a></li>" for k in range(8))
    + "</ul></div>"
    for g, group in enumerate(("Guides", "Reference", "Community", "About"))
) + "<p>© 2025 Library Notes. Content available under the PSF License.</p>"


def build_site(pages: int) -> dict[str, bytes]:
    docs = _docstrings()
    rng = random.Random(42)
    site = {f"/p/{i}.html": _page(i, docs, rng).encode() for i in range(pages)}
    site["/"] = ("<html><body><h1>Library Notes</h1><ul>" + "".join(
        f'<li><a href="/p/{i}.html">page {i}</a></li>' for i in range(0, pages, 50)) + "</ul></body></html>").encode()
    return site


def _serve(pages: dict[str, bytes], port: multiprocessing.Value, ready: multiprocessing.Event) -> None:
    from aiohttp import web

    async def handler(request: web.Request) -> web.Response:
        path = request.path
        if path == "/robots.txt":
            return web.Response(text=f"User-agent: *\nAllow: /\nSitemap: http://{request.host}/sitemap.xml\n")
        if path == "/sitemap.xml":
            urls = "".join(f"<url><loc>http://{request.host}{p}</loc></url>" for p in pages if p.startswith("/p/"))
            return web.Response(body=f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>',
                                content_type="application/xml")
        body = pages.get(path)
        if body is None:
            return web.Response(status=404, text="not found")
        return web.Response(body=body, content_type="text/html", charset="utf-8")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port.value = site._server.sockets[0].getsockname()[1]
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


def extraction_rate(pages: dict[str, bytes], count: int) -> tuple[float, float, int]:
    """Pages per wall second and per CPU second of parse_page in this process, and how many gave a record."""
    spec = SourceSpec(kind="web", params={"seeds": ["http://127.0.0.1:1/"]})
    ctx = ParseContext(domain="bench", source_id="web", kind="web", params=load_params(spec))
    sample = [(path, body) for path, body in pages.items() if path.startswith("/p/")][:count]
    headers = {"content-type": "text/html; charset=utf-8"}
    parse_page(ctx, "http://127.0.0.1:1" + sample[0][0], sample[0][1], headers)  # warm up
    started, cpu = time.perf_counter(), time.process_time()
    made = sum(len(parse_page(ctx, "http://127.0.0.1:1" + path, body, headers).records) for path, body in sample)
    return len(sample) / (time.perf_counter() - started), len(sample) / (time.process_time() - cpu), made


class SqliteSink:
    """Stores every record (the miner's store is benchmarked on its own; this keeps the cost realistic)."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE records (uri TEXT PRIMARY KEY, hash TEXT, title TEXT, text TEXT, meta TEXT)")
        self.count = 0
        self.first: float | None = None
        self.last = 0.0

    def __call__(self, records: list[Record]) -> None:
        now = time.perf_counter()
        self.first = self.first or now
        self.last = now
        with self.db:
            self.db.executemany("INSERT OR IGNORE INTO records VALUES (?, ?, ?, ?, ?)",
                                [(r.uri, r.content_hash, r.title, r.text, str(r.meta)) for r in records])
        self.count += len(records)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_split(server_pid: int) -> dict[str, float]:
    """CPU seconds so far of this process (sink, record validation), of reaped children (the crawl process and
    its extraction workers) and of the site's server."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"caller": own.ru_utime + own.ru_stime, "crawl": children.ru_utime + children.ru_stime,
            "server": _cpu_seconds(server_pid)}


def end_to_end(base: str, pages: int, workdir: Path, server_pid: int) -> dict[str, Any]:
    domain = DomainSpec.model_validate({
        "id": "bench", "title": "Benchmark site", "relevance": {"keywords": {"python": 1.0}},
        "sources": [{"kind": "web", "params": {
            "seeds": [base + "/"], "delay": 0, "autothrottle": False, "concurrency": 16, "max_depth": 3}}],
    })
    sink = SqliteSink(workdir / "records.sqlite")
    before = _cpu_split(server_pid)
    started = time.perf_counter()
    stats = asyncio.run(crawl(domain, page_budget=pages + 10, sink=sink))
    wall = time.perf_counter() - started
    split = {k: v - before[k] for k, v in _cpu_split(server_pid).items()}
    cpu = sum(split.values())
    steady = (sink.count / (sink.last - sink.first)) if sink.first and sink.last > sink.first else 0.0
    return {"pages": stats.pages, "records": sink.count, "wall": wall, "rate": stats.pages / wall,
            "steady": steady, "errors": stats.errors, "cpu": cpu,
            "capacity": stats.pages / cpu * (os.cpu_count() or 1),
            **{f"ms_{k}": 1000 * v / stats.pages for k, v in split.items()}}


def main() -> None:
    console = Console()
    cores = os.cpu_count() or 1
    started = time.perf_counter()
    pages = build_site(PAGES)
    avg_kb = sum(len(b) for p, b in pages.items() if p.startswith("/p/")) / PAGES / 1024
    console.print(f"site: {PAGES} pages, {avg_kb:.1f} KB of HTML each on average (built in "
                  f"{time.perf_counter() - started:.1f} s)")
    port, ready = multiprocessing.Value("i", 0), multiprocessing.Event()
    server = multiprocessing.get_context("fork").Process(target=_serve, args=(pages, port, ready), daemon=True)
    server.start()
    try:
        if not ready.wait(30):
            raise RuntimeError("benchmark server did not start")
        extract_rate, extract_cpu_rate, extracted = extraction_rate(pages, EXTRACT_SAMPLE)
        with tempfile.TemporaryDirectory() as tmp:
            e2e = end_to_end(f"http://127.0.0.1:{port.value}", PAGES, Path(tmp), server.pid)
    finally:
        server.terminate()
        server.join(5)
    load = os.getloadavg()[0]
    table = Table(title=f"scrapers on {cores} cores (load average {load:.1f}; {default_parse_workers()} "
                        "extraction workers)")
    for column in ("figure", "value", "target"):
        table.add_column(column)
    table.add_row("crawl: pages fetched", f"{e2e['pages']:.0f}", f">= {PAGES}")
    table.add_row("crawl: records stored", f"{e2e['records']:.0f}", "")
    table.add_row("crawl: wall seconds (incl. process start)", f"{e2e['wall']:.1f}", "")
    table.add_row("crawl: pages/s end to end (fetch + extract + store)", f"{e2e['rate']:.0f}",
                  f">= {TARGET_E2E:.0f}")
    table.add_row("crawl: records/s once streaming", f"{e2e['steady']:.0f}", "")
    table.add_row("crawl: CPU seconds, all processes (server, crawl, extraction, sink)", f"{e2e['cpu']:.1f}", "")
    table.add_row("crawl: CPU ms per page: crawl process + extraction workers", f"{e2e['ms_crawl']:.1f}", "")
    table.add_row("crawl: CPU ms per page: caller (validation, sink)", f"{e2e['ms_caller']:.1f}", "")
    table.add_row("crawl: CPU ms per page: site server", f"{e2e['ms_server']:.1f}", "")
    table.add_row(f"crawl: pages/s the {cores} cores sustain (pages / CPU seconds x cores)",
                  f"{e2e['capacity']:.0f}", f">= {TARGET_E2E:.0f}")
    table.add_row("crawl: counted reasons", ", ".join(f"{k} {v}" for k, v in e2e["errors"].items()) or "none", "")
    table.add_row("extraction: pages/s on one core (wall clock)", f"{extract_rate:.0f}", f">= {TARGET_EXTRACT:.0f}")
    table.add_row("extraction: pages per CPU second", f"{extract_cpu_rate:.0f}", f">= {TARGET_EXTRACT:.0f}")
    table.add_row("extraction: records from the sample", f"{extracted}/{EXTRACT_SAMPLE}", "")
    console.print(table)


if __name__ == "__main__":
    main()
