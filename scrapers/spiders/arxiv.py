"""arXiv spider: the category/query search, newest first, page after page up to max_results."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from scrapy import Request
from scrapy.http import Response

from scrapers.params import ArxivParams
from scrapers.sources import arxiv
from scrapers.spiders.base import SourceSpider


class ArxivSpider(SourceSpider):
    kind = "arxiv"
    params: ArxivParams

    async def start(self) -> AsyncIterator[Request]:
        yield self.api_request(arxiv.query_url(self.params, 0), self.parse_results, cb_kwargs={"start": 0})

    async def parse_results(self, response: Response, start: int) -> AsyncIterator[Any]:
        page = await self.run_parser(arxiv.parse_feed, response)
        if page is None:
            return
        for reason in page.skipped:
            self.count(reason)
        for record in page.records:
            yield record
        following = start + self.params.page_size
        if page.records and following < min(page.total, self.params.max_results) and self.budget_left():
            yield self.api_request(arxiv.query_url(self.params, following), self.parse_results,
                                   cb_kwargs={"start": following})
