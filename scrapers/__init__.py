"""Scrapers: Scrapy spiders for seven source kinds, pure parsers shared by the crawl and by single-URL re-fetch.

Public API:
- `crawl(domain, page_budget=, sink=, ...)` -> CrawlStats: crawl a domain in a child process, Records to `sink`.
- `fetch_one(domain, source, uri, ...)` -> FetchOutcome: re-fetch one record with the same parsers.
- `source_for(domain, record)` -> SourceSpec | None: the source of a domain that covers a record.
- `check_domain(domain)`: validate the params of every source (DomainSpecError names the field).

Importing this package does not import Scrapy; only the crawl process does.
"""

from scrapers.crawl import CrawlStats, crawl
from scrapers.fetch import FetchOutcome, fetch_one, source_for
from scrapers.params import check_domain, load_params
from scrapers.settings import USER_AGENT

__all__ = ["USER_AGENT", "CrawlStats", "FetchOutcome", "check_domain", "crawl", "fetch_one", "load_params",
           "source_for"]
