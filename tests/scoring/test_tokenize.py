"""The spaCy-rule tokenizer gives exactly the words datatrove counts."""

from __future__ import annotations

import importlib.util
import random
import re
from pathlib import Path
from types import ModuleType

import pytest
from scoring._fast import TokenCounter

from scoring import text_rules
from scoring.tokenize import (
    _affix_tokens,
    _cut_at_infixes,
    _prefix,
    _prefix_len,
    _simple_split,
    _special,
    _split_infixes,
    _suffix,
    _suffix_len,
    analyse,
    count_sentences,
    line_sentences,
    split_words,
)


@pytest.mark.parametrize(("text", "tokens"), [
    ("Hello, world.", ["Hello", ",", "world", "."]),
    ("I don't know.", ["I", "do", "n't", "know", "."]),
    ("Use it (e.g. here).", ["Use", "it", "(", "e.g.", "here", ")", "."]),
    ("A well-known fact", ["A", "well", "-", "known", "fact"]),
    ("Costs $5.50 now", ["Costs", "$", "5.50", "now"]),
    ("See https://example.org/a?b=c.", ["See", "https://example.org/a?b=c", "."]),
    ("__init__ is special", ["_", "_", "init", "_", "_", "is", "special"]),
    ("wait... what?!", ["wait", "...", "what", "?", "!"]),
    ("I am happy :)", ["I", "am", "happy", ":)"]),
    ("", []),
])
def test_split_words_follows_spacy_rules(text: str, tokens: list[str]) -> None:
    assert split_words(text) == tokens


def test_split_words_equals_datatrove_tokens_on_the_corpus(corpus, oracle) -> None:
    mismatched = [d.id for d in corpus if split_words(d.text) != oracle[d.id].tokens]
    assert mismatched == []


def test_sentence_counts_equal_datatrove_on_corpus_lines(corpus) -> None:
    datatrove_text = pytest.importorskip("datatrove.utils.text")
    lines = [line.strip() for d in corpus[::7] for line in d.text.splitlines() if line.strip()]
    assert len(lines) > 500
    expected = [len(datatrove_text.split_into_sentences(line)) for line in lines]
    assert [line_sentences(line) for line in lines] == expected


def test_analyse_counts_words_letters_and_characters() -> None:
    words = analyse("Hello, big world! 42 ...")
    assert words.tokens == ["Hello", ",", "big", "world", "!", "42", "..."]
    assert (words.words, words.word_chars, words.alpha) == (4, 5 + 3 + 5 + 2, 3)


def test_count_sentences_starts_a_sentence_after_final_punctuation() -> None:
    assert count_sentences(split_words("One. Two! Three? (four)")) == 4
    assert count_sentences([]) == 0


def _make_text_rules() -> ModuleType:
    """tools/make_text_rules.py, a dev script outside the packages, loaded from its file."""
    path = Path(__file__).resolve().parents[2] / "tools" / "make_text_rules.py"
    spec = importlib.util.spec_from_file_location("make_text_rules", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_rules_match_the_installed_spacy_and_datatrove() -> None:
    pytest.importorskip("spacy")
    pytest.importorskip("datatrove")
    current = _make_text_rules().current_rules()
    stored = {name: getattr(text_rules, name) for name in current}
    assert stored == current, "regenerate with: python tools/make_text_rules.py"


def test_shortcuts_and_full_rules_match_spacy_on_random_chunks() -> None:
    spacy = pytest.importorskip("spacy")
    nlp = spacy.blank("en")
    rng = random.Random(1)
    alphabet = [*"abcxyzABCXYZéÉßøΩжЖ一ー()[]{}\"'“”‘’,;:!?.-_/#$%&*+=<>@0123456789…`~^|\\",
                "US$", "km", "'s", "n't", "http://", ".com", "e.g.", ":)", "...", "os.path", "a_b", ".Y", "_x", "9km"]
    chunks = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8))) for _ in range(4000)]
    mismatched = [c for c in chunks if split_words(c) != [t.text for t in nlp.tokenizer(c) if t.text.strip()]]
    assert mismatched == []


