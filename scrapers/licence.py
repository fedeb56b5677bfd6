"""The licence policy: may a record's text be redistributed in a dataset, under which licence, with what credit.

`decide` is the one rule the validator applies to every accepted row. It never reads the miner's `record.license`:
what counts is what the source declared when the validator fetched it (`declared`), the source kind's own terms
(each `SourceKind.licence` states and cites them), and the domain's host rules (`license.hosts` in its spec).
Rows whose text may not be redistributed are published as metadata only (docs/hub.md#licences).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from schemas import DomainSpec, Record, SourceSpec
from schemas.domain import REDISTRIBUTABLE_LICENCES

# Licences we recognise but whose text may not be redistributed here (NC/ND variants), so a page declaring one is
# recorded under its real id instead of "unknown".
_CC_VERSIONS = ("1.0", "2.0", "2.5", "3.0", "4.0")
RESTRICTED_LICENCES: frozenset[str] = frozenset(
    f"CC-{variant}-{v}" for variant in ("BY-NC", "BY-ND", "BY-NC-SA", "BY-NC-ND") for v in _CC_VERSIONS)
# arXiv's default licence grants arXiv (only) the right to distribute the paper (arxiv.org/licenses).
ARXIV_NONEXCLUSIVE = "LicenseRef-arXiv-nonexclusive-distrib-1.0"
_KNOWN = {lic.lower(): lic for lic in REDISTRIBUTABLE_LICENCES | RESTRICTED_LICENCES | {ARXIV_NONEXCLUSIVE}}
_ALIASES = {"cc-zero-1.0": "CC0-1.0", "cc-mark-1.0": "CC-PDM-1.0", "psf": "PSF-2.0", "python-2.0": "PSF-2.0"}
_CC_URL = re.compile(r"creativecommons\.org/(?:licenses|publicdomain)/([a-z\-]+)/(\d\.\d)", re.IGNORECASE)
_SPDX_URL = re.compile(r"spdx\.org/licenses/([A-Za-z0-9.+-]+?)(?:\.html|\.json)?/?$", re.IGNORECASE)
# arXiv caps an abstract at 1,920 characters (its submission form's limit): a longer text is no abstract.
ARXIV_ABSTRACT_MAX_CHARS = 1920
_ARXIV_URL = re.compile(r"arxiv\.org/licenses/nonexclusive-distrib/1\.0", re.IGNORECASE)


@dataclass(frozen=True)
class LicenceDecision:
    """What the policy decided for one row."""

    licence: str | None      # SPDX id ("CC-BY-SA-4.0", "PSF-2.0", ...) or None when unknown
    text_allowed: bool       # may the text be redistributed in a dataset
    attribution: str | None  # what the terms require shown with the row (title, URL, author / history link)
    basis: str               # why: "kind:wikipedia", "page:rel=license", "host:docs.python.org", "default", ...


def decide(domain: DomainSpec, source: SourceSpec, record: Record, declared: str | None) -> LicenceDecision:
    """The licence decision for `record` of `source` in `domain`; `declared` is what the source declared when the
    validator fetched the record (rel=license, the API's content_license, the paper's licence), None if it did not
    fetch it. The miner's `record.license` is never read."""
    from scrapers.kinds import kind_of  # the kinds import this module: resolve them at call time

    kind = kind_of(source.kind)
    params = kind.load_params(source, domain.id)
    return kind.licence(params, record, spdx(declared), host_licence(domain, record.uri))


def spdx(value: str | None) -> str | None:
    """The SPDX id a declaration names (an id, a Creative Commons / spdx.org / arXiv licence URL, "CC BY-SA 4.0");
    None for anything we do not recognise."""
    if not value or not value.strip():
        return None
    text = value.strip()
    found = _CC_URL.search(text)
    if found:
        text = f"CC-{found.group(1)}-{found.group(2)}"
    elif (found := _SPDX_URL.search(text)) is not None:
        text = found.group(1)
    elif _ARXIV_URL.search(text):
        return ARXIV_NONEXCLUSIVE
    key = "-".join(text.split()).lower()
    return _KNOWN.get(key) or _ALIASES.get(key)


