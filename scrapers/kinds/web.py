"""The `web` kind: seeds and sitemaps (found through robots.txt) within the allow-list, links followed to max_depth.

A record is the page at its URI, extracted by `scrapers.extract.parse_page` (the crawl and fetch_one alike); this
module adds the sitemap parsers and the spider that walks a site.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

from lxml import etree
from pydantic import Field

from scrapers import reasons, settings
from scrapers.allow import AllowList, netloc_entry
from scrapers.extract import parse_page
from scrapers.incremental import changed_since, note_change
from scrapers.kinds.base import SourceKind, SpiderSteps
from scrapers.params import BaseParams, HostEntry, HttpUrl, Regex
from scrapers.parsing import ParseError

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response
    from scrapy.robotstxt import RobotParser


class WebParams(BaseParams):
    """The `params:` of a web source (see docs/scrapers.md)."""

    seeds: Annotated[list[HttpUrl], Field(min_length=1)]
    allow_hosts: list[HostEntry] = Field(default_factory=list)  # default: the hosts of the seeds
    allow_patterns: list[Regex] = Field(default_factory=list)   # a page URL must match one (if any are given)
    deny_patterns: list[Regex] = Field(default_factory=list)    # and must match none
    max_depth: Annotated[int, Field(ge=0, le=20)] = 3
    sitemaps: bool = True                                       # read the Sitemap: lines of robots.txt
    sitemap_urls: list[HttpUrl] = Field(default_factory=list)

    def page_hosts(self) -> AllowList:
        hosts = self.allow_hosts or [netloc_entry(s) for s in self.seeds]
        return AllowList.build(hosts, self.allow_patterns, self.deny_patterns)

    def request_hosts(self) -> AllowList:
        return self.page_hosts()


def sitemaps_in_robots(body: bytes) -> list[str]:
    """The `Sitemap:` URLs a robots.txt declares."""
    found: list[str] = []
    for raw in body.decode("utf-8", "replace").splitlines():
        key, sep, value = raw.partition(":")
        if sep and key.strip().lower() == "sitemap" and value.strip():
            found.append(value.strip())
    return found


def _gunzip(body: bytes, limit: int) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as stream:
            data = stream.read(limit + 1)
    except (OSError, EOFError, zlib.error):
        raise ParseError(reasons.INVALID_XML, "bad gzip") from None
    if len(data) > limit:
        raise ParseError(reasons.TOO_LARGE, "sitemap larger than the size cap once unpacked")
    return data


def parse_sitemap(body: bytes, limit: int = settings.MAX_BYTES) -> tuple[list[str], list[str]]:
    """(page URLs, child sitemap URLs) of a sitemap or sitemap index, plain or gzipped."""
    if body[:2] == b"\x1f\x8b":
        body = _gunzip(body, limit)
    if not body.strip():
        raise ParseError(reasons.EMPTY)
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise ParseError(reasons.INVALID_XML, str(exc)[:120]) from None
    if root is None:
        raise ParseError(reasons.INVALID_XML, "no root element")
    name = etree.QName(root).localname
    if name not in ("urlset", "sitemapindex"):
        raise ParseError(reasons.INVALID_XML, f"root element <{name}> is not a sitemap")
    locs = [str(el.text).strip() for el in root.iter("{*}loc") if el.text and el.text.strip()]
    return (locs, []) if name == "urlset" else ([], locs)


def sitemap_lastmods(body: bytes, limit: int = settings.MAX_BYTES) -> dict[str, datetime]:
    """The `lastmod` of every `<url>` of a urlset that states a valid one (W3C datetime), by page URL."""
    if body[:2] == b"\x1f\x8b":
        body = _gunzip(body, limit)
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError:
        return {}
    found: dict[str, datetime] = {}
    for url in root.iter("{*}url") if root is not None else ():
        loc, lastmod = url.findtext("{*}loc"), url.findtext("{*}lastmod")
        moment = _w3c_time(lastmod)
        if loc and moment is not None:
            found[loc.strip()] = moment
    return found


def _w3c_time(text: str | None) -> datetime | None:
    if not text or not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


DEPTH = "glean_depth"
# URLs queued at most: twice the budget (some will be refused by robots.txt or fail) plus a little slack.
QUEUE_FACTOR = 2
QUEUE_SLACK = 100


def _not_a_page(url: str) -> bool:
    path = urlsplit(url).path.lower()
    dot = path.rfind(".")
    return dot > path.rfind("/") and path[dot:] in settings.SKIP_EXTENSIONS


class WebSpider(SpiderSteps):
    """The spider's callbacks: seeds and sitemaps (found through robots.txt) within the allow-list, links
    followed to max_depth."""

    params: WebParams

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> WebSpider:
        from scrapy import signals  # Scrapy: only the crawl process builds spiders

        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(spider._follow_deferred, signal=signals.spider_idle)
        return spider

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sitemap_urls_taken = 0
        self.sitemaps_requested: set[str] = set()
        # URLs already turned into requests: most links of a site repeat on every page, and building a
        # Request only for the dupefilter to drop it costs more than the set lookup.
        self.queued: set[str] = set()
        # Incremental crawls (job.since): pages a sitemap dates before `since` are not fetched, and links are
        # followed only once every sitemap is read (when the crawl goes idle), so those pages are skipped there too.
        self.unchanged: set[str] = set()
        self.deferred: list[tuple[str, int]] = []

    def _page(self, url: str, depth: int) -> Request | None:
        if url in self.queued or not self.pages.allows_page(url) or _not_a_page(url):
            return None
        if len(self.queued) >= QUEUE_FACTOR * self.budget + QUEUE_SLACK:
            return None  # enough URLs are waiting to use the budget; a big site would fill memory otherwise
        self.queued.add(url)
        return self.page_request(url, self.parse_page, meta={DEPTH: depth}, priority=-depth)

    async def start(self) -> AsyncIterator[Request]:
        for seed in self.params.seeds:
            self.queued.add(seed)
            yield self.page_request(seed, self.parse_page, meta={DEPTH: 0})
        for sitemap in self.params.sitemap_urls:
            request = self._sitemap_request(sitemap)
            if request is not None:
                yield request

    # robots.txt is downloaded once per host by the robots middleware; its Sitemap: lines are read from there.
    def _robots_parsed(self, robotparser: RobotParser, request: Request) -> None:
        if not self.params.sitemaps:
            return
        protego = getattr(robotparser, "rp", None)
        for url in list(getattr(protego, "sitemaps", []) or []):
            sitemap = self._sitemap_request(str(url))
            if sitemap is not None:
                self.crawler.engine.crawl(sitemap)

    def _sitemap_request(self, url: str) -> Request | None:
        if url in self.sitemaps_requested or not self.allow.allows_host(url):
            return None
        self.sitemaps_requested.add(url)
        return self.page_request(url, self.parse_sitemap, priority=10)

    def parse_sitemap(self, response: Response) -> Any:
        found = self.parse_inline(parse_sitemap, response.body, self.params.max_bytes)
        if found is None:
            return
        pages, children = found
        for child in children:
            request = self._sitemap_request(child)
            if request is not None:
                yield request
        for url in self._changed(pages, response.body):
            if self.sitemap_urls_taken >= min(settings.MAX_SITEMAP_URLS, self.budget) or not self.budget_left():
                return
            request = self._page(url, 0)
            if request is not None:
                self.sitemap_urls_taken += 1
                yield request

    async def parse_page(self, response: Response) -> AsyncIterator[Any]:
        parsed = await self.run_parser(parse_page, response)
        if parsed is None:
            return
        is_allowed_page = self.pages.allows_page(response.url)
        if is_allowed_page:
            for record in self.accept(parsed):
                yield record
        depth = response.meta.get(DEPTH, 0) + 1
        if depth > self.params.max_depth:
            return
        for link in parsed.follow:
            if not self.budget_left():
                return
            if self.job.since is not None:
                self.deferred.append((link, depth))
                continue
            request = self._page(link, depth)
            if request is not None:
                yield request


    def _changed(self, pages: list[str], body: bytes) -> list[str]:
        """The sitemap's pages to fetch: all of them, or in an incremental crawl those changed since `since`."""
        lastmods = sitemap_lastmods(body, self.params.max_bytes)
        chosen = []
        for url in pages:
            note_change(self, lastmods.get(url))  # a full crawl too: its watermark starts the incremental ones
            if changed_since(lastmods.get(url), self.job.since):
                chosen.append(url)
            else:
                self.unchanged.add(url)
        return chosen

    def _follow_deferred(self) -> None:
        """On idle in an incremental crawl: follow the links held back, except to pages a sitemap called
        unchanged; keeps the crawl open while there are any."""
        from scrapy.exceptions import DontCloseSpider

        held, self.deferred = self.deferred, []
        requests = [r for url, depth in held if url not in self.unchanged and self.budget_left()
                    and (r := self._page(url, depth)) is not None]
        for request in requests:
            self.crawler.engine.crawl(request)
        if requests:
            raise DontCloseSpider


class Web(SourceKind):
    """Web pages from seeds and sitemaps, links followed within the allow-list; a record is the page at its URI."""

    name = "web"
    params = WebParams
    spider_steps = WebSpider
    # A web page belongs to its publisher, who deserves the one request a second per host a polite crawler keeps
    # (scrapers.settings.DEFAULT_DELAY): about ten pages in the verification share of a 60 s step, counting robots.txt
    # and redirects.
    refetch_budget = 10
