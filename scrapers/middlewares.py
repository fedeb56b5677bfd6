"""Downloader middlewares: the allow-list (every request, redirects included), the page budget, robots.txt."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from scrapers import reasons
from scrapers.robots import robots_rules

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

PAGES_STAT = "glean/pages"
BUDGET_DROPPED_STAT = "glean/budget_dropped"
BUDGET = "budget"


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
        if is_robots_request(request):
            return
        spider = self.crawler.spider
        if self.sent >= spider.budget:
            self.crawler.stats.inc_value(BUDGET_DROPPED_STAT)
            raise Dropped(BUDGET)
        self.sent += 1
        spider.requests_sent = self.sent

    def process_response(self, request: Request, response: Response) -> Response:
        if not is_robots_request(request):
            self.crawler.stats.inc_value(PAGES_STAT)
        return response


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