def host_licence(domain: DomainSpec, uri: str) -> tuple[str, str] | None:
    """(rule, licence) of the most specific host rule of `domain` covering `uri`, None when none does. A rule is
    `host[:port][/path-prefix]`; `*.host` also covers the host's subdomains."""
    parts = urlsplit(uri)
    host, path = (parts.hostname or "").lower(), parts.path or "/"
    port = parts.port
    best: tuple[str, str] | None = None
    for rule, licence in domain.license.hosts.items():
        if _covers(rule, host, port, path) and (best is None or len(rule) > len(best[0])):
            best = (rule, licence)
    return best


def _covers(rule: str, host: str, port: int | None, path: str) -> bool:
    netloc, slash, prefix = rule.partition("/")
    name, _, rule_port = netloc.partition(":")
    if rule_port and str(port) != rule_port:
        return False
    if slash and not path.startswith("/" + prefix):
        return False
    if name.startswith("*."):
        return host == name[2:] or host.endswith(name[1:])
    return host == name


def is_free(licence: str | None) -> bool:
    """Whether text under `licence` may be redistributed in a dataset."""
    return licence in REDISTRIBUTABLE_LICENCES


def licence_url(licence: str) -> str:
    """Where the licence's terms are (Creative Commons deed, else spdx.org), linked from every attribution."""
    if licence == "CC0-1.0":
        return "https://creativecommons.org/publicdomain/zero/1.0/"
    if licence == "CC-PDM-1.0":
        return "https://creativecommons.org/publicdomain/mark/1.0/"
    found = re.fullmatch(r"CC-([A-Z-]+)-(\d\.\d)", licence)
    if found:
        return f"https://creativecommons.org/licenses/{found.group(1).lower()}/{found.group(2)}/"
    return f"https://spdx.org/licenses/{licence}.html"


def metadata_only(basis: str, licence: str | None = None) -> LicenceDecision:
    """A row published without its text (uri, title, dates, hashes, signals)."""
    return LicenceDecision(licence=licence, text_allowed=False, attribution=None, basis=basis)


def credit(licence: str, *, title: str, uri: str, author: str = "", authors_at: str = "", via: str = "") -> str:
    """The attribution line of a row: title, URL, author or where the authors are listed, source, licence + link."""
    parts = [f'"{title}"' if title else "untitled", uri]
    if author:
        parts.append(f"by {author}")
    if authors_at:
        parts.append(f"authors: {authors_at}")
    if via:
        parts.append(via)
    parts.append(f"licensed {licence} ({licence_url(licence)})")
    return ", ".join(parts)


def under(licence: str, basis: str, attribution: str) -> LicenceDecision:
    """A row under `licence`: its text may be redistributed when the licence is a free one."""
    free = is_free(licence)
    return LicenceDecision(licence=licence, text_allowed=free, attribution=attribution if free else None,
                           basis=basis)


def page_rule(record: Record, declared: str | None, host_rule: tuple[str, str] | None) -> LicenceDecision:
    """A web page: the licence it declared (rel=license) when the validator fetched it, else its host's rule in
    the domain spec, else metadata only."""
    author = str(record.meta.get("author") or "")[:200]
    if declared is not None:
        return under(declared, "page:rel=license",
                     credit(declared, title=record.title, uri=record.uri, author=author))
    if host_rule is not None:
        rule, licence = host_rule
        return under(licence, f"host:{rule}", credit(licence, title=record.title, uri=record.uri, author=author))
    return metadata_only("default")


def mediawiki_history(uri: str) -> str:
    """The page-history link of a MediaWiki article URI (where its authors are listed, as CC BY-SA asks)."""
    return f"{uri}{'&' if '?' in uri else '?'}action=history"

