"""Incremental crawls: a source crawled before is asked only for what changed since (`since`), and every crawl
reports its *watermark*, the newest change time its listings showed, which the miner keeps as the next `since`.

The watermark is the site's own time (sitemap `lastmod`, feed dates, MediaWiki timestamps, Stack Exchange activity
dates), never the miner's clock, so a site whose clock differs from ours loses nothing. Items dated at the
watermark itself are fetched again (`>=`): two changes in the same second must not hide each other.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

# Crawler stat holding the newest change time (POSIX seconds) the spider's listings showed.
WATERMARK_STAT = "glean/watermark"


def changed_since(moment: datetime | None, since: datetime | None) -> bool:
    """Whether an item dated `moment` is to be fetched by a crawl asked for changes since `since` (a full crawl, or
    an undated item: yes)."""
    if since is None or moment is None:
        return True
    return _aware(moment) >= _aware(since)


def note_change(spider: Any, moment: datetime | None) -> None:
    """Raise the crawl's watermark to `moment` (a spider's listing saw an item changed then)."""
    if moment is not None and spider.crawler.stats is not None:
        spider.crawler.stats.max_value(WATERMARK_STAT, int(_aware(moment).timestamp()))


def watermark_of(stats: dict[str, Any]) -> datetime | None:
    value = stats.get(WATERMARK_STAT)
    return datetime.fromtimestamp(int(value), UTC) if value is not None else None


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 time as the job message and the miner's crawl state write it (None stays None)."""
    return _aware(datetime.fromisoformat(value)) if value else None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
