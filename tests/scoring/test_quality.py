"""Quality signals: one table case per rule, the score, the verdict and its reason, language id."""

from __future__ import annotations

import os
import random
import re
from collections import Counter

import pytest
from scoring._fast import ngram_repeats

from schemas import QualitySpec, Signal
from scoring import constants as k
from scoring.quality import assess_quality, detect_language
from scoring.tokenize import analyse
from tests.scoring.conftest import datatrove_filters, datatrove_verdicts

SPEC = QualitySpec(min_quality=0.5, min_words=50, max_words=100_000)

GOOD = """The river has shaped the valley for thousands of years, and the town grew up along its banks.
Farmers brought their grain to the mill that stood at the bend, where the water ran fast and deep.
In the spring the melting snow raised the level of the water, and the meadows were flooded for weeks.
The people who lived there learned to build their houses on higher ground, away from the fields.
Later a railway line was laid along the northern side of the valley, and the town became a market for the region.
Today the old mill is a museum, and visitors can see how the wheel once turned the heavy stones."""

SENTENCES = [line for line in GOOD.splitlines()]


def _signal(report, name: str) -> Signal:
    return next(s for s in report.signals if s.name == name)


def _lines(n: int, make) -> str:
    return "\n".join(make(i) for i in range(n))


# (rule that must fail, text, spec overrides)
CASES = [
    ("gopher_min_words", "The mill stands at the bend of the river, and it is old.", {}),
    ("gopher_max_words", GOOD, {"max_words": 60}),
    ("gopher_min_mean_word_length", _lines(12, lambda i: "I am at it and so is he, as we go to it by a car."), {}),
    ("gopher_max_mean_word_length", _lines(8, lambda i: "Internationalization characteristically necessitates "
                                                        "comprehensive interdisciplinary considerations "
                                                        "notwithstanding organizational responsibilities."), {}),
    ("gopher_hash_ratio", GOOD + "\n" + " ".join(f"#tag{i}" for i in range(40)), {}),
    ("gopher_ellipsis_ratio", GOOD.replace(" ", " ... ", 40), {}),
    ("gopher_bullet_lines", _lines(10, lambda i: f"- {SENTENCES[i % 6]}"), {}),
    ("gopher_ellipsis_lines", "\n".join(s[:60] + "..." for s in SENTENCES * 2), {}),
    ("gopher_alpha_words", GOOD + "\n" + " ".join(str(i) for i in range(300)), {}),
    ("gopher_stop_words", _lines(10, lambda i: f"Red apples grow on small trees near houses number {i}."), {}),
    ("gopher_dup_paragraphs", "\n\n".join([SENTENCES[0]] * 3 + [SENTENCES[1]]), {}),
    ("gopher_dup_paragraph_chars", "\n\n".join([GOOD, SENTENCES[2], GOOD]), {}),
    ("gopher_dup_lines", "\n".join(SENTENCES + [SENTENCES[0]] * 4), {}),
    ("gopher_dup_line_chars", "\n".join(SENTENCES + SENTENCES[:3]), {}),
    ("gopher_top_2gram", GOOD + "\n" + " ".join(["the valley"] * 120) + ".", {}),
    ("gopher_top_3gram", GOOD + "\n" + " ".join(["mill and river"] * 100) + ".", {}),
    ("gopher_top_4gram", GOOD + "\n" + " ".join(["old mill and river"] * 80) + ".", {}),
    ("gopher_dup_5gram", GOOD + " " + GOOD.replace("\n", " "), {}),
    ("gopher_dup_10gram", GOOD + " " + GOOD.replace("\n", " "), {}),
    ("c4_lorem_ipsum", GOOD + "\nLorem ipsum dolor sit amet, consectetur adipiscing elit.", {}),
    ("c4_curly_bracket", GOOD + "\nThe config is written as {\"key\": 1} in the file.", {}),
    ("c4_min_sentences", GOOD.replace(".", ""), {}),
    ("fineweb_line_punct", "\n".join(s.rstrip(".") for s in SENTENCES), {}),
    ("fineweb_short_lines", GOOD + "\n" + _lines(20, lambda i: f"Item number {i} here."), {}),
    ("fineweb_dup_line_chars", GOOD + "\n" + SENTENCES[3], {}),
    ("fineweb_list_ratio", GOOD + "\n" + _lines(100, lambda i: "Yes"), {}),
    ("mixed_script_words", GOOD.replace("a", "\u0430").replace("o", "\u03bf"), {}),  # Cyrillic а, Greek ο
    ("language", "Der Fluss hat das Tal über Jahrtausende geformt, und die Stadt wuchs an seinen Ufern. Die Bauern "
                 "brachten ihr Getreide zur Mühle, die an der Biegung stand, wo das Wasser schnell und tief floss. "
                 "Im Frühjahr hob der schmelzende Schnee den Wasserstand, und die Wiesen standen wochenlang unter "
                 "Wasser. Die Menschen lernten, ihre Häuser auf höherem Grund zu bauen, weit weg von den Feldern.",
     {}),
]


