"""What every source kind shares: `SourceKind`, the one class of a kind, and `SpiderSteps`, its spider's callbacks.

A kind's module holds its params model, its pure parsers (module-level functions of (ctx, url, body, headers), so the
crawl and the re-fetch run the same code), its spider's callbacks and its `SourceKind` subclass. Importing a kind
module never imports Scrapy: the callbacks are written against `SourceSpider`'s API without inheriting from it, and
`SourceKind.spider()` mixes them into `SourceSpider` when the crawl process asks for the spider.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from schemas import Record, SourceSpec
from scrapers import reasons, settings
from scrapers.extract import parse_page
from scrapers.fetcher import Fetcher, FetchOutcome, Stop, usable
from scrapers.licence import LicenceDecision, metadata_only, page_rule
from scrapers.pacing import Throttle, default_throttle
from scrapers.params import BaseParams, validate_params
from scrapers.parsing import ParseContext

if TYPE_CHECKING:
    from scrapers.spider import SourceSpider

    SpiderSteps = SourceSpider  # type checkers see the whole spider API in a kind's callbacks
else:
    class SpiderSteps:
        """Base of a kind's spider callbacks (`start()` and the `parse_*` methods); `self` is a `SourceSpider`."""


def response_headers(response: Any) -> dict[str, str]:
    """Lower-case header names to their (last) value, as the parsers take them."""
    headers = response.headers
    return {k.decode("latin-1").lower(): (headers.get(k) or b"").decode("latin-1") for k in headers}


# Counted in the crawl when an API refuses us (401/403, or an error answer saying so; the log says what to do). The
# re-fetch spells them as the status they stand for (Denial.refetch_reason: http_401/http_403, unknown to the
# validator): its credentials or its user agent are its own trouble, never the miner's.
ACCESS_DENIED = "access_denied"            # the service refuses this request (a path it does not serve, a private item)
CREDENTIALS_REFUSED = "credentials_refused"  # missing or bad API credentials (a token, an app key)
USER_AGENT_REFUSED = "user_agent_refused"  # the service blocks our user agent (Wikimedia's User-Agent policy)


@dataclass(frozen=True)
class Denial:
    """What an API's refusal means: the reason counted in the crawl, what happened and what to do about it."""

    reason: str
    message: str
    hint: str
    refetch_reason: str = reasons.http_reason(403)

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})"


def denial_of(name: str, status: int) -> Denial | None:
    """A kind's default reading of a refusal: 401/403 denied access, anything else not a refusal."""
    if status not in (401, 403):
        return None
    return Denial(ACCESS_DENIED, f"the {name} source's API answered HTTP {status}",
                  "check the source's base_url and params; the service refuses this client",
                  reasons.http_reason(status))


class SourceKind:
    """One source kind: its params, its spider, which URIs it covers and how one record is re-fetched.

    Subclasses set `name`, `params` and `spider_steps`, and override `coverage`/`refetch` unless the record is the
    web page at its URI (the defaults). Register them in `scrapers.kinds` (built-in) or with `register()`.
    """

    name: ClassVar[str]                     # the `kind:` of a domain's sources
    params: ClassVar[type[BaseParams]]      # its `params:` model
    spider_steps: ClassVar[type]            # a SpiderSteps subclass: the spider's callbacks

    # Names of the rules a record of this kind must meet beyond its URI (`violations` judges them); each is counted
    # as `constraint:<name>` when the crawl skips an item or a re-fetch finds the live item breaking it.
    constraints: ClassVar[tuple[str, ...]] = ()
    # Re-fetches of this kind's records one validator makes per step, shared by all miners (validator/sampling.py),
    # so that verifying stays within the source's politeness rule (each kind cites it); None: the validator's default.
    refetch_budget: ClassVar[int | None] = None
    # Seconds to wait after a 429 that names no wait (no Retry-After, no rate-window reset): the kind's documented
    # backoff. None (web pages): Scrapy's retries in the crawl, unknown in the re-fetch.
    retry_after: ClassVar[float | None] = None

    @classmethod
    def violations(cls, params: BaseParams, record: Record) -> list[str]:
        """Names of this kind's `constraints` that `record` breaks under a source with these params, judged on what
        the record states: in the crawl and the re-fetch what the source says now (the parser's record), at the
        validator's ladder what the miner claims. Default: none."""
        return []

    @classmethod
    def check(cls, params: BaseParams, record: Record) -> Record:
        """`record` when it meets the constraints; else Stop with `unavailable("constraint:<name>")`."""
        broken = cls.violations(params, record)
        if broken:
            raise Stop(FetchOutcome.unavailable(reasons.constraint(broken[0])))
        return record

    @classmethod
    def claims(cls, record: Record) -> dict[str, object]:
        """The pay-relevant things the source states about the item (subreddit, tags, namespace, ...), taken from
        the record as the parsers fill it, in a form stable between the miner's crawl and a later re-fetch: the
        verifier compares the claims of the miner's record with those of its own re-fetch. Default: none."""
        return {}

    @classmethod
    def licence(cls, params: BaseParams, record: Record, declared: str | None,
                host_rule: tuple[str, str] | None) -> LicenceDecision:
        """The licence rule of this kind's records (scrapers.licence.decide calls it): `declared` is the SPDX id the
        source declared when the validator fetched the record (None: not fetched, or unrecognised), `host_rule`
        the domain's (rule, licence) covering the record's URI. Default: the record is a web page (page_rule)."""
        return page_rule(record, declared, host_rule)

    @classmethod
    def throttle(cls, status: int, headers: dict[str, str], body: bytes) -> Throttle | None:
        """What an answer of this kind's API asks of our pace (crawl and re-fetch alike); None: nothing. Default:
        429/503 with Retry-After, a 429 without it held `retry_after`, and a used-up `X-Ratelimit-Remaining` window
        (scrapers.pacing)."""
        return default_throttle(status, headers, body, cls.retry_after)

    @classmethod
    def denied(cls, status: int, headers: dict[str, str], body: bytes) -> Denial | None:
        """What an error answer of this kind's API says about our access (bad credentials, a blocked user agent, a
        path it does not serve), with what to do; None when it is no refusal. Default: none (a web page's 401/403 is
        counted as its status)."""
        return None

    @classmethod
    def check_ready(cls, params: BaseParams) -> None:
        """Raise a ScrapeError saying what to set when a source with these params cannot run here (credentials
        missing from the environment); called before a crawl and at a miner's start-up. Default: always ready."""

    @classmethod
    def load_params(cls, source: SourceSpec, domain_id: str = "?") -> BaseParams:
        """The validated params of a source of this kind; DomainSpecError names the field."""
        return validate_params(cls.params, source, domain_id)

    @classmethod
    def spider(cls) -> type[SourceSpider]:
        """The Scrapy spider of this kind (imports Scrapy: only the crawl process calls it)."""
        return _scrapy_spider(cls)

    @classmethod
    def coverage(cls, params: BaseParams) -> Callable[[str], bool]:
        """Whether a source with these params could have produced a record with a given URI, as a check built
        once (host lists parsed up front: the validator asks for every record it receives)."""
        return params.page_hosts().allows_page

    @classmethod
    async def refetch(cls, fetcher: Fetcher, ctx: ParseContext, uri: str) -> Record:
        """The record at `uri` as the source answers now; raises Stop or ParseError for every other outcome."""
        return await fetch_page(fetcher, ctx, uri)


