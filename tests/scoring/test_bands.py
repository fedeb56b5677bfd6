"""Verification's pass and fail bands against measured similarity distributions (docs/scoring.md, "Verification
bands"): honest edits pass, 5-7% word spins land below the pass band, unrelated pages fail."""

from __future__ import annotations

import random

import pytest

from glean.sampleweb.corpus import source_articles
from schemas import normalize_text
from schemas.text import content_hash
from scoring import constants as k
from scoring import similarity
from scoring.minhash import signature
from scoring.novelty import Delivery, NoveltyIndex
from validator.constants import VERIFY_FAIL_SIMILARITY, VERIFY_PASS_SIMILARITY


@pytest.fixture(scope="module")
def sites() -> list[list[str]]:
    """The sample web's pages: real prose that is the same on every machine with this Python (the test corpus of
    tests/scoring follows the installed packages, so bands pinned on it moved with every new dependency)."""
    web = [normalize_text(a.plain_text()) for a in source_articles()]
    return [[t for t in web if len(t.split()) >= 80]]


@pytest.fixture(scope="module")
def distributions(sites) -> dict[str, list[float]]:
    rng = random.Random(16)
    vocab = sorted({w for pages in sites for p in pages for w in p.split() if w.isalpha()})

    def spin(page: str) -> str:
        words = page.split(" ")
        for i in rng.sample(range(len(words)), max(1, round(rng.uniform(0.05, 0.07) * len(words)))):
            words[i] = rng.choice(vocab)
        return " ".join(words)

    out: dict[str, list] = {"dated": [], "appended": [], "spin": [], "unrelated": [], "passing_spins": []}
    for pages in sites:
        for page in pages:
            other = rng.choice(pages)
            out["dated"].append(similarity(page, normalize_text("Updated on 3 March 2025.\n\n" + page)))
            grown = " ".join(other.split()[:max(15, len(page.split()) // 10)])  # a paragraph, a tenth of the page
            out["appended"].append(similarity(page, normalize_text(page + "\n\n" + grown)))
            spun = normalize_text(spin(page))
            out["spin"].append(similarity(page, spun))
            if out["spin"][-1] >= VERIFY_PASS_SIMILARITY:
                out["passing_spins"].append((page, spun))
            if other != page:
                out["unrelated"].append(similarity(page, other))
    print({name: [round(_quantile(v, q), 3) for q in (0, 0.01, 0.05, 0.5, 0.99, 1)] for name, v in out.items()
           if name != "passing_spins"})
    return out


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


def test_the_pass_band_is_the_near_duplicate_threshold() -> None:
    assert VERIFY_PASS_SIMILARITY == k.NEAR_DUP_JACCARD and 0 < VERIFY_FAIL_SIMILARITY < VERIFY_PASS_SIMILARITY


def test_honest_edits_pass(distributions) -> None:
    # a short page that repeats itself (badges, link lists: few distinct shingles) can dip just under the band, then
    # it is unverified (unpaid, credibility untouched); the corpus holds whatever READMEs the installed packages ship
    assert _quantile(distributions["dated"], 0.05) >= VERIFY_PASS_SIMILARITY
    assert min(distributions["dated"]) >= VERIFY_FAIL_SIMILARITY  # never a fail
    assert _quantile(distributions["appended"], 0.05) >= VERIFY_PASS_SIMILARITY


def test_word_spins_land_below_the_pass_band_and_above_the_fail_band(distributions) -> None:
    assert _quantile(distributions["spin"], 0.99) < VERIFY_PASS_SIMILARITY
    assert min(distributions["spin"]) >= VERIFY_FAIL_SIMILARITY


def test_a_spin_that_reaches_the_pass_band_is_a_near_duplicate_of_its_page(distributions) -> None:
    """A page that repeats itself (badges, link lists) keeps most of its shingles under a 6% spin; such a spin may
    verify, but the pass band is the near-duplicate threshold, so the novelty index refuses it as a copy."""
    for page, spun in distributions["passing_spins"]:
        index = NoveltyIndex()
        index.add("page", content_hash(page), signature(page))
        [verdict] = index.assess_step([Delivery(key="spin", miner_uid=1, content_hash=content_hash(spun), text=spun)])
        assert verdict.novelty == 0 and verdict.kind == "near", (verdict, page[:200])


def test_unrelated_pages_fail(distributions) -> None:
    # two pages drawn from one collection are nearly always unrelated; READMEs of sibling packages (whatever is
    # installed) can share a good part of their text, and must still never pass
    assert _quantile(distributions["unrelated"], 0.99) < 0.05 < VERIFY_FAIL_SIMILARITY
    assert max(distributions["unrelated"]) < VERIFY_PASS_SIMILARITY
