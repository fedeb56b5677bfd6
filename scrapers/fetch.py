"""fetch_one(): the validator's re-fetch of one record with the crawl's own parsers; source_for() finds its source.

The outcome is `content` (with the Record the parsers make of the page now), `gone` (404/410, deleted or missing
item) or `unavailable` (timeout, DNS, connection, 429, 5xx, too large, robots.txt, unusable answer): the caller
treats "unavailable" as unknown, never as the miner's fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego

from schemas import DomainSpec, Record, SourceSpec, canonical_url
from schemas.errors import RecordError
from scrapers import reasons, settings
from scrapers.allow import AllowList, host_port
from scrapers.params import (
    ApiParams,
    ArxivParams,
    BaseParams,
    HackerNewsParams,
    RedditParams,
    StackExchangeParams,
    WikipediaParams,
    load_params,
)
from scrapers.sources import arxiv, hackernews, reddit, stackexchange, web, wikipedia
from scrapers.sources.base import ParseContext, ParseError

REDIRECTS = frozenset({301, 302, 303, 307, 308})
ROBOTS_TTL = 3600.0           # seconds a robots.txt answer is reused by fetch_one
ROBOTS_CACHE_SIZE = 1024      # hosts
ROBOTS_MAX_BYTES = 512 * 1024  # Google reads the first 500 KiB; so do we
GONE_REASONS = frozenset({reasons.NOT_FOUND, reasons.DELETED})


@dataclass(frozen=True)
class FetchOutcome:
    """Result of a re-fetch: status, the Record when status is "content", and the reason."""

    status: Literal["content", "gone", "unavailable"]
    record: Record | None
    reason: str

    @classmethod
    def content(cls, record: Record) -> FetchOutcome:
        return cls("content", record, reasons.OK)

    @classmethod
    def gone(cls, reason: str) -> FetchOutcome:
        return cls("gone", None, reason)

    @classmethod
    def unavailable(cls, reason: str) -> FetchOutcome:
        return cls("unavailable", None, reason)


class _Stop(Exception):
    """Ends a re-fetch early with an outcome."""

    def __init__(self, outcome: FetchOutcome) -> None:
        super().__init__(outcome.reason)
        self.outcome = outcome


@dataclass(frozen=True)
class _Answer:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes


class _RobotsCache:
    """robots.txt per scheme://host:port for fetch_one, kept for ROBOTS_TTL; same rules as the crawl (RFC 9309)."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, tuple[float, Protego | None]] = OrderedDict()

    def get(self, key: str) -> tuple[bool, Protego | None]:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def clear(self) -> None:
        self._entries.clear()

    def put(self, key: str, parser: Protego | None) -> None:
        self._entries[key] = (time.monotonic() + ROBOTS_TTL, parser)
        self._entries.move_to_end(key)
        while len(self._entries) > ROBOTS_CACHE_SIZE:
            self._entries.popitem(last=False)


_ROBOTS = _RobotsCache()
_DISALLOW_ALL = "User-agent: *\nDisallow: /\n"


def forget_robots() -> None:
    """Drop every cached robots.txt (fetch_one reads them again)."""
    _ROBOTS.clear()