class ApiItemKind(SourceKind):
    """A kind whose records are items of a documented API, each named by an id its URI carries (wikipedia titles,
    arXiv ids, Reddit posts, Stack Exchange questions): a source covers a URI when it names an item, and a re-fetch
    asks the API for that item."""

    retry_after: ClassVar[float | None] = settings.DEFAULT_RETRY_AFTER

    @classmethod
    def denied(cls, status: int, headers: dict[str, str], body: bytes) -> Denial | None:
        """Default for an API: any 401/403 is access denied."""
        return denial_of(cls.name, status)

    @classmethod
    def item_id(cls, params: BaseParams, uri: str) -> Any | None:
        """The id of the API item `uri` names for a source with these params; None when it names none."""
        raise NotImplementedError

    @classmethod
    async def fetch_item(cls, fetcher: Fetcher, ctx: ParseContext, uri: str, item: Any) -> Record:
        """The record of API item `item` (named by `uri`) as the API answers now; raises Stop or ParseError."""
        raise NotImplementedError

    @classmethod
    def coverage(cls, params: BaseParams) -> Callable[[str], bool]:
        return lambda uri: cls.item_id(params, uri) is not None

    @classmethod
    def licence(cls, params: BaseParams, record: Record, declared: str | None,
                host_rule: tuple[str, str] | None) -> LicenceDecision:
        """An API item is no web page: host rules do not reach it; unless the kind states its terms, metadata only."""
        return metadata_only(f"kind:{cls.name}")

    @classmethod
    async def refetch(cls, fetcher: Fetcher, ctx: ParseContext, uri: str) -> Record:
        item = cls.item_id(ctx.params, uri)
        if item is None:
            raise Stop(FetchOutcome.unavailable(reasons.OFF_ALLOW_LIST))
        return await cls.fetch_item(fetcher, ctx, uri, item)


@functools.cache
def _scrapy_spider(kind: type[SourceKind]) -> type[SourceSpider]:
    from scrapers.spider import SourceSpider  # Scrapy and Twisted: imported in the crawl process only

    steps = kind.spider_steps
    return type(steps.__name__, (steps, SourceSpider), {"__module__": steps.__module__, "kind": kind.name})


async def fetch_page(fetcher: Fetcher, ctx: ParseContext, uri: str) -> Record:
    """Re-fetch a record that is a web page (web, feed articles, HN links): robots.txt, allow-list, extraction."""
    pages = ctx.params.page_hosts()
    if not pages.allows_page(uri):
        raise Stop(FetchOutcome.unavailable(reasons.OFF_ALLOW_LIST))
    answer = usable(await fetcher.get(uri, ctx.params.request_hosts(), robots=True))
    if not pages.allows_page(answer.url):
        raise Stop(FetchOutcome.unavailable(reasons.REDIRECT_OFF_ALLOW_LIST))
    # extraction is CPU work: keep the caller's event loop free
    parsed = await asyncio.to_thread(parse_page, ctx, answer.url, answer.body, answer.headers)
    if not parsed.records:
        raise Stop(FetchOutcome.unavailable(parsed.skipped[0] if parsed.skipped else reasons.NO_CONTENT))
    return parsed.records[0]
