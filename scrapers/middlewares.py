"""Downloader middlewares: the allow-list (every request, redirects included), the page budget, robots.txt, the
pace an API asks for (PacingMiddleware) and OAuth bearer tokens (OAuthMiddleware)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from scrapy import Request as ScrapyRequest
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from scrapers import reasons, settings
from scrapers.kinds.base import response_headers
from scrapers.oauth import (
    FORM_TYPE,
    OAUTH_META,
    OAUTH_REFUSED,
    TOKEN_FORM,
    TOKENS,
    OAuthClient,
    TokenRefused,
    parse_token,
)
from scrapers.pacing import Pacer
from scrapers.robots import robots_rules

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

PAGES_STAT = "glean/pages"
BUDGET_DROPPED_STAT = "glean/budget_dropped"
BUDGET = "budget"
STOPPED = "stopped"             # a request to a host the source closed (quota used up): counted once, when it closed
FREE = "glean_free"             # meta: a request outside the page budget (an OAuth token request)
OAUTH = OAUTH_META              # meta: the OAuthClient whose bearer token the request carries
THROTTLE_TRIES = "glean_throttle_tries"
THROTTLE_STAT = "throttle:"     # counted per answer that asked us to wait: `throttle:maxlag`, `throttle:http_429`
logger = logging.getLogger(__name__)


class Dropped(IgnoreRequest):
    """A request we refused to send; `reason` is counted unless it is the budget running out."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_robots_request(request: Request) -> bool:
    return bool(request.meta.get("dont_obey_robotstxt")) and urlparse_cached(request).path == "/robots.txt"


class AllowListMiddleware:
    """Drops every request (first hop or redirect) to a host outside the spider's allow-list."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AllowListMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if self.crawler.spider.allow.allows_host(request.url):
            return
        redirected = bool(request.meta.get("redirect_urls"))
        raise Dropped(reasons.REDIRECT_OFF_ALLOW_LIST if redirected else reasons.OFF_ALLOW_LIST)


class BudgetMiddleware:
    """Sends at most the spider's page budget of requests (robots.txt is free) and counts pages received."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.sent = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BudgetMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if is_robots_request(request) or request.meta.get(FREE):
            return
        spider = self.crawler.spider
        if self.sent >= spider.budget:
            self.crawler.stats.inc_value(BUDGET_DROPPED_STAT)
            raise Dropped(BUDGET)
        self.sent += 1
        spider.requests_sent = self.sent

    def process_response(self, request: Request, response: Response) -> Response:
        if not (is_robots_request(request) or request.meta.get(FREE)):
            self.crawler.stats.inc_value(PAGES_STAT)
        return response


def _count(crawler: Crawler, reason: str) -> None:
    crawler.stats.inc_value("glean/errors/" + reason)


class PacingMiddleware:
    """Holds every request to a host while an answer of it asked us to wait (the kind's `throttle` reads it: a
    429's Retry-After, Reddit's rate-limit headers, a maxlag or throttle_violation answer, Stack Exchange's
    `backoff`); asks a refused request again after the wait (at most THROTTLE_RETRIES times); sends nothing more to a
    host the source closed (a daily quota used up). Runs after Scrapy's retry middleware sees the answer, so a
    retried request waits too."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.pacer = Pacer()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PacingMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        if is_robots_request(request):
            return
        host = urlparse_cached(request).netloc.lower()
        if self.pacer.closed(host):
            raise Dropped(STOPPED)
        await self.pacer.wait(host)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if is_robots_request(request):
            return response
        kind = self.crawler.spider.job.kind
        throttle = kind.throttle(response.status, response_headers(response), response.body)
        if throttle is None:
            return response
        host = urlparse_cached(request).netloc.lower()
        self.pacer.hold(host, throttle.seconds)
        if throttle.stop:
            if not self.pacer.closed(host):
                _count(self.crawler, throttle.reason)
                logger.warning("source closed for this crawl reason=%s host=%s", throttle.reason, host)
            self.pacer.close(host, throttle.reason)
            return response
        _count(self.crawler, THROTTLE_STAT + throttle.reason)
        tries = request.meta.get(THROTTLE_TRIES, 0)
        if throttle.refused and tries < settings.THROTTLE_RETRIES:
            again = request.replace(dont_filter=True)
            again.meta[THROTTLE_TRIES] = tries + 1
            return again
        return response


class OAuthMiddleware:
    """Puts `Authorization: bearer <token>` on requests whose meta names an OAuthClient: one token request per
    client (through this crawler, outside the page budget), cached until shortly before it expires; a 401 answer
    drops the token and asks once more. Refused credentials end the source's requests with `oauth_refused`."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.lock = asyncio.Lock()
        self.refused: TokenRefused | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OAuthMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        client = request.meta.get(OAUTH)
        if client is None:
            return
        async with self.lock:  # one token request, however many requests wait for it
            token = TOKENS.get(client.key) or await self._token(client)
        request.headers["Authorization"] = f"bearer {token}"

    async def _token(self, client: OAuthClient) -> str:
        if self.refused is not None:
            raise Dropped(OAUTH_REFUSED)
        ask = ScrapyRequest(client.token_url, method="POST", body=TOKEN_FORM, dont_filter=True,
                            headers={"Authorization": client.credentials.basic(), "Content-Type": FORM_TYPE},
                            meta={"dont_obey_robotstxt": True, FREE: True, "dont_retry": True})
        response = await self.crawler.engine.download_async(ask)
        try:
            token, lifetime = parse_token(response.status, response.body)
        except TokenRefused as exc:
            self.refused = exc
            logger.error("OAuth token refused: %s", exc)
            raise Dropped(OAUTH_REFUSED) from None
        TOKENS.put(client.key, token, lifetime)
        return token

    def process_response(self, request: Request, response: Response) -> Request | Response:
        client = request.meta.get(OAUTH)
        if client is None or response.status != 401 or request.meta.get("glean_oauth_retried"):
            return response
        TOKENS.drop(client.key)  # expired or revoked early: one new token, one more try
        again = request.replace(dont_filter=True)
        again.meta["glean_oauth_retried"] = True
        return again


class RobotsMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware with two fixes.

    - Requests that arrive while robots.txt is still downloading wait for the parser (Scrapy 2.19 lets them
      through unchecked: every waiter after the first receives None from the shared Deferred).
    - RFC 9309 (`scrapers.robots.robots_rules`): a robots.txt answered with 5xx or 429 means "disallow
      everything"; any other 4xx means "no rules" (Scrapy would parse the error page as rules).
    """

    async def robot_parser(self, request: Request) -> RobotParser | None:
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if isinstance(pending, Deferred):
            waiter: Deferred[RobotParser | None] = Deferred()

            def relay(result: RobotParser | None) -> RobotParser | None:
                waiter.callback(result)
                return result

            pending.addBoth(relay)
            return await maybe_deferred_to_future(waiter)
        return await super().robot_parser(request)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        rules = robots_rules(response.status, response.body)
        if rules is not response.body:  # an error answer: parse the rules it stands for, not the error page
            response = response.replace(body=rules or b"")
        await super()._parse_robots(response, netloc, request)
