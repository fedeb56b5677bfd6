"""Demo domain specs (schemas.domain YAML) whose sources all point at one sample web.

Three domains, so the demo can give miners different mixes with some overlap:
- `python-language`: the language reference as a site crawl, an RSS feed and a MediaWiki category;
- `python-stdlib`: the module docs as a site crawl, an Atom feed and StackExchange questions, and the module notes,
  a site area that declares no licence (published as metadata only);
- `python-digest`: the low-quality digest pages (site crawl and feed) that quality checks should reject.
Source params follow the built-in specs under domains/ (seeds/allow_hosts/allow_patterns/max_depth/
sitemaps for web, feeds/allow_hosts for feed, base_url/mode/category/limit for wikipedia,
base_url/site/site_url/tags/limit for stackexchange).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from glean.sampleweb.constants import (
    AREA_BUILTINS,
    AREA_DIGEST,
    AREA_LANGUAGE,
    AREA_NOTES,
    AREA_STDLIB,
    LICENSE,
    SE_TAGS,
    UNLICENSED_AREAS,
    WIKI_CATEGORY,
    WIKI_LICENSE,
)
from schemas.errors import ConfigError

SAMPLE_DOMAINS = ("python-language", "python-stdlib", "python-digest")
# The domain `glean local up` asks the network for (a dataset request): the built-ins area, which no demo domain
# crawls. Not one of SAMPLE_DOMAINS: no node has it until validators adopt the request.
REQUEST_DOMAIN = "python-builtins"
_LIST_LIMIT = 100  # wiki category members / SE questions per crawl: more than the sample web holds
_MAX_DEPTH = 2  # area index -> article -> related article
# Seconds between requests: the sample web is our own loopback server, so the demo need not wait the
# second a public site deserves (scrapers' default); AutoThrottle still backs off if it slows down.
DEFAULT_DELAY = 0.0


def _web(base: str, area: str, delay: float, source_id: str | None = None) -> dict[str, Any]:
    return {"kind": "web", **({"id": source_id} if source_id else {}), "params": {
        "seeds": [f"{base}/site/{area}/"], "allow_hosts": [_netloc(base)],
        "allow_patterns": [f"^{re.escape(base)}/site/{area}/"], "max_depth": _MAX_DEPTH, "sitemaps": True,
        "delay": delay}}


def _feed(base: str, path: str, delay: float) -> dict[str, Any]:
    return {"kind": "feed", "params": {"feeds": [base + path], "allow_hosts": [_netloc(base)], "delay": delay}}


def _netloc(base: str) -> str:
    """host:port — an allow-list entry without a port would not match a loopback server's port."""
    return urlsplit(base).netloc


def domain_specs(base_url: str, *, delay: float = DEFAULT_DELAY) -> dict[str, dict[str, Any]]:
    """The demo specs as plain mappings (id -> spec), every source at `base_url` with `delay` between requests."""
    base = _check_base(base_url)
    specs = (_language_spec(base, delay), _stdlib_spec(base, delay), _digest_spec(base, delay))
    return {spec["id"]: spec for spec in specs}


def _licence(base: str, areas: tuple[str, ...]) -> dict[str, Any]:
    """The licence policy of a demo domain: site pages of `areas` that declare nothing (pages the validator did not
    fetch) are PSF-2.0, as the site's about page states; the notes area has no rule, so its pages stay metadata
    only (scrapers.licence)."""
    hosts = {f"{_netloc(base)}/site/{area}/": LICENSE for area in areas if area not in UNLICENSED_AREAS}
    return {"allowed": None, "require": False, "hosts": hosts}


def _spec(domain_id: str, title: str, description: str, sources: list[dict[str, Any]],
          relevance: dict[str, Any], *, half_life: int | None, desirability: float,
          licence: dict[str, Any]) -> dict[str, Any]:
    """One spec; the keys the demo domains share (language, quality) are filled in here."""
    return {
        "id": domain_id,
        "title": title,
        "description": description,
        "languages": ["en"],
        "sources": sources,
        "relevance": relevance,
        "quality": {"min_quality": 0.5, "min_words": 80},
        "freshness_half_life_days": half_life,
        "desirability": desirability,
        "license": licence,
    }


def _language_spec(base: str, delay: float) -> dict[str, Any]:
    wiki = {"kind": "wikipedia", "params": {"base_url": f"{base}/w/api.php", "mode": "category",
                                            "category": WIKI_CATEGORY[AREA_LANGUAGE], "limit": _LIST_LIMIT,
                                            "license": WIKI_LICENSE, "delay": delay}}
    return _spec(
        "python-language", "Python language reference (sample web)",
        "Topics of the Python language reference, served offline by glean's sample web "
        "from pydoc_data (PSF License).",
        [_web(base, AREA_LANGUAGE, delay), _feed(base, f"/site/{AREA_LANGUAGE}/feed.xml", delay), wiki],
        {
            "keywords": {"statement": 1.5, "expression": 1.5, "syntax": 1.2, "evaluated": 1.0,
                         "identifier": 1.0, "assignment": 1.0, "operator": 1.0, "interpreter": 1.0,
                         "python": 1.0, "exception": 0.8, "attribute": 0.8, "variable": 0.8, "object": 0.6,
                         "method": 0.6, "function": 0.6},
            "phrases": {"target list": 1.5, "special method": 1.5, "data model": 1.5,
                        "language reference": 1.5, "built-in": 1.0},
            "min_score": 0.1,
        },
        half_life=None, desirability=1.0, licence=_licence(base, (AREA_LANGUAGE,)))


