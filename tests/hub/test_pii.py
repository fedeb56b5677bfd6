"""Personal data scrub: real-looking text in both directions, an independent oracle, and the fast path's windows."""

from __future__ import annotations

import random
import re

import pytest

from hub import pii
from hub.pii import scrub

# The oracle: written apart from hub.pii, deliberately blunt (any address, any + number of 8+ digits, any
# 3-3-4 group, any public IPv4/IPv6 literal outside the documentation ranges).
ORACLE_EMAIL = re.compile(r"[^\s<>@]+@[^\s<>@]+\.[a-z]{2,}", re.I)
ORACLE_PHONE = re.compile(r"\+\d[\d ()\-.]{7,}\d|\(?\b\d{3}\)?[ .\-]\d{3}[ .\-]\d{4}\b")
ORACLE_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
DOC_NETS = ("192.0.2.", "198.51.100.", "203.0.113.", "10.", "192.168.", "127.")


def oracle_leaks(text: str) -> list[str]:
    leaks = ORACLE_EMAIL.findall(text) + ORACLE_PHONE.findall(text)
    return leaks + [ip for ip in ORACLE_IPV4.findall(text) if not ip.startswith(DOC_NETS)]


PERSONAL = [
    ("Write to jane.doe@university.edu for the slides.", "Write to <email> for the slides."),
    ("Questions: Ма́рия.Иванова@почта.рф or bob+news@mail.example.co.uk",
     "Questions: <email> or <email>"),
    ("The attacker connected from 8.8.4.4, then 2606:4700:4700::1111.",
     "The attacker connected from <ip>, then <ip>."),
    ("Call +44 20 7946 0958 or +1 (415) 555-0132 now.", "Call <phone> or <phone> now."),
    ("Office: (212) 555-0147; fax 212.555.0148.", "Office: <phone>; fax <phone>."),
    ("Tel. 030 12345678 · Mobil: 0151-23456789", "Tel. <phone> · Mobil: <phone>"),
    ("Appelez le 06 12 34 56 78 ou le +33 1 23 45 67 89.", "Appelez le <phone> ou le <phone>."),
    ("Phone: 5551234 (front desk)", "Phone: <phone> (front desk)"),
    ("Login from 81.2.69.160:22 was blocked.", "Login from <ip>:22 was blocked."),
]

UNTOUCHED = [
    "Documentation addresses: 192.0.2.15, 198.51.100.7, 203.0.113.200 and 2001:db8::1 (RFC 5737, RFC 3849).",
    "Set the gateway to 192.168.1.1, the DNS to 10.0.0.53 and test with ping 127.0.0.1 or ::1.",
    "Python 3.11.7 fixes it; upgrade to version 1.2.3.4, or pin foo==1.2.3.4 (see § 4.2.1.3).",
    "Released on 2024-01-15 at 12:30:45 UTC (15/01/2024, 01.15.2024).",
    "ISBN 978-3-16-148410-0 and ISBN-10 0-306-40615-2; doi:10.1000/182; doi 10.48550/arXiv.2301.12345.",
    "arXiv:2301.12345v2 and hep-th/9901001 were cited 1,234 times.",
    "The summit sits at 46.8523, -121.7603 (46°51′08″N 121°45′37″W).",
    "Prices: $1,234.56, €99.99, ¥12,000 and 1 234 567,89 zł; population 8,336,817.",
    "In C++ use std::vector<int> and a::b; the clock read 23:59:59.999.",
    "A decorator @property and a handle @glean_dev are not addresses; neither is a@b.",
    "Paypal, Аpple and Gооgle (Cyrillic А, о) stay as they are; so does the soft\u00adhyphen and e\u0301.",
    "Serial 123456789 and the order 00010203-0405-0607 are numbers, not phones.",
]


@pytest.mark.parametrize(("text", "expected"), PERSONAL, ids=[p[0][:30] for p in PERSONAL])
def test_personal_data_is_replaced_with_placeholders(text, expected):
    out = scrub(text)

    assert out.text == expected
    assert out.replacements == expected.count("<email>") + expected.count("<ip>") + expected.count("<phone>")
    assert oracle_leaks(out.text) == []


@pytest.mark.parametrize("text", UNTOUCHED, ids=[t[:30] for t in UNTOUCHED])
def test_what_is_not_personal_data_is_left_untouched(text):
    out = scrub(text)

    assert out.text == text and out.replacements == 0


def test_counts_are_per_kind():
    out = scrub("a@b.org, c@d.net, 8.8.8.8 and +49 30 1234 5678")

    assert (out.emails, out.ips, out.phones) == (2, 1, 1)


def test_look_alikes_next_to_personal_data_survive():
    text = "Раураl support (Cyrillic) — write to help@paypal.com, not to Рayраl."

    out = scrub(text)

    assert out.text == "Раураl support (Cyrillic) — write to <email>, not to Рayраl."


def _whole_text(text: str) -> str:
    """The reference: every exact pattern over the whole text, no shape, no windows."""
    spans = [(m.start(), m.end(), pii.EMAIL) for m in pii.EMAIL_RE.finditer(text)]
    text = pii._apply(text, spans).text
    spans = [(m.start(), m.end(), pii.IP) for m in pii.IPV4_RE.finditer(text)
             if pii.public_ip(m.group(0)) and not pii._version_context(text, m.start())]
    spans += [(m.start(), m.end(), pii.IP) for m in pii.IPV6_RE.finditer(text) if pii.public_ip(m.group(0))]
    spans += [(m.start(), m.end(), pii.PHONE) for m in pii.PHONE_RE.finditer(text)
              if pii._phone_digits_ok(m.group(0), pii._phone_minimum(m.group(0)))]
    spans += [(m.start("number"), m.end("number"), pii.PHONE) for m in pii.KEYWORD_PHONE_RE.finditer(text)
              if pii._phone_digits_ok(m.group("number"), 7)]
    return pii._apply(text, spans).text


def test_the_windowed_search_finds_what_a_whole_text_search_finds():
    rng = random.Random(17)
    pieces = [p for p, _ in PERSONAL] + UNTOUCHED + ["word", "the", "  ", ", ", "tel", "x", "7", "2001:", "0",
                                                    "+", "(", ")", "-", ".", "@", "é", "12", "555", "fax:"]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) + rng.choice(["", " "]) for _ in range(rng.randint(1, 12)))
        assert scrub(text).text == _whole_text(text), text
