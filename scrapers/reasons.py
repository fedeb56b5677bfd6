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
# The source asked us to wait (429, maxlag, throttle_violation, a rate window or daily quota used up) and the re-fetch
# could not within its bounds. Spelled as the 429 answer it stands for: the validator's table (validator/
# verification.py, UNKNOWN_STATUSES) counts it unknown, the validator's trouble, never the miner's.
THROTTLED = "http_429"
# The validator holds no credentials for an API that needs them (Reddit's OAuth): its own trouble, spelled as the
# 401 answer it stands for (unknown in the same table).
NO_CREDENTIALS = "http_401"
# Counted in the crawl: the source's daily quota is used up (Stack Exchange's quota_remaining reached 0).
QUOTA_EXHAUSTED = "quota_exhausted"
# Counted in the crawl: the token endpoint refused the source's OAuth credentials (the log says how to fix them).
OAUTH_REFUSED = "oauth_refused"

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