def _stdlib_spec(base: str, delay: float) -> dict[str, Any]:
    # The sample web serves its questions on its own host, not stackoverflow.com: `site_url` says where.
    questions = {"kind": "stackexchange", "params": {"base_url": f"{base}/api/2.3", "site": "stackoverflow",
                                                     "site_url": base, "tags": [SE_TAGS[AREA_STDLIB]],
                                                     "limit": _LIST_LIMIT, "delay": delay}}
    return _spec(
        "python-stdlib", "Python standard library (sample web)",
        "Documentation of standard-library modules, served offline by glean's sample web "
        "from the modules' docstrings (PSF License).",
        # the notes first: six pages, crawled in a second, so even a short demo run publishes some (metadata only)
        [_web(base, AREA_NOTES, delay, source_id="notes"), _web(base, AREA_STDLIB, delay),
         _feed(base, f"/site/{AREA_STDLIB}/atom.xml", delay), questions],
        {
            "keywords": {"module": 1.2, "python": 1.0, "argument": 0.8, "parameter": 0.8, "encoding": 0.8,
                         "function": 0.8, "default": 0.6, "returns": 0.6, "string": 0.6, "instance": 0.6,
                         "class": 0.6, "method": 0.6, "file": 0.6, "optional": 0.5},
            "phrases": {"standard library": 1.5, "keyword argument": 1.2, "file object": 1.2,
                        "default value": 1.0, "return value": 1.0},
            "min_score": 0.1,
        },
        half_life=30, desirability=1.0, licence=_licence(base, (AREA_STDLIB, AREA_NOTES)))


def _digest_spec(base: str, delay: float) -> dict[str, Any]:
    return _spec(
        "python-digest", "Python digests (sample web, low quality on purpose)",
        "Link lists, chopped lists, repeated lines and keyword stuffing made from the "
        "Python documentation: what the quality stage exists to reject.",
        [_web(base, AREA_DIGEST, delay), _feed(base, f"/site/{AREA_DIGEST}/feed.xml", delay)],
        {
            "keywords": {"python": 1.0, "module": 0.8, "function": 0.8, "statement": 0.8, "tutorial": 0.6},
            "phrases": {"standard library": 1.0},
            "min_score": 0.1,
        },
        half_life=None, desirability=0.5, licence=_licence(base, (AREA_DIGEST,)))


def request_spec(base_url: str, *, delay: float = DEFAULT_DELAY) -> dict[str, Any]:
    """The requested domain's spec: the built-ins area as a site crawl, with the path rule a request needs."""
    base = _check_base(base_url)
    return _spec(
        REQUEST_DOMAIN, "Python built-in types and functions (sample web)",
        "The built-in types and functions of Python, from their documentation strings, served offline by glean's "
        "sample web (PSF License); asked for by a dataset request.",
        [_web(base, AREA_BUILTINS, delay)],
        {
            "keywords": {"return": 1.2, "string": 1.0, "bytes": 1.0, "integer": 1.0, "object": 0.8,
                         "argument": 0.8, "sequence": 0.8, "dictionary": 0.8, "method": 0.6, "python": 0.6},
            "phrases": {"built-in": 1.5, "keyword argument": 1.0, "default value": 1.0},
            "min_score": 0.1,
        },
        half_life=None, desirability=1.0, licence=_licence(base, (AREA_BUILTINS,)))


def write_domain_specs(base_url: str, folder: Path, domains: Iterable[str] | None = None, *,
                       delay: float = DEFAULT_DELAY) -> list[Path]:
    """Write `<id>.yaml` for each demo domain (all by default) into `folder`; returns the paths."""
    specs = domain_specs(base_url, delay=delay)
    wanted = list(domains) if domains is not None else list(SAMPLE_DOMAINS)
    unknown = sorted(set(wanted) - set(specs))
    if unknown:
        raise ConfigError(f"unknown sample domain(s) {unknown}", hint=f"choose from {', '.join(SAMPLE_DOMAINS)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for domain_id in wanted:
        path = folder / f"{domain_id}.yaml"
        header = f"# Generated by glean.sampleweb.domains for the sample web at {base_url}; do not edit.\n"
        path.write_text(header + yaml.safe_dump(specs[domain_id], sort_keys=False, allow_unicode=True),
                        encoding="utf-8")
        paths.append(path)
    return paths


def _check_base(base_url: str) -> str:
    base = base_url.rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
        raise ConfigError(f"base URL {base_url!r} is not of the form http://host:port",
                          hint="pass the sample web's base_url, e.g. http://127.0.0.1:8799")
    return base
