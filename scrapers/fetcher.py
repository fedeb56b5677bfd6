"""HTTP for one re-fetch (fetch_one): the allow-list on every hop, robots.txt for web pages, a size cap on the wire
and on the decoded body (scrapers.decode), redirects followed by hand. The address check of every connection is the
client's (scrapers.address.GuardedClient). `Stop` ends a re-fetch early with its FetchOutcome; the source kinds'
`refetch` raise it.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego

from schemas import Record
from scrapers import reasons, settings
from scrapers.address import blocked_in
from scrapers.allow import AllowList
from scrapers.decode import ACCEPT_ENCODING, BodyError, read_bounded
from scrapers.pacing import REFETCH_PACER, THROTTLED, Pacer, Throttle, default_throttle
from scrapers.params import ApiParams
from scrapers.robots import ROBOTS, ROBOTS_MAX_BYTES, UNAVAILABLE, robots_rules, robots_unavailable

REDIRECTS = frozenset({301, 302, 303, 307, 308})
ThrottleFn = Callable[[int, dict[str, str], bytes], Throttle | None]
DeniedFn = Callable[[int, dict[str, str], bytes], Any]  # a kind's `denied`: a Denial (its refetch_reason) or None
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FetchOutcome:
    """Result of a re-fetch: status, the Record when status is "content", and the reason. "gone": no evidence can be
    had at this URI (404/410, a deleted item, or a host resolving to a non-public address); "unavailable": the
    validator's own trouble (network, 5xx/429, size, encoding, robots.txt...)."""

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


class Stop(Exception):
    """Ends a re-fetch early with an outcome."""

    def __init__(self, outcome: FetchOutcome) -> None:
        super().__init__(outcome.reason)
        self.outcome = outcome


@dataclass(frozen=True)
class Answer:
    """One HTTP answer of a re-fetch (after redirects): final URL, status, lower-case headers, body."""

    url: str
    status: int
    headers: dict[str, str]
    body: bytes


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


