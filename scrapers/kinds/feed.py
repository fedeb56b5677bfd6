"""The `feed` kind: RSS and Atom feeds (feedparser), each entry followed to its article page on the allow-list.

A record is the article page at its URI, extracted by `scrapers.extract.parse_page`; the feed's title, date and
author fill only what the page itself does not say.
"""

from __future__ import annotations

import calendar
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import feedparser
from pydantic import Field

from scrapers import reasons
from scrapers.allow import AllowList, netloc_entry
from scrapers.extract import PageHints, parse_page
from scrapers.incremental import changed_since, note_change
from scrapers.kinds.base import SourceKind, SpiderSteps, response_headers
from scrapers.params import BaseParams, HostEntry, HttpUrl, Regex
from scrapers.parsing import Headers, ParseError, content_type

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response


# Media types feeds are served with in practice (many servers say text/xml or even text/plain).
FEED_TYPES = frozenset({
    "application/rss+xml", "application/atom+xml", "application/xml", "text/xml", "application/rdf+xml",
    "application/feed+json", "text/plain", "application/x-rss+xml", "application/octet-stream",
})


class FeedParams(BaseParams):
    """The `params:` of a feed source (see docs/scrapers.md)."""

    feeds: Annotated[list[HttpUrl], Field(min_length=1)]
    allow_hosts: list[HostEntry] = Field(default_factory=list)  # article hosts; default: the hosts of the feeds
    allow_patterns: list[Regex] = Field(default_factory=list)
    deny_patterns: list[Regex] = Field(default_factory=list)
    max_entries: Annotated[int, Field(ge=1, le=10_000)] = 100   # per feed

    def page_hosts(self) -> AllowList:
        hosts = self.allow_hosts or [netloc_entry(f) for f in self.feeds]
        return AllowList.build(hosts, self.allow_patterns, self.deny_patterns)

    def request_hosts(self) -> AllowList:
        return self.page_hosts().merged(AllowList.build(netloc_entry(f) for f in self.feeds))


@dataclass(frozen=True)
class FeedEntry:
    """One entry: the article URL and the feed's title, date and author for it."""

    link: str
    hints: PageHints
    changed_at: datetime | None = None  # the newest of its published/updated dates (incremental crawls)


def _entry_date(entry: feedparser.FeedParserDict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            return _utc(parsed)
    return None


def _entry_changed(entry: feedparser.FeedParserDict) -> datetime | None:
    dates = [_utc(entry[k]) for k in ("published_parsed", "updated_parsed", "created_parsed") if entry.get(k)]
    return max((d for d in dates if d is not None), default=None)


def _utc(parsed: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, ValueError, OSError):
        return None


def parse_feed(url: str, body: bytes, headers: Headers, max_entries: int) -> list[FeedEntry]:
    """Entries of an RSS/Atom document in feed order, at most `max_entries`; ParseError if it is no feed."""
    kind = content_type(headers)
    if kind and kind not in FEED_TYPES and not kind.endswith("+xml"):
        raise ParseError(reasons.BAD_CONTENT_TYPE, kind)
    if not body.strip():
        raise ParseError(reasons.EMPTY)
    parsed = feedparser.parse(body, response_headers={"content-type": kind or "application/xml",
                                                      "content-location": url})
    if not parsed.get("version") and not parsed.entries:
        detail = str(parsed.get("bozo_exception", "not RSS or Atom"))[:120]
        raise ParseError(reasons.INVALID_FEED, detail)
    entries: list[FeedEntry] = []
    for entry in parsed.entries:
        link = (entry.get("link") or "").strip()
        if not link:
            continue
        hints = PageHints(title=" ".join(str(entry.get("title", "")).split()), published_at=_entry_date(entry),
                          author=str(entry.get("author", ""))[:200])
        entries.append(FeedEntry(link=link, hints=hints, changed_at=_entry_changed(entry)))
        if len(entries) >= max_entries:
            break
    return entries


class FeedSpider(SpiderSteps):
    """The spider's callbacks: RSS/Atom feeds, each entry followed to its article page on the allow-list."""

    params: FeedParams

    async def start(self) -> AsyncIterator[Request]:
        for url in self.params.feeds:
            yield self.page_request(url, self.parse_feed, priority=10, dont_filter=True)

    def parse_feed(self, response: Response) -> Any:
        entries = self.parse_inline(parse_feed, response.url, response.body, response_headers(response),
                                    self.params.max_entries)
        for entry in entries or ():
            if not self.budget_left():
                return
            note_change(self, entry.changed_at)
            if not changed_since(entry.changed_at, self.job.since):  # an incremental crawl saw it before
                continue
            if self.pages.allows_page(entry.link):
                yield self.page_request(entry.link, self.parse_article, cb_kwargs={"hints": entry.hints})

    async def parse_article(self, response: Response, hints: PageHints) -> AsyncIterator[Any]:
        if not self.pages.allows_page(response.url):  # redirected to another path of an allowed host
            return
        for record in self.accept(await self.run_parser(parse_page, response, hints)):
            yield record


class Feed(SourceKind):
    """RSS/Atom feeds, each entry's article page on the allow-list; a record is the page at its URI."""

    name = "feed"
    params = FeedParams
    spider_steps = FeedSpider
    # Feed articles are web pages of their publishers: the per-host rule of the `web` kind (one request a second per
    # host, about ten pages in the verification share of a 60 s step).
    refetch_budget = 10