def test_simple_shortcut_agrees_with_the_full_rules_on_corpus_chunks(corpus) -> None:
    chunks = {c for d in corpus for c in d.text.split()}
    checked = 0
    for chunk in chunks:
        simple = _simple_split(chunk)
        if simple is not None and chunk not in _special:
            checked += 1
            assert simple == _affix_tokens(chunk, _special), chunk
    assert checked > 1000


@pytest.mark.parametrize("chunk", ["US$5", "C$", "A$1", "10km", "5kg.", "it's", "Bob's", "x'S", "3.14", "42"])
def test_regex_shortcuts_never_skip_a_match(chunk: str) -> None:
    assert _prefix_len(chunk) == (_prefix(chunk).end() if _prefix(chunk) else 0)
    found = _suffix(chunk)
    assert _suffix_len(chunk) == (len(chunk) - found.start() if found else 0)


def test_prefix_and_suffix_shortcuts_hold_for_ascii_letters_and_digits() -> None:
    rng = random.Random(2)
    alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    tails = ["", "$", "S$", ".", "'s", "km", "x", "²", ")", "…"]
    for _ in range(3000):
        chunk = rng.choice(alnum) + "".join(rng.choice(alnum + ".,'$") for _ in range(rng.randint(0, 4)))
        chunk += rng.choice(tails)
        assert _prefix_len(chunk) == (_prefix(chunk).end() if _prefix(chunk) else 0), chunk
        found = _suffix(chunk)
        assert _suffix_len(chunk) == (len(chunk) - found.start() if found else 0), chunk


def _plain_counts(tokens: tuple[str, ...]) -> tuple[int, int, int]:
    """The definition `TokenCounter` compiles: datatrove's words (not only punctuation), their characters, and
    the tokens with a letter."""
    punctuation = frozenset(text_rules.PUNCTUATION)
    words = [t for t in tokens if not punctuation.issuperset(t)]
    return len(words), sum(map(len, words)), sum(1 for t in tokens if any(ch.isalpha() for ch in t))


def test_compiled_token_counts_equal_their_definition(corpus) -> None:
    counter = TokenCounter(text_rules.PUNCTUATION)
    rng = random.Random(3)
    alphabet = "aZ9_.,!?-'’“”…—«»()[]{}#@%$€日本é\u0301\xa0\u2028🙂"
    samples = [tuple(split_words(doc.text)) for doc in corpus[:60]]
    samples += [tuple("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6)))
                      for _ in range(rng.randint(0, 8))) for _ in range(3000)]
    for tokens in samples:
        assert counter.counts(tokens) == _plain_counts(tokens), tokens


def _infixes_by_finditer(core: str) -> list[str]:
    """spaCy's infix split, trying the INFIX regex at every position (what `_split_infixes` shortcuts)."""
    return _cut_at_infixes(core, re.finditer(text_rules.INFIX, core))


def test_infixes_tried_at_candidate_positions_only_split_as_finditer_does(corpus) -> None:
    rng = random.Random(4)
    alphabet = [*"abzAZé日ж09.,:;<>=/+-*^~_()'\"!?#…–—©°±→😀\u2192\u00a6\u3012\U0001F600", "--", "...", "a.B", "1-2"]
    cores = {c for d in corpus for c in d.text.split()}
    cores |= {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 10))) for _ in range(20_000)}
    for core in cores:
        assert _split_infixes(core) == _infixes_by_finditer(core), core


def test_both_sentencizer_states_in_one_pass_equal_two_runs(corpus) -> None:
    from scoring.tokenize import _run_sentencizer, _transitions

    rng = random.Random(6)
    marks = ["a", "Word", ".", "!", "?", ",", "(", ")", "…", "。", "»", "1", "--"]
    samples = [tuple(split_words(doc.text)[:12]) for doc in corpus[:100]]
    samples += [tuple(rng.choice(marks) for _ in range(rng.randint(0, 6))) for _ in range(3000)]
    for tokens in samples:
        assert _transitions(tokens) == (_run_sentencizer(tokens, False), _run_sentencizer(tokens, True)), tokens
