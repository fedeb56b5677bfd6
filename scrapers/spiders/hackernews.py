"""Hacker News spider: a story list, each item, text posts as records, linked articles on the allow-list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from scrapy import Request
from scrapy.http import Response

from scrapers.params import HackerNewsParams
from scrapers.sources import hackernews, web
from scrapers.sources.web import PageHints
from scrapers.spiders.base import SourceSpider, response_headers


class HackerNewsSpider(SourceSpider):
    kind = "hackernews"
    params: HackerNewsParams

    async def start(self) -> AsyncIterator[Request]:
        yield self.api_request(hackernews.list_url(self.params), self.parse_list, priority=10)

    def parse_list(self, response: Response) -> Any:
        ids = self.parse_inline(hackernews.parse_id_list, response.body, response_headers(response))
        for rank, item_id in enumerate((ids or [])[: self.params.limit]):
            yield self.api_request(hackernews.item_url(self.params, item_id), self.parse_item, priority=-rank)

    async def parse_item(self, response: Response) -> AsyncIterator[Any]:
        story = await self.run_parser(hackernews.parse_item, response)
        if story is None:
            return
        if story.skipped:
            self.count(story.skipped)
        if story.score < self.params.min_score:
            return
        if story.record is not None:
            yield story.record
        if story.link and self.params.follow_links and self.pages.allows_page(story.link):
            yield self.page_request(story.link, self.parse_article, cb_kwargs={"hints": story.hints}, priority=-1)

    async def parse_article(self, response: Response, hints: PageHints) -> AsyncIterator[Any]:
        if not self.pages.allows_page(response.url):
            return
        for record in self.accept(await self.run_parser(web.parse_page, response, hints)):
            yield record
