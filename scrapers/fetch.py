"""fetch_one(): the validator's re-fetch of one record with the crawl's own parsers; source_for() finds its source.

The outcome is `content` (with the Record the parsers make of the page now), `gone` (404/410, deleted or missing
item) or `unavailable` (timeout, DNS, connection, 429, 5xx, too large, robots.txt, unusable answer, or
`constraint:<name>` when the live item breaks a constraint of its kind: `reasons.is_constraint` tells those apart).
How one record is re-fetched is its kind's `refetch`; what it must meet, its kind's `violations`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from schemas import DomainSpec, Record, SourceSpec, canonical_url
from schemas.errors import RecordError
from scrapers import reasons, settings
from scrapers.address import GuardedClient
from scrapers.fetcher import Fetcher, FetchOutcome, Stop
from scrapers.kinds import SourceKind, kind_of
from scrapers.params import BaseParams
from scrapers.parsing import ParseContext, ParseError

GONE_REASONS = frozenset({reasons.NOT_FOUND, reasons.DELETED})


def _from_parse_error(exc: ParseError) -> FetchOutcome:
    return FetchOutcome.gone(exc.reason) if exc.reason in GONE_REASONS else FetchOutcome.unavailable(exc.reason)


async def fetch_one(
    domain: DomainSpec,
    source: SourceSpec,
    uri: str,
    *,
    timeout: float = 15.0,
    max_bytes: int = settings.MAX_BYTES,
    client: httpx.AsyncClient | None = None,
    user_agent: str | None = None,
    allow_private: bool = False,
) -> FetchOutcome:
    """Re-fetch one record's URI with the crawl's parsers; never raises for network or content problems.

    Every connection goes to a checked public address unless `allow_private` (local mode: the LocalChain, tests on
    loopback). A given `client` must then be a `scrapers.address.GuardedClient` refusing private addresses."""
    _check_client(client, allow_private)
    try:
        uri = canonical_url(uri)
    except RecordError:
        return FetchOutcome.unavailable(reasons.INVALID_RECORD)
    kind = kind_of(source.kind)
    ctx = ParseContext(domain=domain.id, source_id=source.source_id, kind=source.kind,
                       params=kind.load_params(source, domain.id))
    async with contextlib.AsyncExitStack() as stack:
        if client is None:
            client = await stack.enter_async_context(GuardedClient(allow_private=allow_private, timeout=timeout))
        fetcher = Fetcher(client, user_agent or settings.USER_AGENT, max_bytes)
        return await _outcome(kind, fetcher, ctx, uri, timeout)


def _check_client(client: httpx.AsyncClient | None, allow_private: bool) -> None:
    if client is None or allow_private:
        return
    if not isinstance(client, GuardedClient) or client.allow_private:
        raise ValueError("fetch_one outside local mode needs a scrapers.address.GuardedClient(allow_private=False) "
                         "(or no client), so that every connection goes to a checked public address")


async def _outcome(kind: type[SourceKind], fetcher: Fetcher, ctx: ParseContext, uri: str,
                   timeout: float) -> FetchOutcome:
    try:
        async with asyncio.timeout(timeout):
            record = await kind.refetch(fetcher, ctx, uri)
        # the live item must still be one the source covers (its subreddit, namespace, points...)
        return FetchOutcome.content(kind.check(ctx.params, record))
    except Stop as stop:
        return stop.outcome
    except ParseError as exc:
        return _from_parse_error(exc)
    except TimeoutError:
        return FetchOutcome.unavailable(reasons.TIMEOUT)


@dataclass(frozen=True)
class _Covers:
    """One source's checks, built once: its kind, its validated params and its URI coverage."""

    source: SourceSpec
    kind: type[SourceKind]
    params: BaseParams
    uri: Callable[[str], bool]

    def record(self, record: Record) -> bool:
        """The URI is one this source reads and what the record claims meets the kind's constraints."""
        return self.uri(record.uri) and not self.kind.violations(self.params, record)


_COVERAGE: dict[int, _Covers] = {}  # id(source) -> its checks
_COVERAGE_MAX = 1_024


def _covers(source: SourceSpec, domain_id: str) -> _Covers:
    """The checks of one source, its params validated once per source object."""
    found = _COVERAGE.get(id(source))
    if found is None or found.source is not source:
        if len(_COVERAGE) >= _COVERAGE_MAX:
            _COVERAGE.clear()
        kind = kind_of(source.kind)
        params = kind.load_params(source, domain_id)
        found = _COVERAGE[id(source)] = _Covers(source, kind, params, kind.coverage(params))
    return found


def claim_violation(domain: DomainSpec, record: Record) -> str | None:
    """The first constraint a record's claims break under a source of `domain` that covers its URI (why
    `source_for` found none, for the miner to read), or None when no source covers the URI at all."""
    for source in domain.sources:
        if source.kind != record.source:
            continue
        covers = _covers(source, domain.id)
        if covers.uri(record.uri):
            broken = covers.kind.violations(covers.params, record)
            if broken:
                return broken[0]
    return None


def source_for(domain: DomainSpec, record: Record) -> SourceSpec | None:
    """The source of `domain` that covers `record` (its kind, its meta.source_id if given, its URI) and whose
    constraints what the record claims meets (a subreddit it lists, article namespace, ...), or None."""
    wanted = record.meta.get("source_id")
    for source in domain.sources:
        if source.kind != record.source or (wanted and wanted != source.source_id):
            continue
        if _covers(source, domain.id).record(record):
            return source
    return None
