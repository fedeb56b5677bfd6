"""Relevance of a record to its domain: weighted keyword and phrase hits, saturating, title counted extra.

    body  = sum over terms t of  weight_t * hits_t / (hits_t + K)
    title = sum over terms t of  weight_t * TITLE_WEIGHT * [t in title]
    K     = RELEVANCE_SATURATION * max(1, body_words / RELEVANCE_REF_WORDS)
    score = 1 - exp(-(body + min(title, RELEVANCE_TITLE_MAX_SHARE * body)) / RELEVANCE_SCALE)

The title is a claim the text must support: it adds at most RELEVANCE_TITLE_MAX_SHARE times the body's own credit,
and the pass/fail verdict is the body's alone, so a title full of domain terms cannot make an off-topic text
relevant.

Each term's body credit saturates at its weight, so repeating one keyword cannot buy more than that weight;
credit grows with the number of distinct domain terms. Stuffing (one term making up a large share of the body or
repeated in the title, or domain terms making up most of the body) is detected and scores 0.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from schemas import RelevanceSpec
from scoring import _fast
from scoring import constants as k

_JOINERS = "-'’"  # a word is a run of letters and digits, continued across one of these: "well-known", "don't"


@dataclass(frozen=True)
class RelevanceReport:
    """`score` in [0,1]; `reason` is "relevance:stuffing" or "relevance:below_min" when rejected."""

    score: float
    passed: bool
    reason: str | None
    stuffing: bool


@dataclass(frozen=True)
class _Term:
    words: int                  # words in the term (1 for a keyword)
    weight: float
    forms: tuple[str, ...]      # the term and its plural forms, lower-case, words joined by single spaces


def _plural_forms(term: str) -> tuple[str, ...]:
    forms = [term, term + "s", term + "es"]
    if term.endswith("y"):
        forms.append(term[:-1] + "ies")
    return tuple(forms)


@lru_cache(maxsize=256)
def _terms(keywords: tuple[tuple[str, float], ...], phrases: tuple[tuple[str, float], ...]) -> tuple[_Term, ...]:
    terms = []
    for text, weight in (*keywords, *phrases):
        normal = " ".join(_words(text))
        if normal:
            terms.append(_Term(len(normal.split(" ")), weight, _plural_forms(normal)))
    return tuple(terms)


def _spec_terms(spec: RelevanceSpec) -> tuple[_Term, ...]:
    return _terms(tuple(sorted(spec.keywords.items())), tuple(sorted(spec.phrases.items())))


def _hits(term: _Term, counts: Counter[str], padded: str) -> int:
    if term.words == 1:
        return sum([counts.get(form, 0) for form in term.forms])
    return sum(padded.count(f" {form} ") for form in term.forms)


def _words(text: str) -> list[str]:
    return _fast.words(text.lower(), _JOINERS)


def assess_relevance(title: str, text: str, spec: RelevanceSpec) -> RelevanceReport:
    """Relevance score of a record (title and body) to a domain's terms, with stuffing detection."""
    body = _words(text)
    head = _words(title)
    body_counts, head_counts = Counter(body), Counter(head)
    body_padded, head_padded = f" {' '.join(body)} ", f" {' '.join(head)} "
    n_words = max(len(body), 1)
    saturation = k.RELEVANCE_SATURATION * max(1.0, n_words / k.RELEVANCE_REF_WORDS)

    body_raw = title_raw = 0.0
    stuffing = False
    term_words = 0
    for term in _spec_terms(spec):
        hits = _hits(term, body_counts, body_padded)
        in_title = _hits(term, head_counts, head_padded)
        body_raw += term.weight * hits / (hits + saturation)
        title_raw += term.weight * k.RELEVANCE_TITLE_WEIGHT * (in_title > 0)
        term_words += hits * term.words
        if hits >= k.STUFFING_MIN_HITS and hits * term.words / n_words > k.STUFFING_SHARE:
            stuffing = True
        if in_title >= k.STUFFING_TITLE_REPEATS:
            stuffing = True
    if term_words >= k.STUFFING_MIN_HITS and term_words / n_words > k.STUFFING_TOTAL_SHARE:
        stuffing = True

    if stuffing:
        return RelevanceReport(score=0.0, passed=False, reason="relevance:stuffing", stuffing=True)
    body_score = round(1.0 - math.exp(-body_raw / k.RELEVANCE_SCALE), 6)
    if body_score < spec.min_score:  # judged on the body alone: the title cannot lift an off-topic text
        return RelevanceReport(score=body_score, passed=False, reason="relevance:below_min", stuffing=False)
    raw = body_raw + min(title_raw, k.RELEVANCE_TITLE_MAX_SHARE * body_raw)
    return RelevanceReport(score=round(1.0 - math.exp(-raw / k.RELEVANCE_SCALE), 6), passed=True, reason=None,
                           stuffing=False)
