"""Fault rules: make the sample web answer 429/5xx (or answer slowly) for a chosen client or path.

A rule matches a request when every criterion it sets matches: a path prefix, a substring of the
User-Agent, and a request header. Rules are checked in the order they were added; the first match wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from glean.sampleweb.constants import MAX_FAULT_DELAY_SECONDS
from glean.sampleweb.reply import Reply
from schemas.errors import ConfigError

_REASONS = {429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Unavailable", 504: "Gateway Timeout"}


@dataclass(frozen=True)
class Fault:
    """One rule. `status` < 400 with a `delay` serves the page normally, only late (to provoke timeouts)."""

    status: int = 503
    path_prefix: str = "/"
    user_agent: str | None = None  # case-insensitive substring of the User-Agent header
    header: str | None = None  # "Name: value" that the request must carry (name case-insensitive)
    times: int | None = None  # answer this many matching requests, then expire; None: until cleared
    retry_after: int | None = None  # seconds, sent as Retry-After
    delay: float = 0.0  # seconds to wait before answering
    id: int = 0

    def __post_init__(self) -> None:
        if not 200 <= self.status <= 599:
            raise ConfigError(f"fault status {self.status} is not an HTTP status", hint="use e.g. 429, 500 or 503")
        if not 0 <= self.delay <= MAX_FAULT_DELAY_SECONDS:
            raise ConfigError(f"fault delay {self.delay} s is out of range",
                              hint=f"use 0 to {MAX_FAULT_DELAY_SECONDS:g} seconds")
        if not self.path_prefix.startswith("/"):
            raise ConfigError(f"fault path_prefix {self.path_prefix!r} must start with '/'", hint="e.g. /site/")
        if self.header is not None and ":" not in self.header:
            raise ConfigError(f"fault header {self.header!r} is not 'Name: value'", hint="e.g. 'X-Client: validator'")
        if self.times is not None and self.times < 1:
            raise ConfigError("fault times must be at least 1", hint="leave it out for a rule that never expires")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Fault:
        """A rule from JSON; unknown keys are an error that names them."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown fault field(s) {unknown}", hint=f"known fields: {', '.join(sorted(known))}")
        try:
            return cls(**dict(data))
        except TypeError as exc:
            raise ConfigError(f"bad fault: {exc}", hint="see docs/sampleweb.md for the fault format") from exc

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def matches(self, path: str, headers: Mapping[str, str]) -> bool:
        """Whether this rule applies to a request for `path` with these headers (names lower-case)."""
        if not path.startswith(self.path_prefix):
            return False
        if self.user_agent is not None and self.user_agent.lower() not in headers.get("user-agent", "").lower():
            return False
        if self.header is not None:
            name, _, value = self.header.partition(":")
            if headers.get(name.strip().lower(), "").strip() != value.strip():
                return False
        return True

    def reply(self) -> Reply | None:
        """The error answer, or None when the rule only delays the normal answer."""
        if self.status < 400:
            return None
        extra = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        reason = _REASONS.get(self.status, "Error")
        return Reply.text(f"{self.status} {reason} (sample web fault rule {self.id})\n", status=self.status, **extra)
