"""Which addresses a re-fetch may connect to, checked when the connection is made and pinned for it.

An allow-list checks host *names*; `evil.example.com` may still resolve to 127.0.0.1 or 169.254.169.254 (the
cloud metadata service). `GuardedClient` resolves every host itself when httpx opens a connection, refuses the
connection if any resolved address is not public (loopback, private, link-local, unique-local, shared/CGNAT,
multicast, reserved, unspecified, documentation, metadata — IPv4 and IPv6, IPv4 inside IPv6 included) and
connects to the very address it checked, so a second DNS answer cannot swap it. TLS still verifies the host
name (httpcore passes the URL's host as SNI). Every redirect hop to a new host opens a new connection, so it is
checked again. In local mode (`allow_private=True`: the LocalChain, tests) loopback and private addresses are allowed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Iterable

import httpcore
import httpx

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# NAT64 (RFC 6052) carries an IPv4 address in its last 32 bits: judge the IPv4 address.
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Cloud metadata services outside the ranges `is_global` already refuses, named so a reader sees they are covered:
# AWS/GCP/Azure 169.254.169.254 (link-local), AWS fd00:ec2::254 (unique-local), Alibaba 100.100.100.200 (shared
# address space), Oracle 192.0.0.192 (IETF protocol assignments). All are also outside `is_global`.
METADATA = frozenset(ipaddress.ip_address(a) for a in
                     ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192"))


class BlockedAddress(httpcore.ConnectError):
    """The host resolved to an address a re-fetch may not reach (outside local mode)."""

    def __init__(self, host: str, address: str, why: str) -> None:
        super().__init__(f"{host} resolves to {address} ({why}): not a public address")
        self.host, self.address, self.why = host, address, why


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4, Teredo client), if any."""
    if address.version == 4:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def refusal(address: IPAddress) -> str | None:
    """Why a re-fetch may not connect to `address` outside local mode, or None when it is a public address."""
    inner = embedded_ipv4(address)
    if inner is not None:
        why = refusal(inner)
        return f"IPv6 carrying {inner}: {why}" if why else None
    if address in METADATA:
        return "cloud metadata service"
    for name in ("is_unspecified", "is_loopback", "is_link_local", "is_private", "is_multicast", "is_reserved"):
        if getattr(address, name):
            return name.removeprefix("is_").replace("_", "-")
    if not address.is_global:
        return "not globally routable"
    return None


async def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (an IP literal resolves to itself). The seam tests replace."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                         proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(info[4][0] for info in infos))


_BACKEND = httpcore.AnyIOBackend()


async def dial(address: str, port: int, timeout: float | None, local_address: str | None,
               socket_options: Iterable | None) -> httpcore.AsyncNetworkStream:
    """Open a TCP connection to an address already checked (never a name). The seam tests replace to route a
    public address to a loopback server."""
    return await _BACKEND.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                      socket_options=socket_options)


class AddressGuard(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the address check: resolve, check every address, connect to a checked one."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable | None = None) -> httpcore.AsyncNetworkStream:
        addresses = await self._checked(host, port)
        last: Exception | None = None
        for address in addresses:  # in resolver order; every one of them was checked
            try:
                return await dial(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        raise last or httpcore.ConnectError(f"{host} has no address")

    async def _checked(self, host: str, port: int) -> list[str]:
        try:
            addresses = await resolve(host, port)
        except OSError as exc:  # gaierror: the fetcher counts it as "dns"
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        if self.allow_private:
            return addresses
        for address in addresses:  # one non-public answer refuses the host: a mixed answer is a rebinding trick
            why = refusal(ipaddress.ip_address(address.split("%", 1)[0]))
            if why:
                log.warning("re-fetch refused host=%s address=%s why=%s", host, address, why)
                raise BlockedAddress(host, address, why)
        return addresses

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable | None = None) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("a re-fetch never connects to a unix socket")

    async def sleep(self, seconds: float) -> None:
        await _BACKEND.sleep(seconds)


class GuardedClient(httpx.AsyncClient):
    """An httpx client whose every connection goes through `AddressGuard` (no proxies: a proxy would connect for us)."""

    def __init__(self, *, allow_private: bool, timeout: float | httpx.Timeout = 15.0,
                 limits: httpx.Limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)) -> None:
        transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
        # httpx has no argument for httpcore's network backend: rebuild its pool with the guard as the backend.
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False), max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
            network_backend=AddressGuard(allow_private=allow_private))
        super().__init__(transport=transport, timeout=timeout, trust_env=False, follow_redirects=False)
        self.allow_private = allow_private


def blocked_in(exc: BaseException) -> BlockedAddress | None:
    """The BlockedAddress behind an httpx error (httpx re-raises httpcore's errors as its own, chained)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, BlockedAddress):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
