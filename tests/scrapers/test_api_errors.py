"""Every API kind's error answers, as the services send them (tests/data/scrapers/SOURCES.md), through the crawl and
the validator's re-fetch: a refusal of our access (401/403, Stack Exchange's error wrapper) is counted under a named
reason with a log line saying what to do, and is unknown on re-fetch; a 429 holds the host for its Retry-After (or
the kind's default wait) and the request is asked again. Waits are asserted on the pacer's clock (VirtualTime)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pytest

from scrapers import crawl, fetch_one, middlewares, pacing, settings
from scrapers.kinds import base
from scrapers.pacing import Pacer
from tests.scrapers.fake_api import FakeReddit, SequenceSite, VirtualTime, gaps, ratelimit
from tests.scrapers.recorded import crawl_here, data, make_domain, source
from tests.support.site import Page
from validator.verification import fetch_outcome

JSON = "application/json; charset=utf-8"
WIKI_LISTING = ("/w/api.php?action=query&format=json&formatversion=2&maxlag=5&list=categorymembers"
                "&cmtitle=Category%3APhysics&cmtype=page&cmnamespace=0&cmlimit=50")
WIKI_ARTICLE = ("/w/api.php?action=query&format=json&formatversion=2&maxlag=5&redirects=1&prop=extracts%7Cinfo"
                "%7Crevisions&explaintext=1&exsectionformat=wiki&rvprop=ids%7Ctimestamp&titles=Physics")
ARXIV_LISTING = ("/api/query?search_query=cat%3Acs.LG&start=0&max_results=100&sortBy=submittedDate"
                 "&sortOrder=descending")
ARXIV_ITEM = "/api/query?id_list=1706.03762&max_results=1"
SE_LISTING = ("/2.3/questions?site=stackoverflow&filter=withbody&tagged=python&sort=activity&order=desc"
              "&pagesize=100&page=1")
SE_ITEM = "/2.3/questions/419163?site=stackoverflow&filter=withbody"
HOT = "/r/Python/hot?limit=100&raw_json=1"
BY_ID = "/by_id/t3_1l6zzzz?raw_json=1"
POST = "/r/Python/comments/1l6zzzz/how_we_profile_our_services/"


def page(name: str, status: int, content_type: str = JSON, **headers: str) -> Page:
    return Page(data(name), status=status, content_type=content_type, headers=headers)


@dataclass
class Kind:
    """How one API kind is crawled and re-fetched against a loopback server."""

    name: str
    listing: str                       # the crawl's first request
    item: str                          # the re-fetch's request
    empty: Page                        # a listing with nothing in it
    found: Page | None = None          # the item, as the re-fetch reads it
    params: dict = field(default_factory=dict)

    def domain(self, base_url: str):
        params = {"hackernews": {"base_url": base_url + "/v0"},
                  "wikipedia": {"base_url": base_url + "/w/api.php", "category": "Category:Physics"},
                  "arxiv": {"base_url": base_url + "/api/query", "categories": ["cs.LG"]},
                  "stackexchange": {"base_url": base_url + "/2.3", "tags": ["python"]}}[self.name]
        return make_domain(source(self.name, **params))

    def uri(self, base_url: str) -> str:
        return {"hackernews": "https://news.ycombinator.com/item?id=121003", "wikipedia": base_url + "/wiki/Physics",
                "arxiv": "https://arxiv.org/abs/1706.03762",
                "stackexchange": "https://stackoverflow.com/questions/419163"}[self.name]


HN = Kind("hackernews", "/v0/topstories.json", "/v0/item/121003.json", Page("[]", content_type=JSON),
          page("hn_item_ask.json", 200))
WIKI = Kind("wikipedia", WIKI_LISTING, WIKI_ARTICLE,
            Page('{"batchcomplete": true, "query": {"categorymembers": []}}', content_type=JSON),
            page("wikipedia_article_physics.json", 200))
ARXIV = Kind("arxiv", ARXIV_LISTING, ARXIV_ITEM, page("arxiv_empty.xml", 200, "application/atom+xml"),
             page("arxiv_query_1.xml", 200, "application/atom+xml"))
SE = Kind("stackexchange", SE_LISTING, SE_ITEM, page("se_questions_2.json", 200))

# (kind, the refusal as the service sends it, the reason counted, what the log tells the operator to do)
REFUSALS = {
    "hn-path-not-served": (HN, page("hn_401_permission_denied.json", 401), base.ACCESS_DENIED,
                           "check the source's base_url"),
    "wikipedia-user-agent": (WIKI, page("wikipedia_403_user_agent.txt", 403, "text/plain; charset=utf-8"),
                             base.USER_AGENT_REFUSED, "set a descriptive user agent with contact (miner.user_agent)"),
    "arxiv-blocked": (ARXIV, Page("Forbidden", status=403, content_type="text/plain"), base.ACCESS_DENIED,
                      "one request every 3 s"),
    "se-bad-key": (SE, page("se_bad_key.json", 400), base.CREDENTIALS_REFUSED, "check the source's `key`"),
    "se-token-required": (SE, page("se_access_token_required.json", 400), base.CREDENTIALS_REFUSED,
                          "check the source's `key`"),
}


@pytest.fixture
def api():
    with SequenceSite() as site:
        yield site


@pytest.fixture
def clock(monkeypatch) -> VirtualTime:
    """The crawl's and the re-fetch's pacers on a virtual clock."""
    time = VirtualTime()
    monkeypatch.setattr(middlewares, "Pacer", lambda: Pacer(clock=time.clock, sleep=time.sleep))
    monkeypatch.setattr(pacing.REFETCH_PACER, "clock", time.clock)
    monkeypatch.setattr(pacing.REFETCH_PACER, "sleep", time.sleep)
    return time


# -- 401/403: a named reason and what to do ---------------------------------------------------------------------
@pytest.mark.parametrize("case", sorted(REFUSALS))
async def test_a_refusal_in_the_crawl_is_counted_and_says_what_to_do(api, case, caplog):
    kind, refusal, reason, fix = REFUSALS[case]
    api.serve_all(kind.listing, refusal)
    with caplog.at_level(logging.WARNING, logger="scrapers"):
        result = await crawl_here(kind.domain(api.base_url))
    assert result.records == [] and result.stats.errors == {reason: 1}
    assert fix in caplog.text


async def test_the_crawl_process_tells_the_operator_what_to_do(api, caplog):
    """Through the child process a miner runs: the refusal is counted and its fix reaches the miner's log."""
    api.serve_all(WIKI.listing, REFUSALS["wikipedia-user-agent"][1])
    with caplog.at_level(logging.WARNING, logger="scrapers.crawl"):
        stats = await crawl(WIKI.domain(api.base_url), page_budget=5, sink=lambda _records: None, parse_workers=1)
    assert stats.errors == {base.USER_AGENT_REFUSED: 1}
    assert "set a descriptive user agent with contact (miner.user_agent)" in caplog.text


