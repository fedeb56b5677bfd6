"""Wikipedia spider: list titles (category, recent changes or search), then one extract request per article."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from scrapy import Request
from scrapy.http import Response

from scrapers.params import WikipediaParams
from scrapers.sources import wikipedia
from scrapers.spiders.base import SourceSpider, response_headers


class WikipediaSpider(SourceSpider):
    kind = "wikipedia"
    params: WikipediaParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.titles: set[str] = set()

    async def start(self) -> AsyncIterator[Request]:
        yield self.api_request(wikipedia.listing_url(self.params), self.parse_listing, priority=10)

    def parse_listing(self, response: Response) -> Any:
        found = self.parse_inline(wikipedia.parse_listing, self.params, response.body, response_headers(response))
        if found is None:
            return
        titles, cont = found
        for title in titles:
            if len(self.titles) >= self.params.limit:
                return
            if title not in self.titles:
                self.titles.add(title)
                yield self.api_request(wikipedia.article_url(self.params, title), self.parse_article)
        if cont and self.budget_left():
            yield self.api_request(wikipedia.listing_url(self.params, cont), self.parse_listing, priority=10)

    async def parse_article(self, response: Response) -> AsyncIterator[Any]:
        for record in self.accept(await self.run_parser(wikipedia.parse_article, response)):
            yield record
