"""Verification by re-fetch against the sample web: same page passes, other text fails, our failures are unknown."""

from __future__ import annotations

import pytest

from schemas.domain import DomainCatalog
from scrapers import FetchOutcome
from tests.validator.harness import DOMAIN, acceptable_records, write_domains
from validator.verification import Verifier, batch_outcome, choose_sample, judge, sample_seed, similarity


@pytest.fixture(scope="module")
def catalog(web, tmp_path_factory) -> DomainCatalog:
    return DomainCatalog.load([write_domains(web, tmp_path_factory.mktemp("domains"))])


@pytest.fixture
async def records(web, catalog):
    yield (await acceptable_records(web, catalog.get(DOMAIN)))[:4]
    web.reset()


def _key(web, record) -> str:
    return next(a.key for a in web.articles() if web.article_url(a.key) == record.uri)


def test_similarity_is_one_for_the_same_text_and_low_for_other_text():
    text = "The quick brown fox jumps over the lazy dog near the river bank today."
    assert similarity(text, text) == 1.0
    assert similarity(text, "A completely different sentence about python modules and their import system.") < 0.1


def test_the_sample_depends_on_the_seed_not_on_arrival_order():
    keys = [f"3:{i}" for i in range(50)]
    seed = sample_seed("0xabc", "hotkey", 4)
    picked = [keys[i] for i in choose_sample(keys, 5, seed)]
    shuffled = list(reversed(keys))
    assert sorted(picked) == sorted(shuffled[i] for i in choose_sample(shuffled, 5, seed))
    assert picked != [keys[i] for i in choose_sample(keys, 5, sample_seed("0xabd", "hotkey", 4))]


def test_gone_pages_are_unverified_and_our_trouble_is_unknown(records):
    assert judge(records[0], FetchOutcome.gone("http_404")).outcome == "unverified"
    assert judge(records[0], FetchOutcome.unavailable("timeout")).outcome == "unknown"


def test_one_failure_fails_a_batch_and_all_unknown_stays_unknown(records):
    from validator.verification import Check

    assert batch_outcome([Check("u", "pass", ""), Check("u", "fail", "")]) == "fail"
    assert batch_outcome([Check("u", "pass", "")] * 4 + [Check("u", "unknown", "")]) == "pass"
    assert batch_outcome([Check("u", "pass", "")] * 3 + [Check("u", "unknown", "")] * 2) == "unknown"
    assert batch_outcome([Check("u", "unverified", "")] * 3) == "unverified"
    assert batch_outcome([Check("u", "unknown", "")] * 3) == "unknown"


async def test_an_unchanged_page_passes(records, catalog):
    [check] = await Verifier(catalog, allow_private=True).check_all(records[:1], 30)
    assert (check.outcome, check.reason) == ("pass", "same_hash")


async def test_a_page_with_a_small_edit_still_passes(web, records, catalog):
    web.edit(_key(web, records[1]), append="One more sentence was added to this page after it was scraped.")
    [check] = await Verifier(catalog, allow_private=True).check_all(records[1:2], 30)
    assert (check.outcome, check.reason) == ("pass", "similar") and check.similarity >= 0.8


async def test_a_page_that_says_something_else_fails(web, records, catalog):
    web.edit(_key(web, records[2]), text=records[3].text)
    [check] = await Verifier(catalog, allow_private=True).check_all(records[2:3], 30)
    assert check.outcome == "fail" and check.similarity < 0.5


async def test_a_deleted_page_is_unverified(web, records, catalog):
    web.delete(_key(web, records[0]))
    [check] = await Verifier(catalog, allow_private=True).check_all(records[:1], 30)
    assert check.outcome == "unverified" and check.reason.startswith("gone")


async def test_a_server_error_to_the_validator_is_unknown(web, records, catalog):
    web.add_fault(status=503, path_prefix="/site/")
    [check] = await Verifier(catalog, allow_private=True).check_all(records[:1], 30)
    assert check.outcome == "unknown" and "503" in check.reason


async def test_checks_not_done_in_time_are_unknown(web, records, catalog):
    web.add_fault(status=200, delay=5.0, path_prefix="/site/")
    [check] = await Verifier(catalog, allow_private=True).check_all(records[:1], 0.3)
    assert (check.outcome, check.reason) == ("unknown", "validator_timeout")


async def test_a_robots_txt_answering_5xx_makes_the_host_unknown_not_unverified(web, records, catalog):
    from scrapers.robots import forget_robots

    forget_robots()
    web.add_fault(status=503, path_prefix="/robots.txt")
    try:
        checks = await Verifier(catalog, allow_private=True).check_all(records[:2], 30)
    finally:
        forget_robots()  # the cached failure must not outlive the test
    assert {(c.outcome, c.reason) for c in checks} == {("unknown", "unavailable:robots_unavailable")}
