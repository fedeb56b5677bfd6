"""Personal data planted in the sample web, and look-alikes beside it that must survive a scrub.

Every PLANT_EVERY-th language and standard-library page ends with an errata paragraph, as documentation sites
thank the people who report mistakes: their e-mail addresses, phone numbers and the public IP addresses the reports
came from (what a release must not publish), next to Cyrillic and Greek words of real multilingual prose,
documentation addresses (RFC 5737 / RFC 3849), version strings, dates and an ISBN (what a release must keep as is).
Tests read the planted values from here and check a release against them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from glean.sampleweb.constants import AREA_LANGUAGE, AREA_STDLIB, PLANT_EVERY
from glean.sampleweb.corpus import Article, Block

ERRATA_HEADING = "Errata and thanks"
# Look-alikes: none of these may change in a published release.
LOOKALIKES = ("функция", "συνάρτηση", "Привет", "λάμδα", "3.11.4", "23.2.1", "2024-03-15", "978-0-596-15806-4",
              "192.0.2.15", "198.51.100.7", "2001:db8::7", "10.0.0.12", "127.0.0.1")


def personal_data(k: int) -> dict[str, tuple[str, ...]]:
    """The e-mail addresses, phone numbers and public IP addresses of errata paragraph `k`."""
    return {
        "emails": (f"jane.roe{k}@pyerrata.org", f"petr.novak{k}@seznam.cz"),
        "phones": (f"+1 415 555 {100 + k:04d}", f"020 7946 {k % 10000:04d}"),
        "ips": (f"81.2.69.{100 + k % 150}", f"2a03:2880:f10c:{k:x}:face:b00c:0:25de"),
    }


def errata_block(k: int) -> Block:
    """Errata paragraph `k`: planted personal data in multilingual prose with look-alikes around it."""
    pd = personal_data(k)
    return Block("p", (
        f"Errata for this page were reported by Jane Roe ({pd['emails'][0]}, phone {pd['phones'][0]}) from the "
        f"address {pd['ips'][0]}, and by Petr Novák ({pd['emails'][1]}, {pd['phones'][1]}) from "
        f"{pd['ips'][1]}. Translators keep the word «функция» in the Russian edition, greet readers with «Привет», "
        "and write «συνάρτηση» and «λάμδα» in the Greek one. This page describes Python 3.11.4 as installed with "
        "pip 23.2.1 on 2024-03-15 (see ISBN 978-0-596-15806-4); its examples use the documentation addresses "
        "192.0.2.15, 198.51.100.7 and 2001:db8::7, a private server at 10.0.0.12 and the loopback address "
        "127.0.0.1."))


def planted_keys(articles: Iterable[Article]) -> list[str]:
    """Keys of the articles that carry an errata paragraph, in order (paragraph k goes to the k-th of them)."""
    eligible = [a for a in articles if a.area in (AREA_LANGUAGE, AREA_STDLIB)]
    return [a.key for a in eligible[PLANT_EVERY - 1::PLANT_EVERY]]


def plant(articles: list[Article]) -> list[Article]:
    """`articles` with errata paragraphs added to every PLANT_EVERY-th language and standard-library page."""
    chosen = {key: k for k, key in enumerate(planted_keys(articles))}
    return [replace(a, blocks=(*a.blocks, Block("h2", ERRATA_HEADING), errata_block(chosen[a.key])))
            if a.key in chosen else a for a in articles]


def all_personal_data(count: int) -> dict[str, set[str]]:
    """Every planted e-mail address, phone number and IP address of the first `count` errata paragraphs."""
    out: dict[str, set[str]] = {"emails": set(), "phones": set(), "ips": set()}
    for k in range(count):
        for kind, values in personal_data(k).items():
            out[kind].update(values)
    return out
