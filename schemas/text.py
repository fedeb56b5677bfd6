"""Text normalisation and content hashing: the one definition miner and validator both use."""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Every Unicode space separator (NBSP, thin, ideographic, ...) plus tab becomes one ASCII space.
_INLINE_SPACE = re.compile(r"[^\S\n]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200d\u2060\ufeff]")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")
_LINE_EDGE_SPACE = re.compile(r" ?\n ?")


def normalize_text(text: str) -> str:
    """NFC, one newline style, no control or zero-width characters, single spaces, at most one blank line."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = _CONTROL.sub("", text)
    # Whole-text passes rather than one per line: after the inline runs become one space, a line's edges hold at
    # most one space each (`tests/schemas/test_canonical.py` checks this against stripping every line).
    text = _LINE_EDGE_SPACE.sub("\n", _INLINE_SPACE.sub(" ", text))
    return _MANY_BLANK_LINES.sub("\n\n", text).strip()


def content_hash(normalized: str) -> str:
    """sha256 hex of the normalised text (callers pass text already through `normalize_text`)."""
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


def hash_text(text: str) -> str:
    """Normalise then hash: what a record's `content_hash` must equal."""
    return content_hash(normalize_text(text))


def word_count(text: str) -> int:
    """Whitespace-separated words; the unit of the size factor and of the length bounds."""
    return len(text.split())
