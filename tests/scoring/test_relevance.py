"""Relevance: weighted terms, title counts more, saturation, stuffing scored 0, reasons."""

from __future__ import annotations

import math
import random
import re

import pytest

from schemas import DomainCatalog, RelevanceSpec
from scoring import _fast
from scoring.relevance import assess_relevance

SPEC = RelevanceSpec(keywords={"python": 1.5, "asyncio": 1.5, "module": 0.8, "package": 0.6},
                     phrases={"standard library": 1.5, "type hints": 1.5}, min_score=0.15)

ON_TOPIC = (
    "The asyncio module in the Python standard library runs coroutines on an event loop. A package that "
    "uses it can add type hints to every coroutine, and the interpreter checks nothing at run time, but tools "
    "such as mypy do. Each module of the package imports only what it needs, which keeps start-up fast. "
    "When a task blocks, the loop moves on to the next one, so a single thread serves many connections."
)
OFF_TOPIC = (
    "The river has shaped the valley for thousands of years, and the town grew up along its banks. Farmers "
    "brought their grain to the mill that stood at the bend, where the water ran fast and deep. In the spring "
    "the melting snow raised the level of the water, and the meadows were flooded for weeks at a time."
)


def test_on_topic_text_passes_and_off_topic_text_is_below_min() -> None:
    on = assess_relevance("", ON_TOPIC, SPEC)
    off = assess_relevance("", OFF_TOPIC, SPEC)
    assert on.passed and on.reason is None and on.score > 0.4
    assert (off.passed, off.reason, off.score) == (False, "relevance:below_min", 0.0)


def test_score_is_in_unit_interval_and_deterministic() -> None:
    a = assess_relevance("Python asyncio", ON_TOPIC, SPEC)
    assert 0.0 < a.score < 1.0
    assert a == assess_relevance("Python asyncio", ON_TOPIC, SPEC)


def test_a_title_the_body_supports_adds_to_its_score() -> None:
    body_only = assess_relevance("", ON_TOPIC, SPEC).score
    titled = assess_relevance("Python asyncio and type hints", ON_TOPIC, SPEC).score
    assert titled > body_only > 0


def test_a_title_stuffed_with_domain_terms_cannot_make_an_off_topic_text_relevant() -> None:
    # one of each term (no stuffing rule fires): before the cap this scored 0.99 over a text about a river
    title = "Python asyncio module package: the standard library and type hints"
    for body in (OFF_TOPIC, OFF_TOPIC + " The miller kept his accounts in a ledger."):
        report = assess_relevance(title, body, SPEC)
        assert (report.passed, report.reason) == (False, "relevance:below_min")
        assert report.score == assess_relevance("", body, SPEC).score < SPEC.min_score


def test_the_title_adds_at_most_the_bodys_own_credit() -> None:
    from scoring import constants as k
    body = OFF_TOPIC + " Python " * 3
    plain = assess_relevance("", body, SPEC)
    titled = assess_relevance("Python asyncio module package: the standard library and type hints", body, SPEC)
    raw = -k.RELEVANCE_SCALE * math.log(1 - plain.score)
    assert titled.score == pytest.approx(1 - math.exp(-raw * (1 + k.RELEVANCE_TITLE_MAX_SHARE) / k.RELEVANCE_SCALE),
                                         abs=1e-5)


def test_repeating_one_keyword_saturates() -> None:
    scores = [assess_relevance("", OFF_TOPIC + " python" * n, SPEC).score for n in (1, 3, 6)]
    assert scores[0] < scores[1] < scores[2] < 1 - 2.718281828 ** (-1.5 / 3.0)   # bounded by the term's weight


def test_distinct_terms_beat_one_repeated_term() -> None:
    repeated = assess_relevance("", OFF_TOPIC + " python python python python", SPEC).score
    distinct = assess_relevance("", OFF_TOPIC + " python asyncio module package", SPEC).score
    assert distinct > repeated


def test_keyword_stuffing_is_detected_and_scores_zero() -> None:
    stuffed = OFF_TOPIC + " " + " ".join(["python asyncio"] * 20)
    report = assess_relevance("", stuffed, SPEC)
    assert (report.score, report.passed, report.reason, report.stuffing) == (0.0, False, "relevance:stuffing", True)


def test_one_keyword_making_up_a_large_share_is_stuffing() -> None:
    report = assess_relevance("", OFF_TOPIC + " Python" * 10, SPEC)
    assert report.stuffing and report.score == 0.0


def test_keyword_repeated_in_the_title_is_stuffing() -> None:
    report = assess_relevance("python python python tutorial", ON_TOPIC, SPEC)
    assert report.stuffing and report.reason == "relevance:stuffing"


def test_phrases_and_plurals_match_case_insensitively() -> None:
    plain = assess_relevance("", OFF_TOPIC, SPEC).score
    assert assess_relevance("", OFF_TOPIC + " Type Hints help.", SPEC).score > plain
    assert assess_relevance("", OFF_TOPIC + " Two packages.", SPEC).score > plain
    assert assess_relevance("", OFF_TOPIC + " A typehints blog.", SPEC).score == plain


def test_longer_text_needs_more_hits_for_the_same_credit() -> None:
    short = assess_relevance("", "Python is used here. " + OFF_TOPIC, SPEC).score
    long = assess_relevance("", "Python is used here. " + " ".join([OFF_TOPIC] * 6), SPEC).score
    assert long < short


def test_real_documentation_is_never_called_stuffing(corpus) -> None:
    spec = DomainCatalog.load().get("python-ecosystem").relevance
    stuffed = [d.id for d in corpus if d.good and assess_relevance("", d.text, spec).stuffing]
    assert stuffed == []


@pytest.mark.parametrize(("domain", "expected"), [("python-ecosystem", True), ("world-news", False)])
def test_builtin_domains_judge_python_docs(domain: str, expected: bool, corpus) -> None:
    spec = DomainCatalog.load().get(domain).relevance
    docs = [d for d in corpus if d.kind == "prose:pydoc"]
    share = sum(assess_relevance("", d.text, spec).passed for d in docs) / len(docs)
    assert (share > 0.5) is expected


def test_compiled_word_scanner_equals_the_regular_expressions(corpus) -> None:
    rng = random.Random(9)
    alphabet = ["a", "Z", "9", "_", "-", "'", "’", "é", "日", "٣", " ", "\n", ".", "--", "''", "ß", "\u0301"]
    texts = [doc.text for doc in corpus[:80]]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25))) for _ in range(5000)]
    for text in texts:
        assert _fast.words(text, "-'’") == re.findall(r"[^\W_]+(?:[-'’][^\W_]+)*", text), repr(text)
        assert _fast.words(text, "", True) == re.findall(r"\w+", text), repr(text)