@pytest.mark.parametrize("case", sorted(REFUSALS))
async def test_a_refusal_on_refetch_is_the_validators_trouble_and_says_what_to_do(api, case, caplog):
    kind, refusal, _reason, fix = REFUSALS[case]
    api.serve_all(kind.item, refusal)
    domain = kind.domain(api.base_url)
    with caplog.at_level(logging.WARNING, logger="scrapers"):
        outcome = await fetch_one(domain, domain.sources[0], kind.uri(api.base_url), allow_private=True)
    assert outcome.status == "unavailable" and outcome.reason in ("http_401", "http_403")
    assert fetch_outcome(outcome) == "unknown" and fix in caplog.text


# -- 429: the host held, then asked again ------------------------------------------------------------------------
TOO_MANY = {
    "hackernews": (HN, Page("", status=429, content_type="text/plain"), settings.DEFAULT_RETRY_AFTER, "http_429"),
    "wikipedia-429-retry-after": (WIKI, Page("Too many requests", status=429, content_type="text/plain",
                                             headers={"Retry-After": "2"}), 2.0, "http_429"),
    "wikipedia-ratelimited": (WIKI, page("wikipedia_ratelimited.json", 200, **{"MediaWiki-API-Error": "ratelimited"}),
                              settings.DEFAULT_RETRY_AFTER, "ratelimited"),
    "arxiv": (ARXIV, page("arxiv_429.txt", 429, "text/plain"), settings.DEFAULT_RETRY_AFTER, "http_429"),
}


@pytest.mark.parametrize("case", sorted(TOO_MANY))
async def test_a_429_in_the_crawl_holds_the_host_then_asks_again(api, clock, case):
    kind, refusal, wait, reason = TOO_MANY[case]
    api.pages.clock = clock.clock
    api.serve_all(kind.listing, refusal, kind.empty)
    result = await crawl_here(kind.domain(api.base_url))
    asked = api.pages.times(kind.listing[-20:])
    assert len(asked) == 2 and gaps(asked) == [wait] and clock.slept == [wait]
    assert result.stats.errors == {"throttle:" + reason: 1}


