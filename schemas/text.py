"""Text normalisation and content hashing: the one definition miner and validator both use."""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Every format character (Unicode category Cf) as of Unicode 15.1, the newest a supported Python (3.13) knows:
# soft hyphen, Arabic and Syriac signs, the Mongolian vowel separator, zero-width space/joiners, bidi marks,
# embeddings and isolates, word joiner and invisible operators, BOM, interlinear annotation, Egyptian format
# controls, shorthand and musical format controls, tag characters. Frozen here rather than read from
# `unicodedata`, so miners and validators on different Pythons normalise alike (tests/schemas/test_canonical.py
# checks the running Python's Cf are all here). None of them is visible: left in, they make a copy a new text.
FORMAT_CHARACTERS: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD), (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD), (0x070F, 0x070F), (0x0890, 0x0891),
    (0x08E2, 0x08E2), (0x180E, 0x180E), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F),
    (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001), (0xE0020, 0xE007F),
)
# The variation selectors (Unicode property Variation_Selector). They are combining marks (Mn), not Cf, but just
# as invisible: they only pick a glyph (emoji or text presentation, an ideograph variant), never another word,
# and any number of them can be put inside any word. Dropped too: an emoji keeps its base character.
VARIATION_SELECTORS: tuple[tuple[int, int], ...] = (
    (0x180B, 0x180D), (0x180F, 0x180F), (0xFE00, 0xFE0F), (0xE0100, 0xE01EF),
)


def _char_class(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in ranges)


_INVISIBLE = FORMAT_CHARACTERS + VARIATION_SELECTORS
# C0 controls but tab and newline (CR is turned into newlines first), DEL, and the invisible characters above; those
# beyond the BMP in a regex of their own, run only on text that has such characters: a class mixing both scans 5x
# slower than a BMP-only one (re's bitmap then cannot be used).
_BMP = tuple(r for r in _INVISIBLE if r[1] < 0x10000)
_CONTROL = re.compile(f"[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f{_char_class(_BMP)}]")
_ASTRAL_INVISIBLE = re.compile(f"[{_char_class(tuple(r for r in _INVISIBLE if r[0] >= 0x10000))}]")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")


def normalize_text(text: str) -> str:
    """One newline style, no control, format (Unicode Cf) or variation-selector characters, then NFC, every run of
    other whitespace (NBSP, thin, ideographic spaces, tabs, ...) one ASCII space, lines stripped, at most one blank
    line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = _CONTROL.sub("", text)
    if not text.isascii() and len(text.encode("utf-16-le", "surrogatepass")) != 2 * len(text):  # beyond the BMP
        text = _ASTRAL_INVISIBLE.sub("", text)
    # NFC after the removals: "e", a joiner, "\u0301" only composes to "é" once the joiner is gone (NFC first would
    # leave a text that normalises again to something else, and a record the validator refuses as not normalised).
    text = unicodedata.normalize("NFC", text)
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
