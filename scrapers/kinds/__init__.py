"""The registry of source kinds: `KINDS` maps the `kind:` of a domain's sources to its SourceKind class.

A kind is one module with one SourceKind subclass (its params, parsers, spider, coverage and re-fetch); the built-in
ones are listed below. A third-party kind is registered at start-up with `register(MyKind)`; every crawl tells its
child process (`python -m scrapers.worker`) the import path of each kind it uses (`kind_path`), and the child
imports and registers them the same way, so the module must be importable there (installed, or on PYTHONPATH).
"""

from __future__ import annotations

import importlib

from schemas import DomainSpec, DomainSpecError, ScrapeError, SourceSpec
from schemas.record import add_source_kind
from scrapers.kinds.arxiv import Arxiv
from scrapers.kinds.base import SourceKind
from scrapers.kinds.feed import Feed
from scrapers.kinds.hackernews import HackerNews
from scrapers.kinds.reddit import Reddit
from scrapers.kinds.stackexchange import StackExchange
from scrapers.kinds.web import Web
from scrapers.kinds.wikipedia import Wikipedia
from scrapers.params import BaseParams

KINDS: dict[str, type[SourceKind]] = {
    kind.name: kind for kind in (Web, Feed, Wikipedia, HackerNews, Reddit, Arxiv, StackExchange)
}


def register(kind: type[SourceKind]) -> type[SourceKind] | None:
    """Make `kind` the kind of its name (records and domain specs may then name it); returns the kind it replaces
    (None if the name was free)."""
    if not (isinstance(kind, type) and issubclass(kind, SourceKind)):
        raise TypeError(f"{kind!r} is not a SourceKind subclass")
    add_source_kind(kind.name)
    previous = KINDS.get(kind.name)
    KINDS[kind.name] = kind
    return previous


def kind_of(name: str) -> type[SourceKind]:
    """The registered kind called `name`; DomainSpecError if there is none."""
    try:
        return KINDS[name]
    except KeyError:
        raise DomainSpecError(f"source kind {name!r} is not registered",
                              hint=f"use one of {', '.join(sorted(KINDS))}, or register it "
                                   "(scrapers.kinds.register)") from None


def kind_path(kind: type[SourceKind]) -> str:
    """`package.module:Class`, the import path the crawl process loads `kind` by."""
    return f"{kind.__module__}:{kind.__qualname__}"


def import_kind(path: str) -> type[SourceKind]:
    """The kind a `package.module:Class` path names (imported, not registered)."""
    module_name, _, qualname = path.partition(":")
    found: object = importlib.import_module(module_name)
    for part in qualname.split("."):
        found = getattr(found, part)
    if not (isinstance(found, type) and issubclass(found, SourceKind)):
        raise TypeError(f"{path} is not a SourceKind subclass")
    return found


def load_params(source: SourceSpec, domain_id: str = "?") -> BaseParams:
    """The validated params of a source; DomainSpecError names the domain, the source and the field."""
    return kind_of(source.kind).load_params(source, domain_id)


def check_domain(domain: DomainSpec) -> None:
    """Validate the params of every source of a domain (call at start-up; raises DomainSpecError)."""
    for source in domain.sources:
        load_params(source, domain.id)


def check_ready(domain: DomainSpec) -> None:
    """Whether every source of a domain can be crawled here (its API credentials are in the environment); a
    ScrapeError naming the domain and what to set otherwise. Miners call it at start-up, crawls before they begin."""
    for source in domain.sources:
        kind = kind_of(source.kind)
        try:
            kind.check_ready(kind.load_params(source, domain.id))
        except ScrapeError as exc:
            raise type(exc)(f"domain {domain.id!r}, source {source.source_id!r}: {exc.message}",
                              hint=exc.hint) from None


__all__ = ["KINDS", "SourceKind", "check_domain", "check_ready", "import_kind", "kind_of", "kind_path", "load_params",
           "register"]
