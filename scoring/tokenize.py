"""English word and sentence splitting with spaCy's rules, without spaCy: the words the quality signals count.

datatrove's Gopher and FineWeb filters count the tokens of `spacy.blank("en")` (punctuation included), so our
signals split the same way to agree with them. This is a port of spaCy's affix algorithm (`Tokenizer._split_affixes`
and `_attach_tokens`) over the rules in `scoring/text_rules.py`. Whitespace-separated chunks repeat a lot
(Zipf), so each chunk's split is memoised: a document costs about one dict lookup per word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter

from scoring import _fast
from scoring import text_rules as _rules

# Every prefix alternative is anchored with "^": `match` finds what spaCy's `search` finds, without scanning.
_prefix = re.compile(_rules.PREFIX).match
_suffix_re = re.compile(_rules.SUFFIX)
_SUFFIX_WINDOW = 12  # longer than any suffix but a run of dots; lookbehinds still see the text before the window
_infix_re = re.compile(_rules.INFIX)
_infixes, _infix_at = _infix_re.finditer, _infix_re.match
# Where an infix can start: every INFIX alternative consumes one of these ASCII marks or a non-ASCII character
# first (checked in tests/scoring/test_tokenize.py), so the regex is tried there only, not at every position.
_infix_starts = re.compile(r"[.+\-*^,~:<>=/]|[^\x00-\x7f]").finditer
_url = re.compile(_rules.URL).match
_special: dict[str, tuple[str, ...]] = _rules.SPECIAL_CASES


def _suffix(chunk: str) -> re.Match[str] | None:
    """spaCy's suffix search, looking only at the end of the chunk (every alternative is anchored with "$")."""
    start = len(chunk) - _SUFFIX_WINDOW
    if start <= 0:
        return _suffix_re.search(chunk)
    found = _suffix_re.search(chunk, start)
    if found is not None and found.start() == start:
        return _suffix_re.search(chunk)  # the match may reach further left than the window
    return found


# Shortcuts around the regexes (checked against spaCy in tests/scoring/test_tokenize.py): most affixes are one
# mark whatever surrounds it, which the generated PREFIX_CHARS / SUFFIX_CHARS tables give directly; a chunk
# ending in an ASCII letter or digit has a suffix only as "'s" or as a unit after a digit ("10km"); ASCII infixes
# need one of . + - * ^ , ~ : < > = /; a URL needs a dot.
_PREFIX_CHARS: dict[str, int] = _rules.PREFIX_CHARS
_SUFFIX_CHARS: dict[str, int] = _rules.SUFFIX_CHARS
_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_POSSESSIVES = ("'s", "'S", "’s", "’S")
_has_digit = re.compile(r"[0-9]").search
_infix_trigger = re.compile(r"[.+\-*^,~:<>=/]").search


def _prefix_len(chunk: str) -> int:
    known = _PREFIX_CHARS.get(chunk[0])
    if known is not None:
        return known
    found = _prefix(chunk)
    return found.end() if found else 0


def _suffix_len(chunk: str) -> int:
    last = chunk[-1]
    if last in _ASCII_ALNUM:
        if not chunk.endswith(_POSSESSIVES) and not _has_digit(chunk):
            return 0
    else:
        known = _SUFFIX_CHARS.get(last)
        if known is not None:
            return known
    found = _suffix(chunk)
    return len(chunk) - found.start() if found else 0


_SENTENCE_PUNCT = frozenset(_rules.SENTENCE_PUNCT)
_PUNCTUATION = frozenset(_rules.PUNCTUATION)
_counter = _fast.TokenCounter(_PUNCTUATION)

# Memo of chunk -> split; cleared when full so memory stays bounded (the split is a pure function).
_MEMO_MAX = 200_000


