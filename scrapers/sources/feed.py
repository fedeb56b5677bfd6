"""RSS and Atom feeds (feedparser): the entries, each a link to an article page and what the feed says of it."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime

import feedparser

from scrapers import reasons
from scrapers.sources.base import Headers, ParseError, content_type
from scrapers.sources.web import PageHints

# Media types feeds are served with in practice (many servers say text/xml or even text/plain).
FEED_TYPES = frozenset({
    "application/rss+xml", "application/atom+xml", "application/xml", "text/xml", "application/rdf+xml",
    "application/feed+json", "text/plain", "application/x-rss+xml", "application/octet-stream",
})


@dataclass(frozen=True)
class FeedEntry:
    """One entry: the article URL and the feed's title, date and author for it."""

    link: str
    hints: PageHints


def _entry_date(entry: feedparser.FeedParserDict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
            except (OverflowError, ValueError, OSError):
                return None
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
        entries.append(FeedEntry(link=link, hints=hints))
        if len(entries) >= max_entries:
            break
    return entries
