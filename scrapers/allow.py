"""Allow-lists: which hosts (host or host:port) and URL patterns a source may fetch.

A host rule names exactly one host: `example.com` is example.com and nothing else, so a subdomain someone else can
create (`evil.example.com`, `alice.blogspot.com`) is never covered by accident. `*.example.com` covers the
subdomains (not example.com itself: list both when both are meant). Hosts that serve user content (blog platforms,
code forges, model hubs) are narrowed to the publisher's own paths with the source's `allow_patterns`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
SUBDOMAINS = "*."  # a host rule written `*.example.com` covers the subdomains of example.com


@dataclass(frozen=True)
class HostRule:
    """`example.org` allows exactly that host on the default ports, `*.example.org` its subdomains (not the host
    itself), `127.0.0.1:8080` that port only."""

    host: str
    port: int | None
    subdomains: bool = False

    @classmethod
    def parse(cls, entry: str) -> HostRule:
        entry = entry.strip().lower().rstrip(".")
        wildcard = entry.startswith(SUBDOMAINS)
        entry = entry.removeprefix(SUBDOMAINS)
        if "://" in entry:
            parts = urlsplit(entry)
            return cls(parts.hostname or "", parts.port, wildcard)
        host, sep, port = entry.rpartition(":")
        if sep and port.isdigit() and ":" not in host.strip("[]"):
            return cls(host.strip("[]"), int(port), wildcard)
        return cls(entry.strip("[]"), None, wildcard)

    def matches(self, host: str, port: int | None) -> bool:
        if port != self.port:
            return False
        if self.subdomains:
            return not _is_ip(self.host) and host.endswith("." + self.host)
        return host == self.host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def host_port(url: str) -> tuple[str, int | None] | None:
    """(lower-case host, port or None for the scheme's default port) of an http(s) URL; None if not http(s)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    if port == DEFAULT_PORTS[scheme]:
        port = None
    return parts.hostname.lower().rstrip("."), port


def netloc_entry(url: str) -> str:
    """The allow-list entry that admits exactly the host (and non-default port) of `url`."""
    found = host_port(url)
    if found is None:
        return ""
    host, port = found
    return host if port is None else f"{host}:{port}"


@dataclass(frozen=True)
class AllowList:
    """Hosts a source may contact, plus optional regexes a page URL must (allow) or must not (deny) match."""

    hosts: tuple[HostRule, ...]
    allow: tuple[re.Pattern[str], ...] = ()
    deny: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def build(cls, hosts: Iterable[str], allow: Iterable[str] = (), deny: Iterable[str] = ()) -> AllowList:
        rules = tuple(HostRule.parse(h) for h in hosts if h and h.strip())
        return cls(rules, tuple(re.compile(p) for p in allow), tuple(re.compile(p) for p in deny))

    def allows_host(self, url: str) -> bool:
        """True when the URL is http(s) on a listed host (the check for every request, redirects included)."""
        found = host_port(url)
        return found is not None and any(rule.matches(*found) for rule in self.hosts)

    def allows_page(self, url: str) -> bool:
        """True when the URL is on a listed host and passes the allow/deny patterns (pages we extract)."""
        if not self.allows_host(url):
            return False
        if self.allow and not any(p.search(url) for p in self.allow):
            return False
        return not any(p.search(url) for p in self.deny)

    def merged(self, other: AllowList) -> AllowList:
        """Hosts of both lists (patterns of this one): a spider may contact API hosts and article hosts."""
        return AllowList(self.hosts + other.hosts, self.allow, self.deny)
