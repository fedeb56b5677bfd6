import random
import re
import unicodedata

import pytest

from schemas import RecordError, canonical_url, normalize_text


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("https://example.com", "https://example.com/"),
        ("HTTPS://Example.COM/Path", "https://example.com/Path"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://127.0.0.1:8080/x?", "http://127.0.0.1:8080/x"),
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("https://example.com/a#section-2", "https://example.com/a"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?utm_source=x&utm_medium=y&id=3", "https://example.com/a?id=3"),
        ("https://example.com/a?fbclid=abc&gclid=def", "https://example.com/a"),
        ("https://example.com/a?ref_src=twsrc&page=2", "https://example.com/a?page=2"),
        ("https://example.com/%7Euser/a b", "https://example.com/~user/a%20b"),
        ("https://example.com./a", "https://example.com/a"),
        ("  https://example.com/a  ", "https://example.com/a"),
    ],
)
def test_canonical_url(raw, canonical):
    assert canonical_url(raw) == canonical
    assert canonical_url(canonical) == canonical  # idempotent


@pytest.mark.parametrize("bad", ["ftp://example.com/", "mailto:a@b.c", "/relative/path", "https:///nohost",
                                 "http://example.com:99999/"])
def test_bad_urls_raise_with_a_fix(bad):
    with pytest.raises(RecordError) as info:
        canonical_url(bad)
    assert info.value.hint


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("a\u00a0b", "a b"),  # no-break space
        ("a\u2009\u2003b", "a b"),  # thin and em space
        ("a\tb  c", "a b c"),
        ("line one  \r\nline two", "line one\nline two"),
        ("p1\n\n\n\n\np2", "p1\n\np2"),
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("  padded  ", "padded"),
        ("cafe\u0301", "caf\u00e9"),  # NFC
        ("a\u2028b", "a\nb"),
        ("ctrl\x07char", "ctrlchar"),
        ("soft\u00adhyphen", "softhyphen"),
        ("in\u2062visible\u2064 times", "invisible times"),
        ("bidi \u202eevil\u202c and \u200emarks\u200f", "bidi evil and marks"),
        ("tag\U000e0074\U000e0061\U000e0067s", "tags"),
        ("heart \u2764\ufe0f and \u845b\U000e0100", "heart \u2764 and \u845b"),  # variation selectors
        ("e\u200d\u0301", "\u00e9"),  # NFC after the joiner is gone: normalising again changes nothing
    ],
)
def test_normalize_text(raw, normal):
    assert normalize_text(raw) == normal
    assert normalize_text(normal) == normal


def _invisible(ch: str) -> bool:
    """A format character (Unicode Cf) or a variation selector (the Unicode property's four ranges)."""
    cp = ord(ch)
    return (unicodedata.category(ch) == "Cf" or 0x180B <= cp <= 0x180D or cp == 0x180F or 0xFE00 <= cp <= 0xFE0F
            or 0xE0100 <= cp <= 0xE01EF)


def _normalize_line_by_line(text: str) -> str:
    """The definition of `normalize_text`, one line at a time (what its whole-text passes must equal)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text)
    text = unicodedata.normalize("NFC", "".join(ch for ch in text if not _invisible(ch)))
    text = "\n".join(re.sub(r"[^\S\n]+", " ", line).strip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def test_every_format_character_of_this_python_is_dropped() -> None:
    # schemas.text freezes the Cf ranges (Unicode 15.1) so peers on different Pythons agree; a newer Python with
    # new Cf characters must fail here, since adding them is a protocol change (schemas/version.py).
    from schemas.text import FORMAT_CHARACTERS
    frozen = {cp for a, b in FORMAT_CHARACTERS for cp in range(a, b + 1)}
    cf = {cp for cp in range(0x110000) if unicodedata.category(chr(cp)) == "Cf"}
    assert cf <= frozen
    assert all(unicodedata.category(chr(cp)) in ("Cf", "Cn") for cp in frozen)  # Cn: assigned after this Python


def test_normalize_text_equals_its_line_by_line_definition() -> None:
    rng = random.Random(11)
    alphabet = ["a", "Z", "é", "e\u0301", " ", "  ", "\t", "\n", "\n\n\n", "\r\n", "\r", "\xa0", "\u2009", "\u3000",
                "\x85", "\x0b", "\x0c", "\x1c", "\x1f", "\u1680", "\u180e",
                "\u200a", "\u205f", "\u200b", "\ufeff", "\u2028", "\u2029", ".", "日",
                # format characters and variation selectors, in and beyond the BMP, and marks they would keep apart
                "\u00ad", "\u200d", "\u200e", "\u202e", "\u2062", "\u2066", "\u0600", "\ufe0f", "\u180b",
                "\U000e0041", "\U000e007f", "\U000e0100", "\U0001d173", "\U000110bd", "\u0301", "\U0001f600"]
    samples = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(5000)]
    for text in samples:
        assert normalize_text(text) == _normalize_line_by_line(text), repr(text)
