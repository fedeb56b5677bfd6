"""Verification's pass and fail bands against measured similarity distributions (docs/scoring.md, "Verification
bands"): honest edits pass, 5-7% word spins land below the pass band, unrelated pages fail."""

from __future__ import annotations

import random

import pytest

from glean.sampleweb.corpus import source_articles
from schemas import normalize_text
from scoring import constants as k
from scoring import similarity
from validator.constants import VERIFY_FAIL_SIMILARITY, VERIFY_PASS_SIMILARITY


@pytest.fixture(scope="module")
def sites(corpus) -> list[list[str]]:
    """Two collections of distinct pages (the sample web's; the test corpus's prose). They share sources
    (pydoc_data), so an unrelated page is drawn from the page's own collection."""
    web = [normalize_text(a.plain_text()) for a in source_articles()]
    prose = [d.text for d in corpus if d.good and len(d.text.split()) >= 150]
    return [[t for t in texts if len(t.split()) >= 80] for texts in (web, prose)]


@pytest.fixture(scope="module")
def distributions(sites) -> dict[str, list[float]]:
    rng = random.Random(16)
    vocab = sorted({w for pages in sites for p in pages for w in p.split() if w.isalpha()})

    def spin(page: str) -> str:
        words = page.split(" ")
        for i in rng.sample(range(len(words)), max(1, round(rng.uniform(0.05, 0.07) * len(words)))):
            words[i] = rng.choice(vocab)
        return " ".join(words)

    out: dict[str, list[float]] = {"dated": [], "appended": [], "spin": [], "unrelated": []}
    for pages in sites:
        for page in pages:
            other = rng.choice(pages)
            out["dated"].append(similarity(page, normalize_text("Updated on 3 March 2025.\n\n" + page)))
            grown = " ".join(other.split()[:max(15, len(page.split()) // 10)])  # a paragraph, a tenth of the page
            out["appended"].append(similarity(page, normalize_text(page + "\n\n" + grown)))
            out["spin"].append(similarity(page, normalize_text(spin(page))))
            if other != page:
                out["unrelated"].append(similarity(page, other))
    print({name: [round(_quantile(v, q), 3) for q in (0, 0.01, 0.05, 0.5, 0.99, 1)] for name, v in out.items()})
    return out


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


def test_the_pass_band_is_the_near_duplicate_threshold() -> None:
    assert VERIFY_PASS_SIMILARITY == k.NEAR_DUP_JACCARD and 0 < VERIFY_FAIL_SIMILARITY < VERIFY_PASS_SIMILARITY


def test_honest_edits_pass(distributions) -> None:
    assert min(distributions["dated"]) >= VERIFY_PASS_SIMILARITY
    assert _quantile(distributions["appended"], 0.05) >= VERIFY_PASS_SIMILARITY


def test_word_spins_land_below_the_pass_band_and_above_the_fail_band(distributions) -> None:
    assert max(distributions["spin"]) < VERIFY_PASS_SIMILARITY
    assert min(distributions["spin"]) >= VERIFY_FAIL_SIMILARITY


def test_unrelated_pages_fail(distributions) -> None:
    assert max(distributions["unrelated"]) < VERIFY_FAIL_SIMILARITY
    assert _quantile(distributions["unrelated"], 0.99) < 0.05