class Fetcher:
    """HTTP for one re-fetch: allow-list on every hop, robots.txt for web pages, size cap, redirects by hand."""

    def __init__(self, client: httpx.AsyncClient, user_agent: str, max_bytes: int,
                 pacer: Pacer = REFETCH_PACER) -> None:
        self.client, self.user_agent, self.max_bytes, self.pacer = client, user_agent, max_bytes, pacer

    async def get(self, url: str, allow: AllowList, *, robots: bool,
                  headers: Mapping[str, str] | None = None) -> Answer:
        """The answer for `url` after redirects; Stop when a hop leaves `allow` or robots.txt forbids it."""
        for hop in range(settings.MAX_REDIRECTS + 1):
            if not allow.allows_host(url):
                reason = reasons.REDIRECT_OFF_ALLOW_LIST if hop else reasons.OFF_ALLOW_LIST
                raise Stop(FetchOutcome.unavailable(reason))
            if robots and not await self._robots_allow(url, allow):
                raise Stop(FetchOutcome.unavailable(reasons.ROBOTS_DISALLOWED))
            answer = await self._one(url, self.max_bytes, headers)
            location = answer.headers.get("location")
            if answer.status in REDIRECTS and location:
                url = urljoin(url, location.strip())
                continue
            return answer
        raise Stop(FetchOutcome.unavailable(reasons.TOO_MANY_REDIRECTS))

    async def api(self, params: ApiParams, url: str, *, headers: Mapping[str, str] | None = None,
                  throttle: ThrottleFn = default_throttle, denied: DeniedFn | None = None) -> Answer:
        """A 2xx answer of the source's API (robots.txt only if the params ask for it), else Stop. Waits for the
        host's hold; what `throttle` reads in an answer holds the host, and a refused request is asked again after
        the wait (at most REFETCH_THROTTLE_RETRIES times): a source that keeps refusing is the validator's trouble.
        An error answer `denied` reads as a refusal of our access is logged with what to do."""
        host = netloc_of(url)
        for _attempt in range(settings.REFETCH_THROTTLE_RETRIES + 1):
            await self._paced(host)
            answer = await self.get(url, params.request_hosts(), robots=params.obey_robots, headers=headers)
            found = throttle(answer.status, answer.headers, answer.body)
            if found is None:
                return usable(_refusal(answer, denied))
            # a source closed for the day is asked again after the longest hold, not never (the validator runs on)
            self.pacer.hold(host, settings.MAX_THROTTLE_WAIT if found.stop else found.seconds)
            if not found.refused:
                return usable(answer)
        raise Stop(FetchOutcome.unavailable(THROTTLED))

    async def _paced(self, host: str) -> None:
        """Wait for the host's hold when it ends soon; Stop (nothing sent) when it is closed or held longer."""
        if self.pacer.closed(host) or self.pacer.remaining(host) > settings.REFETCH_MAX_WAIT:
            raise Stop(FetchOutcome.unavailable(THROTTLED))
        await self.pacer.wait(host)

    async def post(self, url: str, allow: AllowList, body: bytes, headers: Mapping[str, str]) -> Answer:
        """One POST (a token request): allowed host only, no redirects, the body size cap."""
        if not allow.allows_host(url):
            raise Stop(FetchOutcome.unavailable(reasons.OFF_ALLOW_LIST))
        return await self._one(url, self.max_bytes, headers, method="POST", content=body)

    async def _one(self, url: str, limit: int, extra: Mapping[str, str] | None = None, *, method: str = "GET",
                   content: bytes | None = None) -> Answer:
        headers = {"User-Agent": self.user_agent, "Accept-Encoding": ACCEPT_ENCODING, **(extra or {})}
        try:
            async with self.client.stream(method, url, headers=headers, content=content,
                                          follow_redirects=False) as response:
                found = {k.lower(): v for k, v in response.headers.items()}
                body = await read_bounded(response, limit)
                return Answer(url=url, status=response.status_code, headers=found, body=body)
        except BodyError as exc:
            raise Stop(FetchOutcome.unavailable(exc.reason)) from None
        except httpx.HTTPError as exc:
            if blocked_in(exc) is not None:
                # The miner named a host that resolves to a non-public address: no evidence can come from it.
                raise Stop(FetchOutcome.gone(reasons.PRIVATE_ADDRESS)) from None
            raise Stop(FetchOutcome.unavailable(_network_reason(exc))) from None

    async def _robots_allow(self, url: str, allow: AllowList) -> bool:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        known, parser = ROBOTS.get(key)
        if not known:
            parser = await self._load_robots(key + "/robots.txt", allow)
            ROBOTS.put(key, parser)
        if parser is UNAVAILABLE:
            raise Stop(FetchOutcome.unavailable(reasons.ROBOTS_UNAVAILABLE))
        return parser is None or parser.can_fetch(url, self.user_agent)

    async def _load_robots(self, url: str, allow: AllowList) -> Protego | None:
        try:
            answer = await self.get(url, allow, robots=False)
        except Stop:
            return None  # unreachable robots.txt: no rules (as Scrapy's middleware does)
        if robots_unavailable(answer.status):
            return UNAVAILABLE
        rules = robots_rules(answer.status, answer.body)
        if rules is None:
            return None
        return Protego.parse(rules[:ROBOTS_MAX_BYTES].decode("utf-8-sig", "ignore"))


def _refusal(answer: Answer, denied: DeniedFn | None) -> Answer:
    """The answer, unless `denied` reads it as a refusal of our access: then logged and Stop(its refetch_reason)."""
    if denied is None or 200 <= answer.status < 300:
        return answer
    denial = denied(answer.status, answer.headers, answer.body)
    if denial is None:
        return answer
    logger.warning("re-fetch refused url=%s reason=%s: %s", answer.url, denial.reason, denial)
    raise Stop(FetchOutcome.unavailable(denial.refetch_reason))


def netloc_of(url: str) -> str:
    """host:port of a URL, the key of a host's pace."""
    return urlsplit(url).netloc.lower()


def usable(answer: Answer) -> Answer:
    """The answer if its status is 2xx; otherwise stop with gone (404/410) or unavailable."""
    if 200 <= answer.status < 300:
        return answer
    reason = reasons.http_reason(answer.status)
    if answer.status in reasons.GONE_STATUSES:
        raise Stop(FetchOutcome.gone(reason))
    raise Stop(FetchOutcome.unavailable(reason))


def record_at(records: Sequence[Record], uri: str) -> Record:
    """The record of `uri` among an answer's records; Stop(gone) when the answer no longer has it."""
    for record in records:
        if record.uri == uri:
            return record
    raise Stop(FetchOutcome.gone(reasons.NOT_FOUND))