def _strip_affixes(chunk: str, prefixes: list[str], suffixes: list[str], specials: dict) -> str:
    """Peel prefixes and suffixes off `chunk` until a special case or nothing more matches (spaCy order)."""
    last = -1
    while chunk and len(chunk) != last:
        if chunk in specials:
            break
        last = len(chunk)
        pre_len = _prefix_len(chunk)
        if pre_len:
            minus_pre = chunk[pre_len:]
            if minus_pre and minus_pre in specials:
                prefixes.append(chunk[:pre_len])
                return minus_pre
        suf_len = _suffix_len(chunk[pre_len:]) if len(chunk) > pre_len else 0
        if suf_len:
            minus_suf = chunk[:-suf_len]
            if minus_suf and minus_suf in specials:
                suffixes.append(chunk[-suf_len:])
                return minus_suf
        if pre_len and suf_len and pre_len + suf_len <= len(chunk):
            prefixes.append(chunk[:pre_len])
            suffixes.append(chunk[-suf_len:])
            chunk = chunk[pre_len:-suf_len]
        elif pre_len:
            prefixes.append(chunk[:pre_len])
            chunk = chunk[pre_len:]
        elif suf_len:
            suffixes.append(chunk[-suf_len:])
            chunk = chunk[:-suf_len]
        if chunk in specials:
            break
    return chunk


def _split_infixes(core: str) -> list[str]:
    if core.isascii() and not _infix_trigger(core):
        return [core]
    return _cut_at_infixes(core, _infix_matches(core))


def _infix_matches(core: str) -> Iterator[re.Match[str]]:
    """What `_infixes(core)` finds, trying the regex only where an infix can start."""
    resume = 0
    for candidate in _infix_starts(core):
        at = candidate.start()
        if at < resume:
            continue
        match = _infix_at(core, at)
        if match is not None:
            resume = match.end()  # what `finditer` does: the next match starts after this one (none is empty)
            yield match


def _cut_at_infixes(core: str, matches: Iterable[re.Match[str]]) -> list[str]:
    """spaCy's infix split: the pieces between the infix matches and the infixes themselves (none at 0)."""
    out: list[str] = []
    start = 0
    for match in matches:
        if match.start() == 0:
            continue
        if match.start() != start:
            out.append(core[start:match.start()])
        if match.start() != match.end():
            out.append(core[match.start():match.end()])
        start = match.end()
    if core[start:]:
        out.append(core[start:])
    return out


def _affix_tokens(chunk: str, specials: dict[str, tuple[str, ...]]) -> list[str]:
    """spaCy's `_tokenize_affixes` for one whitespace-free chunk, honouring the given special cases."""
    special = specials.get(chunk)
    if special is not None:
        return list(special)
    prefixes: list[str] = []
    suffixes: list[str] = []
    core = _strip_affixes(chunk, prefixes, suffixes, specials)
    middle: list[str] | tuple[str, ...]
    if not core:
        middle = []
    elif core in specials:
        middle = specials[core]
    elif "." in core and _url(core):
        middle = [core]
    else:
        middle = _split_infixes(core)
    return [*prefixes, *middle, *reversed(suffixes)]


def _matcher_patterns() -> dict[tuple[str, ...], str]:
    """Special cases that affix splitting breaks apart (e.g. the emoticon "):"), keyed by the pieces it leaves;
    spaCy's `_special_matcher` glues those pieces back together."""
    patterns = {}
    for key in _special:
        if _prefix(key) or _suffix(key) or next(_infixes(key), None) or " " in key:
            patterns[tuple(_affix_tokens(key, {}))] = key
    return patterns


_patterns = _matcher_patterns()
_pattern_starts = frozenset(p[0] for p in _patterns)
_pattern_prefixes = frozenset(p[:n] for p in _patterns for n in range(1, len(p) + 1))
_longest_pattern = max(len(p) for p in _patterns)


