"""The connect-time address check of the re-fetch: a public-looking name that resolves to a loopback, private or
metadata address is refused (on the first hop and on a redirect hop), and the checked address is the one dialled.

The seams are the resolver and the dialler of `scrapers.address` (what DNS answers, where a public address routes
to): the check itself is the real one, and the server is a real loopback server.
"""

from __future__ import annotations

import ipaddress
import socket

import httpx
import pytest

from scrapers import address, fetch_one, reasons
from scrapers.address import GuardedClient, refusal
from tests.scrapers.recorded import html_page, make_domain, source
from tests.support.site import Page

PUBLIC = "93.184.216.34"  # a public address; the dialler routes it to the loopback site


@pytest.fixture
def net(monkeypatch, site):
    """DNS and routing we control: names -> addresses, and PUBLIC:80 routed to the loopback site."""
    dns: dict[str, list[str]] = {"public.example": [PUBLIC]}
    dialled: list[str] = []
    real_dial = address.dial

    async def resolve(host: str, port: int) -> list[str]:
        return dns[host] if host in dns else [host]

    async def dial(ip: str, port: int, *args):
        dialled.append(ip)
        if (ip, port) == (PUBLIC, 80):
            return await real_dial("127.0.0.1", site.port, *args)
        return await real_dial(ip, port, *args)

    monkeypatch.setattr(address, "resolve", resolve)
    monkeypatch.setattr(address, "dial", dial)
    return dns, dialled


def public_domain(*extra_hosts: str):
    return make_domain(source("web", seeds=["http://public.example/"],
                              allow_hosts=["public.example", *extra_hosts]))


async def refetch(url: str, domain=None):
    domain = domain or public_domain()
    return await fetch_one(domain, domain.sources[0], url, timeout=5)


async def test_a_public_address_is_fetched_and_pinned(site, net):
    site.add("/a", html_page("A public page"))
    result = await refetch("http://public.example/a")
    assert result.status == "content" and result.record.title == "A public page"
    assert set(net[1]) == {PUBLIC}  # only the checked address was ever dialled


@pytest.mark.parametrize("answer", ["127.0.0.1", "10.0.0.7", "169.254.169.254", "::1", "::ffff:127.0.0.1",
                                    "fd00:ec2::254"])
async def test_a_name_resolving_to_a_private_address_is_refused(site, net, answer):
    net[0]["public.example"] = [answer]
    site.add("/a", html_page("Should never be read"))
    result = await refetch("http://public.example/a")
    assert (result.status, result.reason) == ("gone", reasons.PRIVATE_ADDRESS)
    assert net[1] == [] and site.hits["/a"] == 0


async def test_a_mixed_answer_with_one_private_address_is_refused(site, net):
    net[0]["public.example"] = [PUBLIC, "127.0.0.1"]
    site.add("/a", html_page("Rebinding"))
    result = await refetch("http://public.example/a")
    assert (result.status, result.reason) == ("gone", reasons.PRIVATE_ADDRESS)
    assert net[1] == []


async def test_a_redirect_to_a_private_address_is_refused_at_the_hop(site, net):
    net[0]["intranet.example"] = ["10.1.2.3"]
    site.add("/moved", Page("", status=302, headers={"Location": "http://intranet.example/secret"}))
    result = await refetch("http://public.example/moved", public_domain("intranet.example"))
    assert (result.status, result.reason) == ("gone", reasons.PRIVATE_ADDRESS)
    assert site.hits["/moved"] == 1 and "10.1.2.3" not in net[1]


async def test_a_loopback_literal_is_refused_outside_local_mode(site):
    site.add("/a", html_page("Loopback"))
    domain = make_domain(source("web", seeds=[site.url("/")]))
    result = await fetch_one(domain, domain.sources[0], site.url("/a"), timeout=5)
    assert (result.status, result.reason, site.hits["/a"]) == ("gone", reasons.PRIVATE_ADDRESS, 0)


async def test_local_mode_reaches_loopback(site):
    site.add("/a", html_page("Loopback"))
    domain = make_domain(source("web", seeds=[site.url("/")]))
    result = await fetch_one(domain, domain.sources[0], site.url("/a"), timeout=5, allow_private=True)
    assert result.status == "content"


async def test_an_unguarded_client_is_refused_outside_local_mode(site):
    domain = make_domain(source("web", seeds=[site.url("/")]))
    async with httpx.AsyncClient() as plain, GuardedClient(allow_private=True) as local:
        for client in (plain, local):
            with pytest.raises(ValueError, match="GuardedClient"):
                await fetch_one(domain, domain.sources[0], site.url("/a"), client=client)


async def test_a_dns_failure_stays_the_validators_trouble(monkeypatch):
    async def no_dns(host: str, port: int) -> list[str]:
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(address, "resolve", no_dns)
    result = await refetch("http://public.example/a")
    assert (result.status, result.reason) == ("unavailable", reasons.DNS)


@pytest.mark.parametrize("text", [
    "127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.100.100.200", "192.0.0.192",
    "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255", "198.51.100.7", "::", "::1", "fe80::1", "fc00::1",
    "fd00:ec2::254", "ff02::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe",
    "2002:7f00:1::1", "2001:db8::1"])
def test_non_public_addresses_are_refused(text):
    assert refusal(ipaddress.ip_address(text)) is not None


@pytest.mark.parametrize("text", [PUBLIC, "1.1.1.1", "2606:4700:4700::1111", "::ffff:93.184.216.34"])
def test_public_addresses_are_allowed(text):
    assert refusal(ipaddress.ip_address(text)) is None
