"""The vocabulary of counted reasons: why a request or a response gave no record (CrawlStats.errors, FetchOutcome)."""

from __future__ import annotations

OK = "ok"
TIMEOUT = "timeout"
DNS = "dns"
CONNECTION = "connection"
NETWORK = "network"
DATA_LOSS = "data_loss"
TOO_LARGE = "too_large"
BAD_ENCODING = "bad_encoding"  # a content-encoding we do not decode, or a corrupt/truncated compressed body
# The host resolves to a loopback, private, link-local, metadata... address (outside local mode): never fetched.
PRIVATE_ADDRESS = "private_address"
OFF_ALLOW_LIST = "off_allow_list"
REDIRECT_OFF_ALLOW_LIST = "redirect_off_allow_list"
TOO_MANY_REDIRECTS = "too_many_redirects"
ROBOTS_DISALLOWED = "robots_disallowed"
ROBOTS_UNAVAILABLE = "robots_unavailable"  # robots.txt answered 5xx/429: the host is off limits for now (RFC 9309)
BAD_CONTENT_TYPE = "bad_content_type"
EMPTY = "empty"
INVALID_JSON = "invalid_json"
INVALID_XML = "invalid_xml"
INVALID_FEED = "invalid_feed"
UNEXPECTED_SHAPE = "unexpected_shape"
API_ERROR = "api_error"
NO_CONTENT = "no_content"
TOO_SHORT = "too_short"
INVALID_RECORD = "invalid_record"
NOT_FOUND = "not_found"
DELETED = "deleted"
PARSE_ERROR = "parse_error"
SPIDER_ERROR = "spider_error"
# Reasons of asking too often and of credentials live beside their concepts (scrapers.pacing: THROTTLED,
# QUOTA_EXHAUSTED; scrapers.oauth: NO_CREDENTIALS, OAUTH_REFUSED): the re-fetch spells them as the HTTP statuses
# they stand for (http_429, http_401), and the other two are counted by the crawl only.

# A record or a live item that breaks one of its kind's constraints (SourceKind.violations): `constraint:<name>`.
CONSTRAINT_PREFIX = "constraint:"

# HTTP statuses after which a page is gone for good; every other failure is "unavailable" (unknown).
GONE_STATUSES = frozenset({404, 410})


def http_reason(status: int) -> str:
    """`http_503` for a 503 answer."""
    return f"http_{status}"


def constraint(name: str) -> str:
    """`constraint:subreddit` for a record breaking its kind's `subreddit` constraint."""
    return CONSTRAINT_PREFIX + name


def is_constraint(reason: str) -> bool:
    """Whether `reason` says a record broke a constraint of its kind (the item is not what the source covers)."""
    return reason.startswith(CONSTRAINT_PREFIX)
