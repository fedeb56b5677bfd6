"""Scrapers: one module per source kind (scrapers.kinds), pure parsers shared by the crawl and the single-URL re-fetch.

Public API:
- `crawl(domain, page_budget=, sink=, ...)` -> CrawlStats: crawl a domain in a child process, Records to `sink`.
- `fetch_one(domain, source, uri, ...)` -> FetchOutcome: re-fetch one record with the same parsers.
- `source_for(domain, record)` -> SourceSpec | None: the source of a domain that covers a record (its URI, and what
  it claims meets the kind's constraints); `claim_violation(domain, record)` names the constraint it breaks.
- `check_domain(domain)`: validate the params of every source (DomainSpecError names the field).
- `check_ready(domain)`: whether every source can be crawled here (API credentials set; ScrapeError says what to set).
- `KINDS`, `register(kind)`: the registry of source kinds (scrapers.kinds); a third-party kind is one module.

Importing this package does not import Scrapy; only the crawl process does.
"""

from scrapers.crawl import CrawlStats, crawl
from scrapers.fetch import claim_violation, fetch_one, source_for
from scrapers.fetcher import FetchOutcome
from scrapers.kinds import KINDS, SourceKind, check_domain, check_ready, load_params, register
from scrapers.settings import USER_AGENT

__all__ = ["KINDS", "USER_AGENT", "CrawlStats", "FetchOutcome", "SourceKind", "check_domain", "check_ready",
           "claim_violation",
           "crawl", "fetch_one", "load_params", "register", "source_for"]
