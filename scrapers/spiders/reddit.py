"""Reddit spider: the configured listing of each subreddit, page after page, self posts as records."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from scrapy import Request
from scrapy.http import Response

from scrapers.params import RedditParams
from scrapers.sources import reddit
from scrapers.spiders.base import SourceSpider


class RedditSpider(SourceSpider):
    kind = "reddit"
    params: RedditParams

    async def start(self) -> AsyncIterator[Request]:
        for subreddit in self.params.subreddits:
            yield self.api_request(reddit.listing_url(self.params, subreddit), self.parse_listing,
                                   cb_kwargs={"subreddit": subreddit, "seen": 0})

    async def parse_listing(self, response: Response, subreddit: str, seen: int) -> AsyncIterator[Any]:
        found = await self.run_parser(reddit.parse_listing, response)
        if found is None:
            return
        parsed, after, posts = found
        for record in self.accept(parsed):
            yield record
        seen += posts
        if after and posts and seen < self.params.limit and self.budget_left():
            yield self.api_request(reddit.listing_url(self.params, subreddit, after, seen), self.parse_listing,
                                   cb_kwargs={"subreddit": subreddit, "seen": seen})