def test_good_text_passes_every_rule() -> None:
    report = assess_quality(GOOD, SPEC, ["en"])
    assert [s.name for s in report.signals if not s.passed] == []
    assert (report.score, report.passed, report.reason, report.lang) == (1.0, True, None, "en")


@pytest.mark.parametrize(("rule", "text", "overrides"), CASES, ids=[c[0] for c in CASES])
def test_rule_fails_on_its_table_case(rule: str, text: str, overrides: dict) -> None:
    report = assess_quality(text, SPEC.model_copy(update=overrides), ["en"])
    assert _signal(report, rule).passed is False


def test_every_rule_has_a_table_case() -> None:
    report = assess_quality(GOOD, SPEC, ["en"])
    covered = {c[0] for c in CASES} | {f"gopher_dup_{n}gram" for n in range(6, 10)}
    assert {s.name for s in report.signals} == covered


_OURS_ONLY = ("language", "mixed_script_words")  # rules datatrove does not have


@pytest.mark.parametrize(("rule", "text", "overrides"), [c for c in CASES if not c[2] and c[0] not in _OURS_ONLY],
                         ids=[c[0] for c in CASES if not c[2] and c[0] not in _OURS_ONLY])
def test_table_case_verdicts_agree_with_datatrove(rule: str, text: str, overrides: dict) -> None:
    expected = datatrove_verdicts(text, datatrove_filters())
    report = assess_quality(text, SPEC, ["en"])
    prefixes = {"gopher_quality": ("gopher_m", "gopher_hash", "gopher_ellipsis", "gopher_bullet", "gopher_alpha",
                                   "gopher_stop"),
                "gopher_repetition": ("gopher_dup", "gopher_top"), "c4": ("c4_",), "fineweb": ("fineweb_",)}
    ours = {family: all(s.passed for s in report.signals if s.name.startswith(p)) for family, p in prefixes.items()}
    assert ours == expected


def test_signals_carry_value_threshold_and_verdict() -> None:
    report = assess_quality(GOOD, SPEC, ["en"])
    words = _signal(report, "gopher_min_words")
    assert isinstance(words, Signal)
    assert (words.value, words.threshold, words.passed) == (len(GOOD.split()), SPEC.min_words, True)


def test_hard_rule_rejects_with_its_name_as_reason() -> None:
    report = assess_quality("Too short to keep.", SPEC, ["en"])
    assert (report.passed, report.reason) == (False, "quality:gopher_min_words")


def test_strong_soft_failure_falls_below_min_quality() -> None:
    text = "\n\n".join([GOOD] * 2)
    report = assess_quality(text, SPEC, ["en"])
    assert report.score < SPEC.min_quality
    assert report.passed is False and report.reason == "quality:gopher_dup_paragraphs"


def test_mild_soft_failure_lowers_score_but_passes() -> None:
    text = GOOD + "\nThe config is written as {\"key\": 1} in the file."
    report = assess_quality(text, SPEC, ["en"])
    assert report.score == pytest.approx(1 - k.RULE_PENALTIES["c4_curly_bracket"])
    assert report.passed is True and report.reason is None


