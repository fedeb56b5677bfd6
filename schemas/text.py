"""Text normalisation and content hashing: the one definition miner and validator both use."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200d\u2060\ufeff]")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")


def normalize_text(text: str) -> str:
    """NFC, one newline style, no control or zero-width characters, every run of other whitespace (NBSP, thin,
    ideographic spaces, tabs, ...) one ASCII space, lines stripped, at most one blank line."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = _CONTROL.sub("", text)
    # str.split() splits on exactly the characters the regex \s matches: per line this is "whitespace runs become
    # one space, then strip" (tests/schemas/test_canonical.py checks it against that definition), 4x faster.
    text = "\n".join([" ".join(line.split()) for line in text.split("\n")])
    if "\n\n\n" in text:
        text = _MANY_BLANK_LINES.sub("\n\n", text)
    return text.strip()


def content_hash(normalized: str) -> str:
    """sha256 hex of the normalised text (callers pass text already through `normalize_text`)."""
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


def hash_text(text: str) -> str:
    """Normalise then hash: what a record's `content_hash` must equal."""
    return content_hash(normalize_text(text))


def word_count(text: str) -> int:
    """Whitespace-separated words; the unit of the size factor and of the length bounds."""
    return len(text.split())
