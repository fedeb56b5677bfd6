"""api.php's request parameters with MediaWiki's rules, and the error it reports in the response body."""

from __future__ import annotations

from collections.abc import Mapping

from glean.sampleweb.constants import WIKI_DEFAULT_LIMIT, WIKI_MAX_LIMIT


class ApiError(Exception):
    """An API error MediaWiki would report as {"error": {"code": ..., "info": ...}}."""

    def __init__(self, code: str, info: str) -> None:
        super().__init__(info)
        self.code = code
        self.info = info


class Params:
    """Request parameters with MediaWiki's rules: booleans are true when present, lists split on '|'."""

    def __init__(self, raw: Mapping[str, str]) -> None:
        self.raw = raw

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.raw.get(name, default)

    def flag(self, name: str) -> bool:
        return name in self.raw

    def values(self, name: str) -> list[str]:
        value = self.raw.get(name, "")
        return [v for v in value.split("|") if v] if value else []

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise ApiError("badinteger", f'Invalid value "{value}" for integer parameter "{name}".') from None

    def limit(self, name: str) -> int:
        value = self.raw.get(name)
        if value == "max":
            return WIKI_MAX_LIMIT
        number = self.integer(name, WIKI_DEFAULT_LIMIT) or WIKI_DEFAULT_LIMIT
        return max(1, min(number, WIKI_MAX_LIMIT))


def fv2(p: Params) -> bool:
    """Whether the request asked for `formatversion=2` (or `latest`)."""
    return p.get("formatversion") in ("2", "latest")
