"""Recorded-format fixtures (tests/data/scrapers), article pages, test domains and in-process crawls."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

from yarl import URL

from schemas import DomainSpec, Record
from scrapers.crawl import CrawlStats
from scrapers.oauth import TOKENS
from scrapers.runner import run_crawl
from tests.support.site import LoopbackSite, Page

DATA = Path(__file__).resolve().parent.parent / "data" / "scrapers"
PROSE = (DATA / "prose.txt").read_text(encoding="utf-8").split("\n\n")
FAST = {"delay": 0.0}  # loopback servers need no politeness delay; everything else stays at its default
TEST_CLIENT_ID = "glean-tests"  # tests/scrapers/conftest.py puts it (and a secret) in the environment


def data(name: str, base: str = "") -> str:
    """A fixture file with `{BASE}` replaced by a loopback base URL."""
    return (DATA / name).read_text(encoding="utf-8").replace("{BASE}", base)


def json_page(name: str, base: str = "", **kwargs: Any) -> Page:
    return Page(data(name, base), content_type="application/json; charset=utf-8", **kwargs)


def article(title: str, *, first: int = 0, count: int = 3, author: str = "Ada Example",
            published: str = "2025-06-10T08:00:00Z", links: tuple[str, ...] = ()) -> str:
    """A realistic article page: header, nav, sidebar and footer around `count` paragraphs of prose."""
    paragraphs = "\n".join(f"          <p>{PROSE[(first + i) % len(PROSE)]}</p>" for i in range(count))
    related = "\n".join(f'            <li><a href="{href}">{href}</a></li>' for href in links)
    return Template((DATA / "article.html").read_text(encoding="utf-8")).substitute(
        title=title, author=author, published=published, paragraphs=paragraphs, links=related)


def html_page(title: str, **kwargs: Any) -> Page:
    return Page(article(title, **kwargs))


def robots(text: str = "User-agent: *\nAllow: /\n") -> Page:
    return Page(text, content_type="text/plain")


def make_domain(*sources: dict[str, Any], domain_id: str = "test-domain") -> DomainSpec:
    return DomainSpec.model_validate({
        "id": domain_id, "title": "Test domain", "sources": list(sources),
        "relevance": {"keywords": {"python": 1.0}},
    })


def source(kind: str, source_id: str | None = None, **params: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"kind": kind, "params": {**FAST, **params}}
    if source_id:
        spec["id"] = source_id
    return spec


@dataclass
class CrawlResult:
    stats: CrawlStats
    records: list[Record]
    batches: int

    def by_uri(self) -> dict[str, Record]:
        return {r.uri: r for r in self.records}


async def crawl_here(domain: DomainSpec, page_budget: int = 100, **kwargs: Any) -> CrawlResult:
    """The crawl process's own code (run_crawl), in this process, extraction inline."""
    batches: list[list[Record]] = []
    stats = await run_crawl(domain, page_budget=page_budget, emit=batches.append, **kwargs)
    return CrawlResult(stats, [r for batch in batches for r in batch], len(batches))


def serve(site: LoopbackSite, path: str, page: Page) -> None:
    """Answer `path` (with its query) however a client encodes it: as written, or as aiohttp/yarl sends it."""
    site.add(path, page)
    site.add(URL("http://h" + path).raw_path_qs, page)


def serve_json(site: LoopbackSite, path: str, name: str, **kwargs: Any) -> None:
    serve(site, path, json_page(name, site.base_url, **kwargs))


def loads(name: str) -> Any:
    return json.loads(data(name))


class QuickSite(LoopbackSite):
    """LoopbackSite whose server polls for shutdown every 50 ms (the default 0.5 s adds up over this suite)."""

    def __enter__(self) -> QuickSite:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self


def reddit_params(site: LoopbackSite) -> dict[str, Any]:
    """A reddit source's URLs all on `site`, with a token already cached for them (a LoopbackSite answers GET only;
    the OAuth exchange itself is tested against tests/scrapers/fake_api.FakeReddit)."""
    token_url = site.url("/api/v1/access_token")
    TOKENS.put((token_url, TEST_CLIENT_ID), "test-token", 86_400)
    return {"base_url": site.base_url, "site_url": site.base_url, "token_url": token_url}
