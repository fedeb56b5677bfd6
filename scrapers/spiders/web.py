"""Web spider: seeds and sitemaps (found through robots.txt) within the allow-list, links followed to max_depth."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.http import Response
from scrapy.robotstxt import RobotParser

from scrapers import settings
from scrapers.params import WebParams
from scrapers.sources import web
from scrapers.spiders.base import SourceSpider

DEPTH = "glean_depth"
# URLs queued at most: twice the budget (some will be refused by robots.txt or fail) plus a little slack.
QUEUE_FACTOR = 2
QUEUE_SLACK = 100


def _not_a_page(url: str) -> bool:
    path = urlsplit(url).path.lower()
    dot = path.rfind(".")
    return dot > path.rfind("/") and path[dot:] in settings.SKIP_EXTENSIONS


class WebSpider(SourceSpider):
    kind = "web"
    params: WebParams

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> WebSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._robots_parsed, signal=signals.robots_parsed)
        return spider

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sitemap_urls_taken = 0
        self.sitemaps_requested: set[str] = set()
        # URLs already turned into requests: most links of a site repeat on every page, and building a
        # Request only for the dupefilter to drop it costs more than the set lookup.
        self.queued: set[str] = set()

    def _page(self, url: str, depth: int) -> Request | None:
        if url in self.queued or not self.pages.allows_page(url) or _not_a_page(url):
            return None
        if len(self.queued) >= QUEUE_FACTOR * self.budget + QUEUE_SLACK:
            return None  # enough URLs are waiting to use the budget; a big site would fill memory otherwise
        self.queued.add(url)
        return self.page_request(url, self.parse_page, meta={DEPTH: depth}, priority=-depth)

    async def start(self) -> AsyncIterator[Request]:
        for seed in self.params.seeds:
            self.queued.add(seed)
            yield self.page_request(seed, self.parse_page, meta={DEPTH: 0})
        for sitemap in self.params.sitemap_urls:
            request = self._sitemap_request(sitemap)
            if request is not None:
                yield request

    # robots.txt is downloaded once per host by the robots middleware; its Sitemap: lines are read from there.
    def _robots_parsed(self, robotparser: RobotParser, request: Request) -> None:
        if not self.params.sitemaps:
            return
        protego = getattr(robotparser, "rp", None)
        for url in list(getattr(protego, "sitemaps", []) or []):
            sitemap = self._sitemap_request(str(url))
            if sitemap is not None:
                self.crawler.engine.crawl(sitemap)

    def _sitemap_request(self, url: str) -> Request | None:
        if url in self.sitemaps_requested or not self.allow.allows_host(url):
            return None
        self.sitemaps_requested.add(url)
        return self.page_request(url, self.parse_sitemap, priority=10)

    def parse_sitemap(self, response: Response) -> Any:
        found = self.parse_inline(web.parse_sitemap, response.body, self.params.max_bytes)
        if found is None:
            return
        pages, children = found
        for child in children:
            request = self._sitemap_request(child)
            if request is not None:
                yield request
        for url in pages:
            if self.sitemap_urls_taken >= min(settings.MAX_SITEMAP_URLS, self.budget) or not self.budget_left():
                return
            request = self._page(url, 0)
            if request is not None:
                self.sitemap_urls_taken += 1
                yield request

    async def parse_page(self, response: Response) -> AsyncIterator[Any]:
        parsed = await self.run_parser(web.parse_page, response)
        if parsed is None:
            return
        is_allowed_page = self.pages.allows_page(response.url)
        if is_allowed_page:
            for record in self.accept(parsed):
                yield record
        depth = response.meta.get(DEPTH, 0) + 1
        if depth > self.params.max_depth:
            return
        for link in parsed.follow:
            if not self.budget_left():
                return
            request = self._page(link, depth)
            if request is not None:
                yield request