def _network_reason(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return reasons.TIMEOUT
    if isinstance(exc, httpx.ConnectError):
        seen: BaseException | None = exc
        while seen is not None:
            if isinstance(seen, socket.gaierror) or any(isinstance(a, socket.gaierror) for a in seen.args):
                return reasons.DNS
            seen = seen.__cause__ or seen.__context__
        return reasons.CONNECTION
    return reasons.NETWORK


class _Fetcher:
    """HTTP for one re-fetch: allow-list on every hop, robots.txt for web pages, size cap, redirects by hand."""

    def __init__(self, client: httpx.AsyncClient, user_agent: str, max_bytes: int) -> None:
        self.client, self.user_agent, self.max_bytes = client, user_agent, max_bytes

    async def get(self, url: str, allow: AllowList, *, robots: bool) -> _Answer:
        for hop in range(settings.MAX_REDIRECTS + 1):
            if not allow.allows_host(url):
                reason = reasons.REDIRECT_OFF_ALLOW_LIST if hop else reasons.OFF_ALLOW_LIST
                raise _Stop(FetchOutcome.unavailable(reason))
            if robots and not await self._robots_allow(url, allow):
                raise _Stop(FetchOutcome.unavailable(reasons.ROBOTS_DISALLOWED))
            answer = await self._one(url, self.max_bytes)
            location = answer.headers.get("location")
            if answer.status in REDIRECTS and location:
                url = urljoin(url, location.strip())
                continue
            return answer
        raise _Stop(FetchOutcome.unavailable(reasons.TOO_MANY_REDIRECTS))

    async def _one(self, url: str, limit: int) -> _Answer:
        try:
            async with self.client.stream("GET", url, headers={"User-Agent": self.user_agent},
                                          follow_redirects=False) as response:
                headers = {k.lower(): v for k, v in response.headers.items()}
                declared = headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise _Stop(FetchOutcome.unavailable(reasons.TOO_LARGE))
                body = await _read_capped(response.aiter_bytes(), limit)
                return _Answer(url=url, status=response.status_code, headers=headers, body=body)
        except httpx.HTTPError as exc:
            raise _Stop(FetchOutcome.unavailable(_network_reason(exc))) from None

    async def _robots_allow(self, url: str, allow: AllowList) -> bool:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        known, parser = _ROBOTS.get(key)
        if not known:
            parser = await self._load_robots(key + "/robots.txt", allow)
            _ROBOTS.put(key, parser)
        return parser is None or parser.can_fetch(url, self.user_agent)

    async def _load_robots(self, url: str, allow: AllowList) -> Protego | None:
        try:
            answer = await self.get(url, allow, robots=False)
        except _Stop:
            return None  # unreachable robots.txt: no rules (as Scrapy's middleware does)
        if answer.status == 429 or answer.status >= 500:
            return Protego.parse(_DISALLOW_ALL)
        if answer.status >= 400:
            return None
        return Protego.parse(answer.body[:ROBOTS_MAX_BYTES].decode("utf-8-sig", "ignore"))


async def _read_capped(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise _Stop(FetchOutcome.unavailable(reasons.TOO_LARGE))
    return bytes(body)


def _usable(answer: _Answer) -> _Answer:
    """The answer if its status is 2xx; otherwise stop with gone (404/410) or unavailable."""
    if 200 <= answer.status < 300:
        return answer
    reason = reasons.http_reason(answer.status)
    if answer.status in reasons.GONE_STATUSES:
        raise _Stop(FetchOutcome.gone(reason))
    raise _Stop(FetchOutcome.unavailable(reason))


def _from_parse_error(exc: ParseError) -> FetchOutcome:
    return FetchOutcome.gone(exc.reason) if exc.reason in GONE_REASONS else FetchOutcome.unavailable(exc.reason)


def _pick(records: tuple[Record, ...] | list[Record], uri: str) -> Record:
    for record in records:
        if record.uri == uri:
            return record
    raise _Stop(FetchOutcome.gone(reasons.NOT_FOUND))


async def _page(fetcher: _Fetcher, ctx: ParseContext, uri: str) -> Record:
    pages = ctx.params.page_hosts()
    if not pages.allows_page(uri):
        raise _Stop(FetchOutcome.unavailable(reasons.OFF_ALLOW_LIST))
    answer = _usable(await fetcher.get(uri, ctx.params.request_hosts(), robots=True))
    if not pages.allows_page(answer.url):
        raise _Stop(FetchOutcome.unavailable(reasons.REDIRECT_OFF_ALLOW_LIST))
    # extraction is CPU work: keep the caller's event loop free
    parsed = await asyncio.to_thread(web.parse_page, ctx, answer.url, answer.body, answer.headers)
    if not parsed.records:
        raise _Stop(FetchOutcome.unavailable(parsed.skipped[0] if parsed.skipped else reasons.NO_CONTENT))
    return parsed.records[0]


async def _api(fetcher: _Fetcher, params: ApiParams, url: str) -> _Answer:
    return _usable(await fetcher.get(url, params.request_hosts(), robots=params.obey_robots))


async def _wikipedia(fetcher: _Fetcher, ctx: ParseContext, params: WikipediaParams, uri: str) -> Record:
    title = wikipedia.title_from_uri(params, uri)
    if title is None:
        raise _Stop(FetchOutcome.unavailable(reasons.OFF_ALLOW_LIST))
    answer = await _api(fetcher, params, wikipedia.article_url(params, title))
    return wikipedia.parse_article(ctx, answer.url, answer.body, answer.headers).records[0]


async def _hackernews(fetcher: _Fetcher, ctx: ParseContext, params: HackerNewsParams, uri: str) -> Record:
    item_id = hackernews.item_id_from_uri(params, uri)
    if item_id is None:
        return await _page(fetcher, ctx, uri)
    answer = await _api(fetcher, params, hackernews.item_url(params, item_id))
    story = hackernews.parse_item(ctx, answer.url, answer.body, answer.headers)
    if story.record is None:
        raise _Stop(FetchOutcome.unavailable(story.skipped or reasons.NO_CONTENT))
    return story.record


async def _reddit(fetcher: _Fetcher, ctx: ParseContext, params: RedditParams, uri: str) -> Record:
    post_id = reddit.post_id_from_uri(uri)
    if post_id is None or host_port(uri) != host_port(params.base_url):
        raise _Stop(FetchOutcome.unavailable(reasons.OFF_ALLOW_LIST))
    answer = await _api(fetcher, params, reddit.post_url(params, post_id))
    parsed, _after, _posts = reddit.parse_listing(ctx, answer.url, answer.body, answer.headers)
    if not parsed.records and reasons.DELETED in parsed.skipped:
        raise _Stop(FetchOutcome.gone(reasons.DELETED))
    return _pick(parsed.records, uri)


async def _arxiv(fetcher: _Fetcher, ctx: ParseContext, params: ArxivParams, uri: str) -> Record:
    arxiv_id = arxiv.id_from_uri(params, uri)
    if arxiv_id is None:
        raise _Stop(FetchOutcome.unavailable(reasons.OFF_ALLOW_LIST))
    answer = await _api(fetcher, params, arxiv.id_url(params, arxiv_id))
    return _pick(arxiv.parse_feed(ctx, answer.url, answer.body, answer.headers).records, uri)


async def _stackexchange(fetcher: _Fetcher, ctx: ParseContext, params: StackExchangeParams, uri: str) -> Record:
    question_id = stackexchange.question_id_from_uri(uri)
    if question_id is None:
        raise _Stop(FetchOutcome.unavailable(reasons.OFF_ALLOW_LIST))
    answer = await _api(fetcher, params, stackexchange.question_url(params, question_id))
    questions = stackexchange.parse_questions(answer.body, answer.headers).questions
    if not questions:
        raise _Stop(FetchOutcome.gone(reasons.NOT_FOUND))
    question = questions[0]
    answer = await _api(fetcher, params, stackexchange.answers_url(params, [question["accepted_answer_id"]]))
    accepted = stackexchange.parse_answers(answer.body, answer.headers).get(question["accepted_answer_id"])
    if accepted is None:
        raise _Stop(FetchOutcome.gone(reasons.NOT_FOUND))
    record = stackexchange.qa_record(ctx, question, accepted)
    if record.uri != uri:
        raise _Stop(FetchOutcome.gone(reasons.NOT_FOUND))
    return record


async def _refetch(fetcher: _Fetcher, ctx: ParseContext, uri: str) -> Record:
    params = ctx.params
    if isinstance(params, WikipediaParams):
        return await _wikipedia(fetcher, ctx, params, uri)
    if isinstance(params, HackerNewsParams):
        return await _hackernews(fetcher, ctx, params, uri)
    if isinstance(params, RedditParams):
        return await _reddit(fetcher, ctx, params, uri)
    if isinstance(params, ArxivParams):
        return await _arxiv(fetcher, ctx, params, uri)
    if isinstance(params, StackExchangeParams):
        return await _stackexchange(fetcher, ctx, params, uri)
    return await _page(fetcher, ctx, uri)  # web and feed: the record is the page itself


async def fetch_one(
    domain: DomainSpec,
    source: SourceSpec,
    uri: str,
    *,
    timeout: float = 15.0,
    max_bytes: int = settings.MAX_BYTES,
    client: httpx.AsyncClient | None = None,
    user_agent: str | None = None,
) -> FetchOutcome:
    """Re-fetch one record's URI with the crawl's parsers; never raises for network or content problems."""
    try:
        uri = canonical_url(uri)
    except RecordError:
        return FetchOutcome.unavailable(reasons.INVALID_RECORD)
    ctx = ParseContext(domain=domain.id, source_id=source.source_id, kind=source.kind,
                       params=load_params(source, domain.id))
    async with contextlib.AsyncExitStack() as stack:
        if client is None:
            client = await stack.enter_async_context(httpx.AsyncClient(timeout=timeout))
        fetcher = _Fetcher(client, user_agent or settings.USER_AGENT, max_bytes)
        return await _outcome(fetcher, ctx, uri, timeout)


async def _outcome(fetcher: _Fetcher, ctx: ParseContext, uri: str, timeout: float) -> FetchOutcome:
    try:
        async with asyncio.timeout(timeout):
            return FetchOutcome.content(await _refetch(fetcher, ctx, uri))
    except _Stop as stop:
        return stop.outcome
    except ParseError as exc:
        return _from_parse_error(exc)
    except TimeoutError:
        return FetchOutcome.unavailable(reasons.TIMEOUT)


def coverage(params: BaseParams) -> Callable[[str], bool]:
    """Whether a source with these params could have produced a record with a given URI, as a check built once
    (host lists parsed up front: the validator asks for every record it receives)."""
    if isinstance(params, WikipediaParams):
        return lambda uri: wikipedia.title_from_uri(params, uri) is not None
    if isinstance(params, HackerNewsParams):
        pages = params.page_hosts()
        return lambda uri: hackernews.item_id_from_uri(params, uri) is not None or pages.allows_page(uri)
    if isinstance(params, RedditParams):
        api = host_port(params.base_url)
        return lambda uri: reddit.post_id_from_uri(uri) is not None and host_port(uri) == api
    if isinstance(params, ArxivParams):
        return lambda uri: arxiv.id_from_uri(params, uri) is not None
    if isinstance(params, StackExchangeParams):
        return lambda uri: stackexchange.question_id_from_uri(uri) is not None
    return params.page_hosts().allows_page


_COVERAGE: dict[int, tuple[SourceSpec, Callable[[str], bool]]] = {}  # id(source) -> (source, its coverage)
_COVERAGE_MAX = 1_024


def _coverage(source: SourceSpec, domain_id: str) -> Callable[[str], bool]:
    """`coverage` of one source, its params validated once per source object."""
    found = _COVERAGE.get(id(source))
    if found is None or found[0] is not source:
        if len(_COVERAGE) >= _COVERAGE_MAX:
            _COVERAGE.clear()
        found = _COVERAGE[id(source)] = (source, coverage(load_params(source, domain_id)))
    return found[1]


def source_for(domain: DomainSpec, record: Record) -> SourceSpec | None:
    """The source of `domain` that covers `record` (its kind, its meta.source_id if given, its URI), or None."""
    wanted = record.meta.get("source_id")
    for source in domain.sources:
        if source.kind != record.source or (wanted and wanted != source.source_id):
            continue
        if _coverage(source, domain.id)(record.uri):
            return source
    return None