def _apply_matcher(tokens: list[str]) -> list[str]:
    """Replace the longest non-overlapping runs of tokens that spell a special case by its tokens."""
    if _pattern_starts.isdisjoint(tokens):
        return tokens
    n = len(tokens)
    found = []
    for i in range(n):
        if tokens[i] not in _pattern_starts:
            continue
        for j in range(i + 1, min(n, i + _longest_pattern) + 1):
            window = tuple(tokens[i:j])
            if window not in _pattern_prefixes:
                break  # no longer window from i can spell a pattern either
            key = _patterns.get(window)
            if key is not None:
                found.append((i, j, key))
    if not found:
        return tokens
    found.sort(key=lambda m: (m[1] - m[0], -m[0]))  # spaCy: longest first, then leftmost
    seen: set[int] = set()
    kept = []
    for start, end, key in reversed(found):
        if start not in seen and end - 1 not in seen:
            kept.append((start, end, key))
        seen.update(range(start, end))
    out: list[str] = []
    pos = 0
    for start, end, key in sorted(kept):
        out.extend(tokens[pos:start])
        out.extend(_special[key])
        pos = end
    out.extend(tokens[pos:])
    return out


# Most chunks are a word with a few plain opening/closing marks: "(word", "word,", "word).", "“word”", "it's",
# "well-known", "1999.". For those spaCy's rules reduce to splitting each mark (and "'s", and the hyphens between
# letters) off, which `_simple_split` does without the affix machinery. tests/scoring/test_tokenize.py checks the
# shortcut against the full rules on every chunk of the corpus and on random strings.
_SIMPLE = re.compile(
    r"([(\[\"“‘'`*_]*)"                                        # opening marks
    r"([^\W\d_]+"                                              # a word,
    r"|[A-Za-z]+(?:-[A-Za-z]+)+"                                # a hyphenated word,
    r"|[A-Za-z]+(?:_+[A-Za-z]+)+"                               # a snake_case name,
    r"|[a-z]+(?:_+[a-z]+)*(?:\.[a-z]+(?:_+[a-z]+)*)+"           # a dotted lower-case name,
    r"|[0-9]+)"                                                 # or a number
    r"((?:['’][sS])?)"                                         # possessive 's
    r"([)\]\"”’',;:!?.(`*_]*)")                                # closing marks
_CLOSERS = frozenset(")]\"”’',;:!?(`*_")
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")


def _simple_split(chunk: str) -> list[str] | None:
    """The tokens of a word or number wrapped in plain marks, or None when the chunk needs the full rules."""
    found = _SIMPLE.fullmatch(chunk)
    if found is None:
        return None
    opening, word, possessive, closing = found.groups()
    previous = (possessive or word)[-1]
    for mark in closing:
        # spaCy splits a final "." only after a lower-case letter, a digit or a mark; ".." is an ellipsis
        if mark == "." and not (previous in _LOWER or previous in _CLOSERS or previous.isdigit()):
            return None
        previous = mark
    start, end = len(opening), len(opening) + len(word)
    for i in range(start + 1):       # a special case met while peeling the marks off takes over
        for j in range(end, len(chunk) + 1):
            if chunk[i:j] in _special:
                return None
    parts = word.replace("-", " - ").split(" ") if "-" in word else [word]
    return [*opening, *parts, *([possessive] if possessive else []), *closing]


def _split_chunk(chunk: str) -> tuple[str, ...]:
    if chunk in _special:
        tokens: list[str] | tuple[str, ...] = _special[chunk]
    elif chunk.isalpha():
        return (chunk,)  # no prefix, suffix or infix rule matches letters only
    else:
        tokens = _simple_split(chunk) or _affix_tokens(chunk, _special)
    tokens = _apply_matcher(list(tokens))
    return tuple(t for t in (s.strip() for s in tokens) if t)


@dataclass(frozen=True, slots=True)
class Words:
    """The tokens of a text and the counts the quality rules need (datatrove's definitions).

    `words` counts tokens with a character outside datatrove's punctuation set, `word_chars` their total length,
    `alpha` the tokens (punctuation included) with at least one letter."""

    tokens: list[str]
    words: int
    word_chars: int
    alpha: int


