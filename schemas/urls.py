"""URL canonicalisation: w3lib's canonical form plus default-port and tracker-parameter stripping."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

from schemas.errors import RecordError

ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL_LENGTH = 2048

# Query parameters that identify a click or a campaign, never the content.
TRACKER_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid",
        "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id",
        "wickedid", "ref_src", "ref_url", "spm", "scid", "twclid", "ttclid", "si", "s_cid",
    }
)
TRACKER_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "stm_")


def _is_tracker(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKER_PARAMS or lowered.startswith(TRACKER_PREFIXES)


def canonical_url(url: str) -> str:
    """The canonical form of an http(s) URL; raises RecordError for anything else."""
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise RecordError(f"URL longer than {MAX_URL_LENGTH} characters", hint="shorten or drop this URL")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise RecordError(f"URL scheme {parts.scheme or '(none)'!r} is not allowed in {url[:80]!r}",
                          hint="only http and https URLs are accepted")
    if not parts.hostname:
        raise RecordError(f"URL {url[:80]!r} has no host", hint="use an absolute URL such as https://host/path")
    netloc = parts.hostname.lower().rstrip(".")
    try:
        port = parts.port
    except ValueError as exc:
        raise RecordError(f"URL {url[:80]!r} has an invalid port", hint="fix the port number") from exc
    if port is not None and port != DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    if ":" in parts.hostname and not netloc.startswith("["):  # IPv6 literal
        netloc = f"[{parts.hostname}]" + (f":{port}" if port and port != DEFAULT_PORTS[scheme] else "")
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracker(k)])
    return canonicalize_url(urlunsplit((scheme, netloc, parts.path or "/", query, "")))


def url_host(url: str) -> str:
    """Lower-case host of a URL (no port), '' when there is none."""
    return (urlsplit(url).hostname or "").lower()