def test_min_quality_of_the_domain_decides() -> None:
    text = GOOD + "\nThe config is written as {\"key\": 1} in the file."
    strict = assess_quality(text, SPEC.model_copy(update={"min_quality": 0.9}), ["en"])
    assert (strict.passed, strict.reason) == (False, "quality:c4_curly_bracket")


def test_score_is_the_product_of_penalties_and_stays_in_unit_interval(corpus) -> None:
    for doc in corpus[::5]:
        report = assess_quality(doc.text, SPEC, ["en"])
        expected = 1.0
        for s in report.signals:
            if not s.passed:
                expected *= 1 - k.RULE_PENALTIES.get(s.name, 0.0)
        assert 0.0 <= report.score <= 1.0
        assert report.score == pytest.approx(expected, abs=1e-6)


def test_german_text_is_detected_and_rejected_for_an_english_domain() -> None:
    german = dict((c[0], c[1]) for c in CASES)["language"]
    report = assess_quality(german, QualitySpec(min_words=20), ["en"])
    assert (report.lang, report.passed, report.reason) == ("de", False, "quality:language")
    assert assess_quality(german, QualitySpec(min_words=20), ["de"]).reason is None


def test_english_stop_words_are_not_required_of_other_languages() -> None:
    german = dict((c[0], c[1]) for c in CASES)["language"]
    report = assess_quality(german, QualitySpec(min_words=20), ["de"])
    assert _signal(report, "gopher_stop_words").passed is True


def test_language_is_read_from_the_middle_too() -> None:
    german = dict((c[0], c[1]) for c in CASES)["language"]
    assert detect_language(SENTENCES[0] + "\n" + german * 3)[0] == "de"


def test_language_detection_works_offline_on_several_languages() -> None:
    samples = {
        "fr": "La rivière a façonné la vallée pendant des milliers d'années, et la ville s'est développée sur ses "
              "rives.",
        "es": "El río ha dado forma al valle durante miles de años, y el pueblo creció a lo largo de sus orillas.",
        "en": SENTENCES[0],
    }
    assert {lang: detect_language(text)[0] for lang, text in samples.items()} == {lang: lang for lang in samples}


def test_empty_text_is_rejected_without_error() -> None:
    report = assess_quality("", SPEC, ["en"])
    assert (report.passed, report.reason, report.lang) == (False, "quality:gopher_min_words", None)


def test_verdicts_are_deterministic(corpus) -> None:
    text = corpus[3].text
    assert assess_quality(text, SPEC, ["en"]) == assess_quality(text, SPEC, ["en"])


