"""What the `params:` of every source kind share (politeness, limits, field types), and their validation with a
readable error that names the field. Each kind's own params model lives in its module under scrapers.kinds."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from schemas import DomainSpecError, SourceSpec
from scrapers import settings
from scrapers.allow import AllowList, host_port, netloc_entry


def _http_url(value: str) -> str:
    if host_port(value) is None:
        raise ValueError(f"{value!r} is not an absolute http(s) URL")
    return value


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"{value!r} is not a valid regular expression ({exc})") from None
    return value


def _host_entry(value: str) -> str:
    entry = value.strip()
    if not re.fullmatch(r"(\*\.)?[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?", entry):
        raise ValueError(f"{value!r} is not a host, host:port or *.host (the subdomains of host)")
    if entry.startswith("*."):
        _check_wildcard(value, entry[2:].split(":", 1)[0])
    return entry.lower()


def _check_wildcard(value: str, host: str) -> None:
    if re.fullmatch(r"[\d.]+", host):
        raise ValueError(f"{value!r}: an IP address has no subdomains; write the address itself")
    if host.strip(".").count(".") < 1:
        # `*.com` would cover every host under a top-level domain
        raise ValueError(f"{value!r}: a subdomain rule needs a registered domain (e.g. *.example.com)")


HttpUrl = Annotated[str, AfterValidator(_http_url)]
Regex = Annotated[str, AfterValidator(_regex)]
HostEntry = Annotated[str, AfterValidator(_host_entry)]
Seconds = Annotated[float, Field(ge=0, le=600)]


class BaseParams(BaseModel):
    """Politeness and limits every kind shares; each kind sets its own defaults for the API it talks to."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    delay: Seconds = settings.DEFAULT_DELAY
    concurrency: Annotated[int, Field(ge=1, le=32)] = settings.DEFAULT_CONCURRENCY
    autothrottle: bool = True
    timeout: Annotated[float, Field(gt=0, le=600)] = settings.DEFAULT_TIMEOUT
    retries: Annotated[int, Field(ge=0, le=10)] = settings.DEFAULT_RETRIES
    max_bytes: Annotated[int, Field(ge=1024, le=100 * 1024 * 1024)] = settings.MAX_BYTES

    def request_hosts(self) -> AllowList:
        """Every host this source may contact."""
        raise NotImplementedError

    def page_hosts(self) -> AllowList:
        """Hosts (and patterns) of the web pages this source extracts; empty for pure API kinds."""
        return AllowList(())


class ApiParams(BaseParams):
    """A kind that talks to a documented public API at `base_url`."""

    base_url: HttpUrl
    # robots.txt governs crawlers of web pages; documented APIs publish their own rules (rate limits, user
    # agent) that each API kind honours through its defaults. Web pages (web, feed articles, HN links) always
    # obey robots.txt; `obey_robots: true` makes an API kind obey it for the API too.
    obey_robots: bool = False

    def request_hosts(self) -> AllowList:
        return AllowList.build([netloc_entry(self.base_url)])


def _accepted(model: type[BaseParams]) -> list[str]:
    return sorted(info.alias or name for name, info in model.model_fields.items())


def validate_params(model: type[BaseParams], source: SourceSpec, domain_id: str = "?") -> BaseParams:
    """`source.params` validated by `model`; DomainSpecError names the domain, the source and the field."""
    try:
        return model.model_validate(source.params)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(["params", *(str(p) for p in first["loc"])])
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise DomainSpecError(
            f"domain {domain_id!r}, source {source.source_id!r} ({source.kind}): {field}: {first['msg']}{more}",
            hint=f"fix that field; {source.kind} accepts: {', '.join(_accepted(model))}",
        ) from None
