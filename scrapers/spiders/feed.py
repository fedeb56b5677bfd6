"""Feed spider: RSS/Atom feeds, each entry followed to its article page on the allow-list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from scrapy import Request
from scrapy.http import Response

from scrapers.params import FeedParams
from scrapers.sources import feed, web
from scrapers.sources.web import PageHints
from scrapers.spiders.base import SourceSpider, response_headers


class FeedSpider(SourceSpider):
    kind = "feed"
    params: FeedParams

    async def start(self) -> AsyncIterator[Request]:
        for url in self.params.feeds:
            yield self.page_request(url, self.parse_feed, priority=10, dont_filter=True)

    def parse_feed(self, response: Response) -> Any:
        entries = self.parse_inline(feed.parse_feed, response.url, response.body, response_headers(response),
                                    self.params.max_entries)
        for entry in entries or ():
            if not self.budget_left():
                return
            if self.pages.allows_page(entry.link):
                yield self.page_request(entry.link, self.parse_article, cb_kwargs={"hints": entry.hints})

    async def parse_article(self, response: Response, hints: PageHints) -> AsyncIterator[Any]:
        if not self.pages.allows_page(response.url):  # redirected to another path of an allowed host
            return
        for record in self.accept(await self.run_parser(web.parse_page, response, hints)):
            yield record
