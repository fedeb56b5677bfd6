"""Records leave the crawl here: those that break a constraint of their kind are counted and dropped, the rest
de-duplicated by (uri, hash) across the sources of a crawl and sent in batches."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from schemas import Record
from scrapers import reasons, settings

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

Emit = Callable[[list[Record]], None]


class RecordStream:
    """Collects records and calls `emit` with a batch when it is full (count or bytes) or old enough."""

    def __init__(self, emit: Emit, *, max_records: int = settings.BATCH_RECORDS,
                 max_bytes: int = settings.BATCH_BYTES, max_seconds: float = settings.BATCH_SECONDS) -> None:
        self._emit = emit
        self._max_records, self._max_bytes, self._max_seconds = max_records, max_bytes, max_seconds
        self._batch: list[Record] = []
        self._bytes = 0
        self._started = 0.0
        self._seen: set[tuple[str, str]] = set()
        self.emitted = 0
        self.duplicates = 0

    def add(self, record: Record) -> None:
        key = (record.uri, record.content_hash)
        if key in self._seen:
            self.duplicates += 1
            return
        self._seen.add(key)
        if not self._batch:
            self._started = time.monotonic()
        self._batch.append(record)
        self._bytes += record.text_bytes
        if len(self._batch) >= self._max_records or self._bytes >= self._max_bytes:
            self.flush()

    def flush_if_due(self) -> None:
        if self._batch and time.monotonic() - self._started >= self._max_seconds:
            self.flush()

    def flush(self) -> None:
        if not self._batch:
            return
        batch, self._batch, self._bytes = self._batch, [], 0
        self.emitted += len(batch)
        self._emit(batch)


class RecordPipeline:
    """Scrapy item pipeline: every Record a spider yields goes to the crawl's shared RecordStream."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RecordPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Record):
            return item
        spider = self.crawler.spider
        broken = spider.job.kind.violations(spider.params, item)
        if broken:  # an item the source does not cover (wrong subreddit, namespace, too few points...): skip it
            spider.count(reasons.constraint(broken[0]))
            raise _drop(f"{item.uri} breaks {reasons.constraint(broken[0])}")
        spider.stream.add(item)
        return item


def _drop(message: str) -> Exception:
    from scrapy.exceptions import DropItem  # Scrapy: this module is imported outside the crawl process too

    return DropItem(message, log_level="DEBUG")  # counted in the crawl's errors; one log line each would flood