# The sentencizer is a two-state machine over tokens (state: "a sentence-final mark was seen"). For each chunk we
# keep, per entering state, (new sentences started, leaving state), so a line is counted chunk by chunk.
_Transitions = tuple[tuple[int, bool], tuple[int, bool]]
# A chunk's tokens, its contribution to the counts of `Words` packed into one int (words | chars << 21 |
# alpha << 42: a document has fewer than 2**21 of each, so one C-level sum adds all three), its sentencizer
# transitions, and their kind: "w" (a word: starts a sentence after a final mark), "e" (a word ending a sentence,
# "end."), "o" (anything else).
_Split = tuple[tuple[str, ...], int, _Transitions, str]
_WORD_LIKE = ((0, False), (1, False))
_ENDS_SENTENCE = ((0, True), (1, True))
_FIELD = 21
_MASK = (1 << _FIELD) - 1
_memo: dict[str, _Split] = {}


@lru_cache(maxsize=65_536)
def _is_punct(token: str) -> bool:
    return all(unicodedata.category(ch).startswith("P") for ch in token)


def _run_sentencizer(tokens: tuple[str, ...] | list[str], seen_end: bool) -> tuple[int, bool]:
    """New sentences started within `tokens` and the final state, from the given state."""
    started = 0
    for token in tokens:
        is_end = token in _SENTENCE_PUNCT
        if seen_end and not is_end and not _is_punct(token):
            started += 1
            seen_end = False
        elif is_end:
            seen_end = True
    return started, seen_end


def _transitions(tokens: tuple[str, ...]) -> _Transitions:
    """`(_run_sentencizer(tokens, False), _run_sentencizer(tokens, True))` in one pass."""
    started_off = started_on = 0
    end_off, end_on = False, True
    for token in tokens:
        if token in _SENTENCE_PUNCT:
            end_off = end_on = True
        elif (end_off or end_on) and not _is_punct(token):
            started_off += end_off
            started_on += end_on
            end_off = end_on = False
    return (started_off, end_off), (started_on, end_on)


def _count(tokens: tuple[str, ...]) -> _Split:
    words, chars, alpha = _counter.counts(tokens)
    transitions = _transitions(tokens)
    kind = "w" if transitions == _WORD_LIKE else "e" if transitions == _ENDS_SENTENCE else "o"
    return tokens, words | chars << _FIELD | alpha << 2 * _FIELD, transitions, kind


def _split(chunk: str) -> _Split:
    found = _memo.get(chunk)
    if found is None:
        found = _count(_split_chunk(chunk))
        if len(_memo) >= _MEMO_MAX:
            _memo.clear()
        _memo[chunk] = found
    return found


def split_words(text: str) -> list[str]:
    """Tokens of `text` as datatrove's English word tokenizer returns them (punctuation tokens included)."""
    out: list[str] = []
    for chunk in text.split():
        out.extend(_split(chunk)[0])
    return out


def count_sentences(words: list[str]) -> int:
    """Sentences spaCy's sentencizer finds in these tokens: a new one starts at the first non-punctuation token
    after a sentence-final mark."""
    return 1 + _run_sentencizer(words, False)[0] if words else 0


def analyse(text: str) -> Words:
    """Tokens and word counts of `text` (C-level passes over the memoised chunks)."""
    tokens, packed = _fast.analyse_chunks(text, _memo, _split)
    return Words(tokens, packed & _MASK, packed >> _FIELD & _MASK, packed >> 2 * _FIELD)


def line_sentences(line: str) -> int:
    """Sentences spaCy's sentencizer finds in one line (memoised per chunk: no re-tokenising)."""
    chunks = line.split()
    found = list(map(_memo.get, chunks))
    if None in found:
        found = [f or _split(c) for f, c in zip(found, chunks, strict=True)]
    kinds = "".join(map(itemgetter(3), found))
    if "o" not in kinds:   # words and sentence ends only: a sentence starts after every end but the last
        return 1 + kinds.count("e", 0, len(kinds) - 1) if kinds else 0
    sentences = 0
    seen_end = False
    for tokens, _, transitions, _ in found:
        if tokens:
            started, seen_end = transitions[seen_end]
            sentences += started + (sentences == 0)
    return sentences
