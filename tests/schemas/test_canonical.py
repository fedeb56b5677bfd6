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
    ],
)
def test_normalize_text(raw, normal):
    assert normalize_text(raw) == normal
    assert normalize_text(normal) == normal


def _normalize_line_by_line(text: str) -> str:
    """The definition of `normalize_text`, one line at a time (what its whole-text passes must equal)."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200d\u2060\ufeff]", "", text)
    text = "\n".join(re.sub(r"[^\S\n]+", " ", line).strip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def test_normalize_text_equals_its_line_by_line_definition() -> None:
    rng = random.Random(11)
    alphabet = ["a", "Z", "é", "e\u0301", " ", "  ", "\t", "\n", "\n\n\n", "\r\n", "\r", "\xa0", "\u2009", "\u3000",
                "\x85", "\x0b", "\x0c", "\x1c", "\x1f", "\u1680", "\u180e",
                "\u200a", "\u205f", "\u200b", "\ufeff", "\u2028", "\u2029", ".", "日"]
    samples = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(5000)]
    for text in samples:
        assert normalize_text(text) == _normalize_line_by_line(text), repr(text)
