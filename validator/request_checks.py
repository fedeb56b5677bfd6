"""Whether a dataset request's spec may be collected: a request is untrusted input (DESIGN §11, §10).

On top of the schema (`schemas.request`): every source's params pass its kind's validation; no source is *open*
(anyone could publish into it to be paid): no numeric floor of a kind (`min_score`, `min_age_hours`, …) is set below
the kind's own default, a wiki source lists a category (never every recent change), and a source that extracts web
pages names a path rule (`allow_patterns`), so a host the requester controls is never open as a whole. Outside local
mode every host is a public name or address, and an API source stays on its kind's own service. Each refusal is a
RequestError that names the field and the fix. Addresses are checked again when a connection is made
(scrapers.address).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Iterator
from datetime import datetime, timedelta

from schemas import DomainSpec, DomainSpecError, SourceSpec
from schemas.errors import RequestError
from schemas.request import DatasetRequest
from scrapers.address import refusal
from scrapers.allow import HostRule, host_port
from scrapers.kinds import kind_of
from scrapers.params import ApiParams, BaseParams
from validator.constants import API_SIBLING_DOMAINS, MAX_REQUEST_DEADLINE_DAYS

# Host names that never name a public host (RFC 6761/6762/8375 and common private zones).
PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".intranet", ".corp", ".test",
                    ".invalid", ".example")
# Wiki modes that follow anyone's fresh edits: a page the requester writes would be collected the next minute.
OPEN_WIKI_MODES = frozenset({"recentchanges"})


def check_request(request: DatasetRequest, *, local: bool, taken: Collection[str] = (),
                  now: datetime | None = None) -> DomainSpec:
    """The request's domain spec when it may be collected; RequestError (field and fix) otherwise. `taken` are the
    domain ids this validator already serves under another spec; `local`: the LocalChain (loopback hosts allowed)."""
    spec = request.domain
    if spec.id in taken:
        raise RequestError(f"spec.id: {spec.id!r} is a domain this validator already collects under another spec",
                           hint="give the requested domain an id of its own (e.g. prefix it with your project)")
    if request.deadline is not None and now is not None:
        _check_deadline(request.deadline, now)
    for index, source in enumerate(spec.sources):
        where = f"spec.sources.{index}"
        params = _params(spec, source, where)
        _check_open(source, params, where)
        if not local:
            _check_public(source, params, where)
    if not local:
        for rule in spec.license.hosts:
            _check_host(HostRule.parse(rule.split("/", 1)[0]).host, f"spec.license.hosts.{rule}")
    return spec


def _check_deadline(deadline: datetime, now: datetime) -> None:
    if deadline <= now:
        raise RequestError(f"deadline: {deadline.isoformat()} has passed",
                           hint="give a deadline in the future, or none")
    if deadline - now > timedelta(days=MAX_REQUEST_DEADLINE_DAYS):
        raise RequestError(f"deadline: more than {MAX_REQUEST_DEADLINE_DAYS} days ahead",
                           hint=f"give a deadline within {MAX_REQUEST_DEADLINE_DAYS} days, or none")


def _params(spec: DomainSpec, source: SourceSpec, where: str) -> BaseParams:
    try:
        return kind_of(source.kind).load_params(source, spec.id)
    except DomainSpecError as exc:
        raise RequestError(f"{where} ({source.kind}): {exc.message}", hint=exc.hint) from None


def _check_open(source: SourceSpec, params: BaseParams, where: str) -> None:
    """Refuse a source anyone could publish into: a kind's floor lowered, every recent edit, no path rule."""
    for name, info in type(params).model_fields.items():
        default, value = info.default, getattr(params, name)
        if ("min_" in name and isinstance(default, int | float) and not isinstance(default, bool)
                and value < default):
            raise RequestError(f"{where}.params.{info.alias or name}: {value} is below the {source.kind} kind's "
                               f"floor {default} (a self-published item would qualify)",
                               hint=f"leave it out or give at least {default}")
    if getattr(params, "mode", None) in OPEN_WIKI_MODES:
        raise RequestError(f"{where}.params.mode: {params.mode!r} collects anyone's fresh edits",
                           hint="use mode 'category' with a `category` (or 'search' with a `query`)")
    category = getattr(params, "category", None)
    if isinstance(category, str) and not category.startswith("Category:"):
        raise RequestError(f"{where}.params.category: {category!r} is not a category",
                           hint="name a category page, e.g. 'Category:Physics' (never a user's namespace)")
    if params.page_hosts().hosts and not getattr(params, "allow_patterns", None):
        raise RequestError(f"{where}.params.allow_patterns: a requested {source.kind} source needs a path rule",
                           hint="add allow_patterns, e.g. ['^https://example\\\\.org/docs/'], so that only the "
                                "pages meant are collected, not everything a host serves")


def _check_public(source: SourceSpec, params: BaseParams, where: str) -> None:
    """Outside local mode: public hosts only, and an API source on its kind's own service."""
    for host in _hosts(params):
        _check_host(host, f"{where}.params")
    if isinstance(params, ApiParams):
        _check_api_home(source, params, where)


def _hosts(params: BaseParams) -> Iterator[str]:
    for rule in (*params.request_hosts().hosts, *params.page_hosts().hosts):
        yield rule.host
    for name in type(params).model_fields:
        value = getattr(params, name)
        for url in value if isinstance(value, list) else [value]:
            found = host_port(url) if isinstance(url, str) and "://" in url else None
            if found is not None:
                yield found[0]


def _check_host(host: str, where: str) -> None:
    why = _private_host(host.strip("[]").lower().rstrip("."))
    if why is not None:
        raise RequestError(f"{where}: host {host!r} is {why}",
                           hint="name public hosts only (private and loopback hosts are for local mode)")


def _private_host(host: str) -> str | None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if "." not in host or host == "localhost" or host.endswith(PRIVATE_SUFFIXES):
            return "not a public host name"
        return None
    why = refusal(address)
    return None if why is None else f"not a public address ({why})"


def _check_api_home(source: SourceSpec, params: ApiParams, where: str) -> None:
    """Each URL param of an API kind stays on the host of its default (an API the requester runs could answer
    anything); a wiki may be another language's (API_SIBLING_DOMAINS)."""
    for name, info in type(params).model_fields.items():
        default = info.default
        if not (isinstance(default, str) and "://" in default):
            continue
        home, mine = host_port(default), host_port(str(getattr(params, name)))
        if home is None or mine is None or not _same_service(mine[0], home[0]):
            raise RequestError(f"{where}.params.{info.alias or name}: a requested {source.kind} source must use "
                               f"{home[0] if home else default}",
                               hint=f"leave {info.alias or name} out (default {default})")


def _same_service(host: str, home: str) -> bool:
    registered = ".".join(home.split(".")[-2:])
    return host == home or (registered in API_SIBLING_DOMAINS and host.endswith("." + registered))
