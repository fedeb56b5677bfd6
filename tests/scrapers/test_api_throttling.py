"""What Stack Exchange and Wikipedia ask of our pace, obeyed in the crawl and the re-fetch: maxlag retried after
Retry-After (bounded), backoff and throttle_violation waited for, a used-up daily quota ends the crawl (counted).
Waits are asserted as minimum gaps between the requests the loopback server observed."""

from __future__ import annotations

import pytest

from scrapers import fetch_one, pacing, reasons
from tests.scrapers.fake_api import SequenceSite, gaps
from tests.scrapers.recorded import crawl_here, data, make_domain, source
from tests.support.site import Page
from validator.verification import fetch_outcome

JSON = "application/json; charset=utf-8"
ARTICLE = ("/w/api.php?action=query&format=json&formatversion=2&maxlag=5&redirects=1&prop=extracts%7Cinfo"
           "%7Crevisions&explaintext=1&exsectionformat=wiki&rvprop=ids%7Ctimestamp&titles=Physics")
LISTING = ("/w/api.php?action=query&format=json&formatversion=2&maxlag=5&list=categorymembers"
           "&cmtitle=Category%3APhysics&cmtype=page&cmnamespace=0&cmlimit=50")
QUESTIONS = "/2.3/questions?site=stackoverflow&filter=withbody&tagged=python&sort=activity&order=desc&pagesize=100"
ANSWERS = "/2.3/answers/{ids}?site=stackoverflow&filter=withbody&pagesize=100"
QUESTION = "/2.3/questions/419163?site=stackoverflow&filter=withbody"


def maxlag(retry_after: str = "1") -> Page:
    """A lagged wiki's answer as it is sent today: HTTP 200, the error object, MediaWiki-API-Error, Retry-After."""
    return Page(data("wikipedia_maxlag.json"), content_type=JSON,
                headers={"MediaWiki-API-Error": "maxlag", "Retry-After": retry_after, "X-Database-Lag": "6"})


def json_page(name: str, status: int = 200) -> Page:
    return Page(data(name), status=status, content_type=JSON)


@pytest.fixture
def api():
    with SequenceSite() as site:
        yield site


def wiki(site):
    return make_domain(source("wikipedia", base_url=site.url("/w/api.php"), category="Category:Physics"))


def stack(site):
    return make_domain(source("stackexchange", base_url=site.url("/2.3"), tags=["python"]))


# -- wikipedia ----------------------------------------------------------------------------------------------------
async def test_crawl_retries_a_maxlag_answer_after_its_retry_after(api):
    api.serve_all(LISTING, Page('{"batchcomplete": true, "query": {"categorymembers": [{"pageid": 22939, "ns": 0, '
                                '"title": "Physics"}]}}', content_type=JSON))
    api.serve_all(ARTICLE, maxlag(), json_page("wikipedia_article_physics.json"))
    result = await crawl_here(wiki(api))
    assert [r.title for r in result.records] == ["Physics"]
    assert result.stats.errors == {"throttle:maxlag": 1}
    assert gaps(api.pages.times("titles=Physics")) and min(gaps(api.pages.times("titles=Physics"))) >= 0.95


async def test_crawl_gives_up_on_a_wiki_that_stays_lagged(api):
    api.serve_all(LISTING, maxlag("0"))
    result = await crawl_here(wiki(api))
    assert result.records == [] and result.stats.errors == {"throttle:maxlag": 4, reasons.API_ERROR: 1}
    assert len(api.pages.times("list=categorymembers")) == 4  # one ask and THROTTLE_RETRIES more


async def test_refetch_retries_maxlag_after_retry_after(api):
    api.serve_all(ARTICLE, maxlag(), json_page("wikipedia_article_physics.json"))
    outcome = await fetch_one(wiki(api), wiki(api).sources[0], api.url("/wiki/Physics"), allow_private=True)
    assert outcome.status == "content"
    assert min(gaps(api.pages.times("titles=Physics"))) >= 0.95


async def test_refetch_of_a_lagged_wiki_is_unknown_after_bounded_retries(api):
    api.serve_all(ARTICLE, maxlag("0"))
    outcome = await fetch_one(wiki(api), wiki(api).sources[0], api.url("/wiki/Physics"), allow_private=True)
    assert (outcome.status, outcome.reason, fetch_outcome(outcome)) == ("unavailable", pacing.THROTTLED, "unknown")
    assert len(api.pages.times("titles=Physics")) == 2


# -- stack exchange ---------------------------------------------------------------------------------------------
async def test_used_up_quota_ends_the_crawl_with_a_counted_reason(api):
    api.serve_all(QUESTIONS + "&page=1", json_page("se_quota_exhausted.json"))
    api.serve_all(QUESTIONS + "&page=2", json_page("se_questions_2.json"))
    result = await crawl_here(stack(api))
    assert result.records == [] and result.stats.errors == {pacing.QUOTA_EXHAUSTED: 1}
    assert len(api.pages.served) == 1  # neither the answers nor page 2 were asked for


async def test_backoff_holds_the_next_call(api):
    page = json_page("se_questions_2.json")
    page.body = page.payload().replace(b'"has_more"', b'"backoff": 1, "has_more"')
    api.serve_all(QUESTIONS + "&page=1", page)
    api.serve_all(ANSWERS.format(ids="419185"), json_page("se_answers.json"))
    result = await crawl_here(stack(api))
    assert len(result.records) == 1 and result.stats.errors == {"throttle:backoff": 1}
    assert min(gaps([t for t, _key in api.pages.served])) >= 0.95


async def test_crawl_waits_out_a_throttle_violation_and_asks_again(api):
    api.serve_all(QUESTIONS + "&page=1", json_page("se_throttle_soon.json", 400), json_page("se_questions_2.json"))
    api.serve_all(ANSWERS.format(ids="419185"), json_page("se_answers.json"))
    result = await crawl_here(stack(api))
    assert len(result.records) == 1 and result.stats.errors == {"throttle:throttle_violation": 1}
    assert min(gaps(api.pages.times("page=1"))) >= 0.95


async def test_refetch_waits_out_a_throttle_violation(api):
    api.serve_all(QUESTION, json_page("se_throttle_soon.json", 400), json_page("se_questions_2.json"))
    api.serve_all(ANSWERS.format(ids="419185"), json_page("se_answers.json"))
    domain = stack(api)
    outcome = await fetch_one(domain, domain.sources[0], "https://stackoverflow.com/questions/419163",
                              allow_private=True)
    assert outcome.status == "content" and min(gaps(api.pages.times("questions/419163"))) >= 0.95


async def test_refetch_with_the_days_quota_gone_is_unknown_and_stops_asking(api):
    api.serve_all(QUESTION, json_page("se_throttle.json", 400))
    domain = stack(api)
    uri = "https://stackoverflow.com/questions/419163"
    first = await fetch_one(domain, domain.sources[0], uri, allow_private=True)
    second = await fetch_one(domain, domain.sources[0], uri, allow_private=True)
    assert (first.reason, second.reason) == (pacing.THROTTLED, pacing.THROTTLED)
    assert fetch_outcome(first) == "unknown" and len(api.pages.served) == 1


async def test_a_backoff_violation_answer_is_unknown_not_the_miners_fault(api):
    """An HTTP 400 throttle_violation without a wait in its message: the validator's trouble, never unverified."""
    api.serve_all(QUESTION, json_page("se_backoff_violation.json", 400))
    domain = stack(api)
    outcome = await fetch_one(domain, domain.sources[0], "https://stackoverflow.com/questions/419163",
                              allow_private=True)
    assert fetch_outcome(outcome) == "unknown"