def _reference_ngram_repeats(tokens: list[str]) -> tuple[dict[int, int], dict[int, int]]:
    """datatrove's n-gram rules written out directly (over token tuples)."""
    top, dup = {}, {}
    for n, _ in k.GOPHER_TOP_NGRAMS:
        grams = [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
        gram, count = Counter(grams).most_common(1)[0] if grams else ((), 0)
        top[n] = (sum(map(len, gram)) + n - 1) * count if grams else 0
    for n, _ in k.GOPHER_DUP_NGRAMS:
        seen, repeated, idx = set(), 0, 0
        while idx < len(tokens) - n + 1:
            gram = tuple(tokens[idx:idx + n])
            if gram in seen:
                repeated += sum(map(len, gram))
                idx += n
            else:
                seen.add(gram)
                idx += 1
        dup[n] = repeated
    return top, dup


TOP_NS = tuple(n for n, _ in k.GOPHER_TOP_NGRAMS)
DUP_NS = tuple(n for n, _ in k.GOPHER_DUP_NGRAMS)


def test_compiled_ngram_repetition_equals_the_direct_computation() -> None:
    rng = random.Random(0)
    for i in range(2000):
        vocab = "a bb ccc d . , é 日本".split()[: rng.randint(1, 8)]
        tokens = [rng.choice(vocab) for _ in range(rng.randint(0, 40 if i % 10 else 600))]
        assert ngram_repeats(tokens, TOP_NS, DUP_NS) == _reference_ngram_repeats(tokens), tokens


def test_compiled_ngram_repetition_equals_the_direct_computation_on_real_text(corpus) -> None:
    for doc in corpus[:120]:
        tokens = analyse(doc.text).tokens
        assert ngram_repeats(tokens, TOP_NS, DUP_NS) == _reference_ngram_repeats(tokens), doc.text[:80]


def test_stale_compiled_modules_are_reported(tmp_path) -> None:
    from scoring import _build

    source = tmp_path / "scoring" / "tokenize.py"
    source.parent.mkdir()
    source.write_text("x = 1\n")
    build = source.with_name("tokenize" + _build.importlib.machinery.EXTENSION_SUFFIXES[0])
    build.write_bytes(b"")
    os.utime(source, (1_000, 1_000))
    os.utime(build, (2_000, 2_000))
    assert _build.stale(tmp_path) == []
    os.utime(source, (3_000, 3_000))
    assert _build.stale(tmp_path) == ["scoring/tokenize.py"]


def test_line_and_paragraph_splits_equal_the_regular_expressions() -> None:
    from scoring.quality import _split_runs

    rng = random.Random(8)
    for _ in range(5000):
        text = "".join(rng.choice(["a", "bc", " ", "\n", "\n\n", "\n\n\n"]) for _ in range(rng.randint(0, 12)))
        assert _split_runs(text, 1) == re.split(r"\n+", text), repr(text)
        assert _split_runs(text, 2) == re.split(r"\n{2,}", text), repr(text)


# ---- words mixing scripts --------------------------------------------------------------------------------------

RUSSIAN = """Река веками формировала долину, и город вырос на её берегах. Крестьяне везли зерно на мельницу.
Мельница стояла у излучины, где вода текла быстро и глубоко. Весной тающий снег поднимал уровень воды.
Луга стояли под водой неделями, и люди научились строить дома на возвышенности, подальше от полей.
Позже вдоль северной стороны долины проложили железную дорогу, и город стал рынком для всего края.
Сегодня в старой мельнице музей, и посетители видят, как колесо когда-то вращало тяжёлые жернова."""
GREEK = """Ο ποταμός διαμόρφωσε την κοιλάδα για χιλιάδες χρόνια, και η πόλη μεγάλωσε στις όχθες του.
Οι αγρότες έφερναν το σιτάρι τους στον μύλο που βρισκόταν στη στροφή, όπου το νερό έτρεχε γρήγορα.
Την άνοιξη το λιωμένο χιόνι ανέβαζε τη στάθμη του νερού και τα λιβάδια πλημμύριζαν για εβδομάδες.
Σήμερα ο παλιός μύλος είναι μουσείο, και οι επισκέπτες βλέπουν πώς γύριζε κάποτε ο τροχός."""


def test_a_copy_disguised_with_look_alike_letters_falls_below_min_quality() -> None:
    report = assess_quality(GOOD.replace("a", "\u0430").replace("e", "\u0435"), SPEC, ["en"])
    assert _signal(report, "mixed_script_words").value > 0.5
    assert not report.passed and report.reason == "quality:mixed_script_words"


@pytest.mark.parametrize("text", [RUSSIAN, GREEK], ids=["russian", "greek"])
def test_text_written_in_its_own_script_is_not_penalised(text: str) -> None:
    report = assess_quality(text, SPEC.model_copy(update={"min_words": 10}), ["ru", "el"])
    assert _signal(report, "mixed_script_words").passed and _signal(report, "mixed_script_words").value == 0.0


def test_hyphenated_names_units_and_code_identifiers_are_not_mixed_scripts() -> None:
    text = GOOD + ("\nThe Wi\u2011Fi router and the Wi-Fi card use the config_value of my_module.get_α(), "
                   "which returns the α-helix length in μm and the β-sheet count of the Δ-model.")
    signal = _signal(assess_quality(text, SPEC, ["en"]), "mixed_script_words")
    assert signal.passed and signal.value <= k.MAX_MIXED_SCRIPT_WORDS
