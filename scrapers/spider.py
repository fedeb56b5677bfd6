"""The Scrapy base spider: what every kind's spider shares (its job, allow-lists, budget, request building,
parsing off the event loop, counting)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from functools import partial
from typing import Any, ClassVar, TypeVar

import scrapy
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from schemas import Record
from scrapers import reasons
from scrapers.crawl import SourceJob
from scrapers.kinds.base import response_headers
from scrapers.middlewares import BUDGET, STOPPED, Dropped
from scrapers.params import ApiParams
from scrapers.parsing import ParseContext, Parsed, ParseError
from scrapers.pipeline import RecordStream

logger = logging.getLogger(__name__)
T = TypeVar("T")
ERRORS_STAT = "glean/errors/"


class ParseRunner:
    """Runs parse functions inline or in a process pool (extraction is CPU-bound; the engine keeps fetching)."""

    def __init__(self, executor: Executor | None = None) -> None:
        self.executor = executor

    async def __call__(self, fn: Callable[..., T], *args: Any) -> T:
        if self.executor is None:
            return fn(*args)
        return await asyncio.get_running_loop().run_in_executor(self.executor, partial(fn, *args))


def failure_reason(exc: BaseException) -> str | None:
    """The counted reason of a failed request; None when it is counted elsewhere (robots) or not an error."""
    if isinstance(exc, Dropped):
        return None if exc.reason in (BUDGET, STOPPED) else exc.reason
    if isinstance(exc, HttpError):
        return reasons.http_reason(exc.response.status)
    if isinstance(exc, DownloadTimeoutError | TimeoutError):
        return reasons.TIMEOUT
    if isinstance(exc, CannotResolveHostError):
        return reasons.DNS
    if isinstance(exc, DownloadConnectionRefusedError):
        return reasons.CONNECTION
    if isinstance(exc, DownloadCancelledError):
        return reasons.TOO_LARGE
    if isinstance(exc, ResponseDataLossError):
        return reasons.DATA_LOSS
    if isinstance(exc, DownloadFailedError):
        return reasons.NETWORK
    if isinstance(exc, IgnoreRequest):
        message = str(exc)
        if "robots.txt" in message:
            return None  # counted by the robots middleware (robotstxt/forbidden)
        return reasons.TOO_LARGE if "MAXSIZE" in message.upper() else "ignored"
    return f"error_{type(exc).__name__.lower()}"


class SourceSpider(scrapy.Spider):
    """The Scrapy spider of every source kind: `SourceKind.spider()` mixes the kind's callbacks (`start()` and its
    `parse_*` methods, a SpiderSteps subclass) into this class."""

    kind: ClassVar[str]

    def __init__(self, job: SourceJob, stream: RecordStream, parse: ParseRunner, **kwargs: Any) -> None:
        super().__init__(name=f"{job.domain}.{job.source.source_id}", **kwargs)
        self.job = job
        self.params = job.params
        self.ctx = ParseContext(domain=job.domain, source_id=job.source.source_id, kind=job.source.kind,
                                params=job.params)
        self.allow = job.params.request_hosts()
        self.pages = job.params.page_hosts()
        self.budget = job.budget
        self.requests_sent = 0
        self.stream = stream
        self.parse_runner = parse

    # -- requests ---------------------------------------------------------------------------------------------
    def budget_left(self) -> bool:
        return self.requests_sent < self.budget

    def api_request(self, url: str, callback: Callable[..., Any], **kwargs: Any) -> scrapy.Request:
        """A request to the source's API (robots.txt only if the params ask for it)."""
        meta = dict(kwargs.pop("meta", {}))
        if isinstance(self.params, ApiParams) and not self.params.obey_robots:
            meta["dont_obey_robotstxt"] = True
        return scrapy.Request(url, callback=callback, errback=self.on_error, meta=meta, **kwargs)

    def page_request(self, url: str, callback: Callable[..., Any], **kwargs: Any) -> scrapy.Request:
        """A request for a web page (always subject to robots.txt)."""
        return scrapy.Request(url, callback=callback, errback=self.on_error, **kwargs)

    # -- parsing ----------------------------------------------------------------------------------------------
    async def run_parser(self, fn: Callable[..., T], response: Response, *extra: Any) -> T | None:
        """`fn(ctx, url, body, headers, *extra)` off the event loop; a ParseError is counted and gives None."""
        try:
            return await self.parse_runner(fn, self.ctx, response.url, response.body, response_headers(response),
                                           *extra)
        except ParseError as exc:
            self.count(exc.reason)
            return None

    def parse_inline(self, fn: Callable[..., T], *args: Any) -> T | None:
        """`fn(*args)` on the loop, for small API listings; a ParseError is counted and gives None."""
        try:
            return fn(*args)
        except ParseError as exc:
            self.count(exc.reason)
            return None

    def accept(self, parsed: Parsed | None) -> Iterable[Record]:
        """Records of a Parsed result; its skipped reasons are counted."""
        if parsed is None:
            return ()
        for reason in parsed.skipped:
            self.count(reason)
        return parsed.records

    def count(self, reason: str, n: int = 1) -> None:
        self.crawler.stats.inc_value(ERRORS_STAT + reason, n)

    def on_error(self, failure: Failure) -> None:
        if isinstance(failure.value, HttpError) and self._refused(failure.value.response):
            return
        reason = failure_reason(failure.value)
        if reason is not None:
            self.count(reason)
            logger.debug("request failed domain=%s source=%s reason=%s url=%s", self.job.domain,
                         self.job.source.source_id, reason, getattr(failure.request, "url", "?"))

    def _refused(self, response: Response) -> bool:
        """Count an API's refusal (bad credentials, a blocked user agent...) under its kind's reason and say once
        per crawl what to do; False when the answer is no refusal."""
        denial = self.job.kind.denied(response.status, response_headers(response), response.body)
        if denial is None:
            return False
        if not self.crawler.stats.get_value(ERRORS_STAT + denial.reason):
            logger.warning("source refused domain=%s source=%s reason=%s: %s", self.job.domain,
                           self.job.source.source_id, denial.reason, denial)
        self.count(denial.reason)
        return True
