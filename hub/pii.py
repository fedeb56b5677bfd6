"""Personal data scrub at publishing: e-mail addresses, public IP addresses and phone numbers become placeholders.

A pure function of the text. E-mail and IPv4 patterns follow datatrove's `PIIFormatter` (written here again: hub does
not import datatrove at run time); datatrove has no phone pattern, so ours is hand-written (`phonenumbers` needs a
region to read national numbers and would cost more per document than the rest of publishing). Left alone on purpose:
- IP addresses that identify nobody: documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
  2001:db8::/32), private, loopback, link-local and other reserved ranges (datatrove's `only_remove_public_ips`):
  they fill tutorials and manuals and point at no person;
- dotted numbers after a version or section word ("version 1.2.3.4", "§ 1.2.3.4") or an operator (`pkg==1.2.3.4`);
- dates, times, ISBNs, DOIs, arXiv ids, coordinates, prices: a phone needs a phone's shape (an international `+`
  prefix, North American 3-3-4 groups, a national trunk `0`, or a word such as "tel" just before it).
Only matched spans change; every other character (look-alike letters included) is kept as it is.

Speed: the patterns are never run over a whole text. A shape of the text (one byte per character: ASCII digits -> 0,
hex letters -> a, separators kept) is searched for cheap candidates with literal-led patterns, and the exact patterns
run only on a window around each candidate (`tests/hub/test_pii.py` checks this finds what a whole-text pass finds).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from hub import constants

EMAIL = "<email>"
IP = "<ip>"
PHONE = "<phone>"

_LOCAL = r"[\w\u0300-\u036f!#$%&'*+/=?^`{|}~-]"  # combining accents belong to the letter before them
# datatrove's e-mail pattern, widened to Unicode word characters (internationalised addresses, RFC 6531) so a
# look-alike letter cannot hide an address; the top-level label starts with a letter.
EMAIL_RE = re.compile(
    rf"(?<![\w\u0300-\u036f.!#$%&'*+/=?^`{{|}}~-]){_LOCAL}+(?:\.{_LOCAL}+)*"
    r"@(?:(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_](?:[\w-]*[^\W_])?"
    r"|\[(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\])")
_LOCAL_PART_RE = re.compile(rf"{_LOCAL}+(?:\.{_LOCAL}+)*")
_DOMAIN_RE = re.compile(EMAIL_RE.pattern.split("@", 1)[1])
_LOCAL_BOUNDARY_RE = re.compile(r"[\w\u0300-\u036f.!#$%&'*+/=?^`{|}~-]")  # what may not stand just before an address
_LOCAL_REACH = 256  # RFC 5321 allows 64 characters; longer runs are still caught up to this many
# Numbers glued to letters, digits, dots or operators (1.2.3.4.5, v1.2.3.4, pkg==1.2.3.4) are not addresses.
IPV4_RE = re.compile(r"(?<![\w.=<>~^])[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?![\w]|\.[0-9])")
# Addresses in real use are global unicast (2000::/3: a first group of four hex digits starting with 2 or 3);
# anything else the loose shape matches is code (`a::b`), a clock or a reserved address.
IPV6_RE = re.compile(r"(?<![\w:.])[23][0-9A-Fa-f]{3}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
PHONE_RE = re.compile(
    # international: + country code, then groups (PHONE_MIN_DIGITS..PHONE_MAX_DIGITS digits, checked after)
    r"(?<![\w+])\+[0-9]{1,3}(?:[ .\-]?(?:\([0-9]{1,4}\)|[0-9]{1,4})){2,6}(?![\w\-]|[.,][0-9])"
    # North American: (415) 555-0132, 415-555-0132, 415.555.0132 (area code and exchange start with 2-9)
    r"|(?<![\w.\-+/])(?:\([2-9][0-9][0-9]\)|[2-9][0-9][0-9])[ .\-][2-9][0-9][0-9][ .\-][0-9]{4}(?![\w\-]|[.,][0-9])"
    # national with a trunk 0: 030 1234 5678, 020 7946 0958, 06 12 34 56 78, 089/1234567
    r"|(?<![\w.,\-+/])0[0-9]{1,4}[ /\-][0-9]{2,8}(?:[ \-][0-9]{2,8}){0,3}(?![\w\-]|[.,][0-9])")
# After a word that announces a phone number, a run of digits with the usual separators is one.
KEYWORD_PHONE_RE = re.compile(
    r"(?i)\b(?:tel|telephone|phone|fax|mobile|mob|cell|call(?: us)?(?: at| on)?|whatsapp|sms|telefon|téléphone|tél)"
    r"\b\.?(?:\s{0,3}\([^)\n]{0,12}\))?\s{0,3}[:.\-]?\s{0,3}(?:no\.?\s{0,3})?"
    r"(?P<number>\+?\(?[0-9][0-9 ()./\-]{5,22}[0-9])(?![\w\-])")
_PHONE_WORDS = ("tel", "phone", "fax", "mob", "cell", "call", "whatsapp", "sms", "tél")
_VERSION_CONTEXT_RE = re.compile(
    r"(?i)(?:\b(?:version|ver|vers|release|build|firmware|rev|revision|patch|update|kernel|driver|python|java|node"
    r"|section|sec|chapter|figure|fig|table|step|rule|clause|article|art|paragraph|para|item|appendix|v)|§)"
    r"\s*\.?\s*[:#=]?\s*$")

# The shape: one byte per character (non-ASCII -> '?' -> 'x'), so shape offsets are text offsets.
_SHAPE = bytearray(b"x" * 256)
for _c in b"0123456789":
    _SHAPE[_c] = ord("0")
for _c in b"abcdefABCDEF":
    _SHAPE[_c] = ord("a")
for _c in b".:+()-/ ":
    _SHAPE[_c] = _c
_SHAPE = bytes(_SHAPE)
_IPV6_CANDIDATE = re.compile(rb":[0a]{0,4}:")  # led by a literal ':': cheap to search
# Every phone and every IPv4 address lies in a run of 7+ characters of digits and separators that starts and ends
# with a digit.
_RUN_CANDIDATE = re.compile(rb"0[0 .()\-/+]{5,}0")
# Window margins around a candidate: an IPv6 address starts at most 4 characters before its first colon and spans
# at most 39; a phone may start 2 characters ('+(') before a run; look-aheads read 2 characters past a match; a
# phone word stands at most KEYWORD_REACH characters before its number.
_IPV6_BEFORE, _IPV6_SPAN = 4, 4 + 39 + 2
_PHONE_BEFORE, _RUN_AFTER = 2, 2
_KEYWORD_REACH = 48
_ANY_CANDIDATE = re.compile(r"[0-9@]")  # every kind needs an ASCII digit or an '@'


@dataclass(frozen=True)
class Scrubbed:
    """The text with placeholders, and how many of each kind were replaced."""

    text: str
    emails: int = 0
    ips: int = 0
    phones: int = 0

    @property
    def replacements(self) -> int:
        return self.emails + self.ips + self.phones


def _version_context(text: str, start: int) -> bool:
    return _VERSION_CONTEXT_RE.search(text, max(0, start - constants.PII_CONTEXT_CHARS), start) is not None


def public_ip(span: str) -> bool:
    """True for an address that can point at a machine someone uses (globally routable, not documentation)."""
    try:
        return ipaddress.ip_address(span).is_global
    except ValueError:
        return False


def _phone_digits_ok(span: str, minimum: int) -> bool:
    return minimum <= sum(ch.isdigit() for ch in span) <= constants.PHONE_MAX_DIGITS


def _phone_minimum(span: str) -> int:
    if span.startswith("+"):
        return constants.PHONE_MIN_DIGITS
    return constants.PHONE_NATIONAL_MIN_DIGITS if span.startswith("0") else constants.PHONE_MIN_DIGITS


def _emails(text: str) -> list[tuple[int, int, str]]:
    """EMAIL_RE's matches, found from each '@': the local part read backwards (its pattern reads the same both
    ways), the domain forwards. A whole-text search costs ~100 us on 2 KB; this costs ~1 us per '@'."""
    spans = []
    at = text.find("@")
    while at >= 0:
        domain = _DOMAIN_RE.match(text, at + 1)
        if domain is not None:
            lo = max(0, at - _LOCAL_REACH)
            local = _LOCAL_PART_RE.match(text[lo:at][::-1])
            start = at - (local.end() if local else 0)
            if local and (start == 0 or not _LOCAL_BOUNDARY_RE.match(text, start - 1)):
                spans.append((start, domain.end(), EMAIL))
        at = text.find("@", at + 1)
    return spans


def _ipv4(text: str, lo: int, hi: int) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), IP) for m in IPV4_RE.finditer(text, lo, hi)
            if public_ip(m.group(0)) and not _version_context(text, m.start())]


def _ipv6(text: str, shape: bytes) -> list[tuple[int, int, str]]:
    spans = []
    for cand in _IPV6_CANDIDATE.finditer(shape):
        lo = max(0, cand.start() - _IPV6_BEFORE)
        spans += [(m.start(), m.end(), IP) for m in IPV6_RE.finditer(text, lo, min(len(text), lo + _IPV6_SPAN))
                  if public_ip(m.group(0))]
    return spans


def _phones(text: str, lo: int, hi: int) -> list[tuple[int, int, str]]:
    spans = [(m.start(), m.end(), PHONE) for m in PHONE_RE.finditer(text, max(0, lo - _PHONE_BEFORE), hi)
             if _phone_digits_ok(m.group(0), _phone_minimum(m.group(0)))]
    before = max(0, lo - _KEYWORD_REACH)
    lowered = text[before:lo].lower()
    if any(word in lowered for word in _PHONE_WORDS):
        spans += [(m.start("number"), m.end("number"), PHONE) for m in KEYWORD_PHONE_RE.finditer(text, before, hi)
                  if _phone_digits_ok(m.group("number"), constants.PHONE_KEYWORD_MIN_DIGITS)]
    return spans


def _numbers(text: str, shape: bytes) -> list[tuple[int, int, str]]:
    """IP addresses and phone numbers: each lies in a run of 7+ digits and separators (IPv4 too: 0.0.0.0),
    but for IPv6, which has its own candidates."""
    spans = _ipv6(text, shape)
    for run in _RUN_CANDIDATE.finditer(shape):
        hi = min(len(text), run.end() + _RUN_AFTER)
        spans += _ipv4(text, run.start(), hi) + _phones(text, run.start(), hi)
    return spans


def _apply(text: str, spans: list[tuple[int, int, str]]) -> Scrubbed:
    out, counts, at = [], {EMAIL: 0, IP: 0, PHONE: 0}, 0
    for start, end, placeholder in sorted(spans, key=lambda s: (s[0], -s[1])):
        if start < at:
            continue  # overlaps a span already replaced (e.g. a phone found both by shape and after "tel")
        out += [text[at:start], placeholder]
        counts[placeholder] += 1
        at = end
    out.append(text[at:])
    return Scrubbed("".join(out), counts[EMAIL], counts[IP], counts[PHONE])


def scrub(text: str) -> Scrubbed:
    """`text` with e-mail addresses, public IP addresses and phone numbers replaced by `<email>`, `<ip>`, `<phone>`."""
    if _ANY_CANDIDATE.search(text) is None:  # most titles: no digit, no '@'
        return Scrubbed(text)
    emails = _emails(text)
    if emails:  # an address's digits are not also a phone or an IP
        text = _apply(text, emails).text
    shape = text.encode("ascii", "replace").translate(_SHAPE)
    numbers = _numbers(text, shape)
    if not numbers:
        return Scrubbed(text, len(emails))
    found = _apply(text, numbers)
    return Scrubbed(found.text, len(emails), found.ips, found.phones)