@pytest.mark.parametrize("case", sorted(TOO_MANY))
async def test_a_429_on_refetch_holds_the_host_then_asks_again(api, clock, case):
    kind, refusal, wait, _reason = TOO_MANY[case]
    api.pages.clock = clock.clock
    api.serve_all(kind.item, refusal, kind.found)
    domain = kind.domain(api.base_url)
    outcome = await fetch_one(domain, domain.sources[0], kind.uri(api.base_url), allow_private=True)
    assert outcome.status == "content" and clock.slept == [wait]
    assert gaps(api.pages.times(kind.item[-20:])) == [wait]


async def test_a_429_held_longer_than_a_refetch_may_wait_is_unknown_and_asks_nothing_more(api, clock):
    api.serve_all(HN.item, Page("", status=429, content_type="text/plain", headers={"Retry-After": "120"}))
    domain = HN.domain(api.base_url)
    first = await fetch_one(domain, domain.sources[0], HN.uri(api.base_url), allow_private=True)
    second = await fetch_one(domain, domain.sources[0], HN.uri(api.base_url), allow_private=True)
    assert (first.reason, second.reason) == (pacing.THROTTLED, pacing.THROTTLED)
    assert fetch_outcome(first) == "unknown" and len(api.pages.served) == 1 and clock.slept == []


# -- reddit (OAuth) ------------------------------------------------------------------------------------------------
@pytest.fixture
def reddit(monkeypatch):
    from tests.scrapers.fake_api import CLIENT_ID, CLIENT_SECRET

    monkeypatch.setenv("GLEAN_REDDIT_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("GLEAN_REDDIT_CLIENT_SECRET", CLIENT_SECRET)
    with FakeReddit() as fake:
        yield fake


def reddit_domain(fake: FakeReddit):
    return make_domain(source("reddit", subreddits=["Python"], **fake.params()))


REDDIT_REFUSALS = {
    "token-refused": (page("reddit_401.json", 401), base.CREDENTIALS_REFUSED, "GLEAN_REDDIT_CLIENT_SECRET", "http_401"),
    "private-subreddit": (page("reddit_403_private.json", 403), base.ACCESS_DENIED, "remove it from the source's "
                          "subreddits", "http_403"),
    "blocked": (page("reddit_403.json", 403), base.ACCESS_DENIED, "miner.user_agent", "http_403"),
}


@pytest.mark.parametrize("case", sorted(REDDIT_REFUSALS))
async def test_reddit_refusals_in_the_crawl_are_counted_and_say_what_to_do(reddit, case, caplog):
    refusal, reason, fix, _status = REDDIT_REFUSALS[case]
    reddit.pages[HOT] = refusal
    with caplog.at_level(logging.WARNING, logger="scrapers"):
        result = await crawl_here(reddit_domain(reddit))
    assert result.records == [] and result.stats.errors == {reason: 1} and fix in caplog.text


@pytest.mark.parametrize("case", sorted(REDDIT_REFUSALS))
async def test_reddit_refusals_on_refetch_are_unknown_and_say_what_to_do(reddit, case, caplog):
    refusal, _reason, fix, status = REDDIT_REFUSALS[case]
    reddit.pages[BY_ID] = refusal
    domain = reddit_domain(reddit)
    with caplog.at_level(logging.WARNING, logger="scrapers"):
        outcome = await fetch_one(domain, domain.sources[0], reddit.base_url + POST, allow_private=True)
    assert (outcome.reason, fetch_outcome(outcome)) == (status, "unknown") and fix in caplog.text


def reddit_429(reset: int) -> Page:
    """Reddit's 429 as PRAW logs it: no Retry-After, the rate window used up and its reset."""
    return page("reddit_429.json", 429, **ratelimit(0, reset, used=1000))


async def test_reddit_429_in_the_crawl_waits_for_the_window_reset(reddit, clock):
    reddit.clock = clock.clock
    reddit.pages[HOT] = [reddit_429(7), page("reddit_listing_2.json", 200)]
    result = await crawl_here(reddit_domain(reddit))
    first, second = reddit.api_requests()
    assert len(result.records) == 1 and second.at - first.at == 7 and clock.slept == [7]
    assert result.stats.errors == {"throttle:http_429": 1}


async def test_reddit_429_on_refetch_waits_for_the_window_reset(reddit, clock):
    reddit.clock = clock.clock
    reddit.pages[BY_ID] = [reddit_429(3), page("reddit_listing_2.json", 200)]
    domain = reddit_domain(reddit)
    outcome = await fetch_one(domain, domain.sources[0], reddit.base_url + POST, allow_private=True)
    first, second = reddit.api_requests()
    assert outcome.status == "content" and second.at - first.at == 3 and clock.slept == [3]
