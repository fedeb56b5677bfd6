"""The identity form: a copy disguised in Unicode hashes, shingles and signs as the original."""

from __future__ import annotations

import random
import unicodedata

import numpy as np
import pytest

from schemas import hash_text, normalize_text
from scoring import _fast, identity, similarity
from scoring.identity import identity_reference, table
from scoring.minhash import shingles, signature
from scoring.novelty import Delivery, NoveltyIndex

# Look-alikes an attacker would pick (Cyrillic and Greek letters, fullwidth and mathematical forms).
_CYRILLIC = {"a": "а", "c": "с", "e": "е", "i": "і", "o": "о", "p": "р", "x": "х", "y": "у", "s": "ѕ", "j": "ј"}
_GREEK = {"o": "ο", "v": "ν", "i": "ι", "a": "α", "n": "η", "u": "υ"}  # TR39: κ is no "k"
_INVISIBLE = ["\u00ad", "\u200b", "\u2060", "\u2062", "\u200e", "\ufe0f", "\U000e0020", "\u034f"]  # \u034f: Mn


def disguise(text: str, rng: random.Random) -> str:
    """Every word changed in Unicode only: look-alike letters, invisible characters, fullwidth words."""
    words = []
    for word in text.split(" "):
        roll = rng.random()
        if roll < 0.15 and word.isascii():
            word = "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in word)  # fullwidth
        else:
            table_ = _CYRILLIC if roll < 0.6 else _GREEK
            word = "".join(table_.get(ch, ch) for ch in word)
        if len(word) > 2:
            cut = rng.randrange(1, len(word))
            word = word[:cut] + rng.choice(_INVISIBLE) + word[cut:]
        words.append(word)
    return " ".join(words)


@pytest.fixture(scope="module")
def prose(corpus):
    return [d for d in corpus if d.good and len(d.text.split()) >= 150][:60]


def test_disguised_copy_has_the_identity_of_the_original(prose) -> None:
    rng = random.Random(3)
    for doc in prose[:20]:
        copy = normalize_text(disguise(doc.text, rng))
        assert hash_text(copy) != hash_text(doc.text)
        assert identity(copy).split() == identity(doc.text).split()
        assert similarity(copy, doc.text) == 1.0
        assert signature(copy) == signature(doc.text)


def test_disguised_copy_of_accepted_text_is_a_duplicate(prose) -> None:
    rng = random.Random(4)
    index = NoveltyIndex()
    for doc in prose:
        index.add(doc.id, hash_text(doc.text), signature(doc.text))
    copies = []
    for i, doc in enumerate(prose[:20]):
        text = normalize_text(disguise(doc.text, rng))
        if i % 2:  # and a few honest-looking edits on top: a near duplicate, not a folded one
            text = text.replace(". ", ". Indeed, ", 2)
        copies.append(Delivery(f"copy{i}", 9, hash_text(text), text))
    verdicts = index.assess_step(copies)
    assert [v.duplicate_of for v in verdicts] == [d.id for d in prose[:20]]
    assert {v.kind for v in verdicts[0::2]} == {"folded"} and {v.kind for v in verdicts[1::2]} <= {"folded", "near"}
    assert all(v.novelty == 0.0 for v in verdicts)


def test_case_accents_and_compatibility_forms_fold() -> None:
    assert identity("ＣＡＦÉ Ⅻ ﬁle ｍ") == identity("cafe xii file m") == "cafe xii file m"
    assert identity("Straße") == identity("STRASSE")
    assert identity("Тhе") == "the"  # Cyrillic capital Te, small ie


def test_other_scripts_keep_their_words_apart() -> None:
    # Russian and Greek texts are keys of their own: different words stay different after the skeleton
    russian = ["город", "столица", "значения", "центр", "округа", "время", "работа", "страна"]
    greek = ["πόλη", "χρόνος", "άνθρωπος", "ημέρα", "κόσμος", "λόγος", "έργο", "χώρα"]
    for words in (russian, greek):
        assert len({identity(w) for w in words}) == len(words)


def test_ascii_letters_and_digits_are_not_merged() -> None:
    assert identity("modern 2010 I l 1 O 0 rn m") == "modern 2010 i l 1 o 0 rn m"


def test_identity_is_idempotent_on_every_code_point() -> None:
    index, targets = table()
    once = [identity(chr(cp)) for cp in range(0x30000)]
    assert all(identity(t) == t for t in once)
    assert all(not (0xE0000 <= ord(ch) <= 0xE01EF) for t in targets for ch in t)


def test_compiled_identity_equals_its_character_by_character_definition() -> None:
    rng = random.Random(8)
    pool = ["a", "Z", " ", "\n", "é", "e\u0301", "ß", "İ", "ς", "Ω", "ﬁ", "ｘ", "𝐛", "а", "ο", "й", "ё", "日", "한",
            "\u00ad", "\u200d", "\ufe0f", "\U000e0041", "\U000e0100", "\U000f0000", "\U0001f600", "’", "“", "1", "|"]
    for _ in range(3000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 20)))
        assert identity(text) == identity_reference(text), repr(text)
        assert identity(text) == identity(unicodedata.normalize("NFKD", text)) == identity(text.casefold())


def test_compiled_translate_equals_str_translate() -> None:
    rng = random.Random(9)
    index = np.full(300, -1, np.int32)
    targets = ("", "x", "yz", "\U0001f600")
    mapping = {}
    for cp in rng.sample(range(300), 60):
        index[cp] = rng.randrange(len(targets))
        mapping[cp] = targets[index[cp]]
    for _ in range(2000):
        text = "".join(chr(rng.choice([rng.randrange(300), 0x4E00, 0x1F601])) for _ in range(rng.randint(0, 25)))
        assert _fast.translate(text, index, targets) == text.translate(mapping), repr(text)


def test_shingles_read_the_identity_form() -> None:
    expected = ["the quick brown fox jumps"]
    assert shingles("Thе quісk brоwn fох jumps") == shingles("the quick brown fox jumps") == expected
