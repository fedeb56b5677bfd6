"""Reddit through OAuth (application-only): the token request, bearer requests, credentials from the environment,
a clear error without them, the token cache, and Reddit's rate-limit headers obeyed; against a loopback Reddit."""

from __future__ import annotations

import logging

import pytest

from schemas import ScrapeError
from scrapers import check_ready, crawl, fetch_one, oauth, pacing, source_for
from scrapers.oauth import TOKENS, CredentialsMissing, TokenCache
from tests.scrapers.fake_api import CLIENT_ID, CLIENT_SECRET, FakeReddit, ratelimit
from tests.scrapers.recorded import PROSE, crawl_here, data, make_domain, source
from tests.support.site import Page
from validator.verification import fetch_outcome

HOT = "/r/Python/hot?limit=100&raw_json=1"
POST = "/by_id/t3_1l6zzzz?raw_json=1"


def listing(name: str = "reddit_listing_2.json", **headers: str) -> Page:
    return Page(data(name), content_type="application/json; charset=UTF-8", headers=dict(headers))


@pytest.fixture
def reddit():
    with FakeReddit() as fake:
        yield fake


@pytest.fixture
def credentials(monkeypatch):
    monkeypatch.setenv("GLEAN_REDDIT_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("GLEAN_REDDIT_CLIENT_SECRET", CLIENT_SECRET)


@pytest.fixture
def no_credentials(monkeypatch):
    monkeypatch.delenv("GLEAN_REDDIT_CLIENT_ID", raising=False)
    monkeypatch.delenv("GLEAN_REDDIT_CLIENT_SECRET", raising=False)


def domain_of(reddit: FakeReddit, **params):
    return make_domain(source("reddit", subreddits=["Python"], **reddit.params(**params)))


async def test_crawl_asks_one_token_then_sends_it_as_bearer(reddit, credentials):
    reddit.pages[HOT] = listing()
    result = await crawl_here(domain_of(reddit))
    uri = reddit.base_url + "/r/Python/comments/1l6zzzz/how_we_profile_our_services/"
    assert [r.uri for r in result.records] == [uri]
    [token] = reddit.token_requests()
    assert token.body == b"grant_type=client_credentials" and token.authorization.startswith("Basic ")
    [api] = reddit.api_requests()
    assert api.authorization == "bearer tok-1" and api.user_agent.startswith("glean/")
    assert result.stats.pages == 1 and result.stats.errors == {}  # the token request is outside the page budget


async def test_missing_credentials_is_a_clear_error_before_any_request(reddit, no_credentials):
    domain = domain_of(reddit)
    with pytest.raises(CredentialsMissing) as caught:
        check_ready(domain)
    message = str(caught.value)
    assert "GLEAN_REDDIT_CLIENT_ID" in message and "GLEAN_REDDIT_CLIENT_SECRET" in message
    assert "reddit.com/prefs/apps" in message and domain.id in message
    assert isinstance(caught.value, ScrapeError)
    result = await crawl_here(domain)  # the crawl process's own guard
    assert result.records == [] and result.stats.errors == {oauth.NO_CREDENTIALS: 1} and reddit.seen == []


async def test_a_source_without_credentials_is_skipped_while_the_domain_s_other_sources_run(
        reddit, no_credentials, site, caplog):
    site.add("/notes/a.html", Page(f"<html><head><title>A</title></head><body><article><h1>A</h1><p>{PROSE[0]}</p>"
                                   "</article></body></html>"))
    domain = make_domain(source("reddit", "reddit", subreddits=["Python"], **reddit.params()),
                         source("web", "site", seeds=[site.url("/notes/a.html")], max_depth=0))
    records: list = []
    with caplog.at_level(logging.WARNING, logger="scrapers.crawl"):
        stats = await crawl(domain, page_budget=10, sink=records.extend)
    assert [r.source for r in records] == ["web"] and stats.errors == {oauth.CREDENTIALS_MISSING: 1}
    assert reddit.seen == [] and "GLEAN_REDDIT_CLIENT_ID" in caplog.text


async def test_a_miner_whose_domain_needs_missing_credentials_starts_and_says_what_to_set(
        reddit, no_credentials, tmp_path, caplog):
    from chain import LocalChain
    from miner.app import build_miner
    from schemas.config import GleanConfig
    from schemas.domain import DomainCatalog
    from tests.validator.harness import dev_wallet

    domain = domain_of(reddit)
    folder = tmp_path / "domains"
    folder.mkdir()
    (folder / f"{domain.id}.yaml").write_text(domain.model_dump_json())
    config = GleanConfig(data_dir=tmp_path / "miner", domain_dirs=[folder], miner={"domains": [domain.id]})
    chain = LocalChain(tmp_path / "chain.sqlite")
    try:
        with caplog.at_level(logging.ERROR, logger="miner.app"):
            miner = build_miner(config, wallet=dev_wallet("m"), chain=chain, catalog=DomainCatalog.load([folder]))
        miner.store.store.close()
    finally:
        await chain.close()
    assert "GLEAN_REDDIT_CLIENT_ID" in caplog.text and "skip this source" in caplog.text


async def test_refused_credentials_are_counted_and_logged_without_the_secret(reddit, monkeypatch, caplog):
    monkeypatch.setenv("GLEAN_REDDIT_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("GLEAN_REDDIT_CLIENT_SECRET", "wrong-secret")
    reddit.pages[HOT] = listing()
    with caplog.at_level(logging.ERROR):
        result = await crawl_here(domain_of(reddit))
    assert result.records == [] and result.stats.errors == {oauth.OAUTH_REFUSED: 1}
    assert reddit.api_requests() == [] and len(reddit.token_requests()) == 1
    assert "refused the client credentials" in caplog.text and "wrong-secret" not in caplog.text


async def test_an_expired_token_is_renewed_once(reddit, credentials):
    reddit.pages[HOT] = listing()
    domain = domain_of(reddit)
    TOKENS.put((reddit.base_url + "/api/v1/access_token", CLIENT_ID), "tok-stale", 3600)
    result = await crawl_here(domain)
    assert len(result.records) == 1
    assert [s.authorization for s in reddit.api_requests()] == ["bearer tok-stale", "bearer tok-1"]


def test_token_cache_renews_before_expiry():
    now = [1000.0]
    cache = TokenCache(clock=lambda: now[0])
    cache.put(("u", "id"), "t", 3600)
    now[0] += 3500
    assert cache.get(("u", "id")) == "t"
    now[0] += 50  # within the renewal margin of the expiry
    assert cache.get(("u", "id")) is None


async def test_crawl_sleeps_until_the_rate_window_resets(reddit, credentials):
    reddit.pages[HOT] = listing("reddit_listing_1.json", **ratelimit(0, 1, used=100))
    reddit.pages["/r/Python/hot?limit=96&raw_json=1&after=t3_1l7c0de&count=4"] = listing()
    result = await crawl_here(domain_of(reddit))
    assert len(result.records) == 2 and result.stats.errors["throttle:ratelimit_exhausted"] == 1
    first, second = reddit.api_requests()
    assert second.at - first.at >= 0.95  # the window's reset (1 s) was waited for


async def test_refetch_uses_oauth_and_equals_the_crawl(reddit, credentials):
    reddit.pages[HOT] = listing()
    reddit.pages[POST] = listing()
    domain = domain_of(reddit)
    [record] = (await crawl_here(domain)).records
    TOKENS.forget()  # the validator is another process
    outcome = await fetch_one(domain, source_for(domain, record), record.uri, allow_private=True)
    assert outcome.status == "content" and outcome.record.content_hash == record.content_hash
    assert reddit.api_requests()[-1].authorization == "bearer tok-2"


async def test_refetch_without_credentials_is_the_validators_own_trouble(reddit, no_credentials, caplog):
    domain = domain_of(reddit)
    uri = reddit.base_url + "/r/Python/comments/1l6zzzz/how_we_profile_our_services/"
    with caplog.at_level(logging.WARNING):
        outcome = await fetch_one(domain, domain.sources[0], uri, allow_private=True)
    assert (outcome.status, outcome.reason) == ("unavailable", oauth.NO_CREDENTIALS)
    assert fetch_outcome(outcome) == "unknown" and reddit.seen == []
    assert "GLEAN_REDDIT_CLIENT_ID" in caplog.text


async def test_refetch_with_refused_credentials_is_unknown(reddit, monkeypatch):
    monkeypatch.setenv("GLEAN_REDDIT_CLIENT_ID", "someone-else")
    monkeypatch.setenv("GLEAN_REDDIT_CLIENT_SECRET", CLIENT_SECRET)
    domain = domain_of(reddit)
    uri = reddit.base_url + "/r/Python/comments/1l6zzzz/how_we_profile_our_services/"
    outcome = await fetch_one(domain, domain.sources[0], uri, allow_private=True)
    assert (outcome.status, outcome.reason, fetch_outcome(outcome)) == ("unavailable", "http_401", "unknown")
    assert reddit.api_requests() == []


async def test_refetch_waits_the_retry_after_of_a_429(reddit, credentials):
    reddit.pages[POST] = [Page(data("reddit_429.json"), status=429, content_type="application/json",
                               headers={"Retry-After": "1", **ratelimit(0, 1, used=100)}), listing()]
    domain = domain_of(reddit)
    uri = reddit.base_url + "/r/Python/comments/1l6zzzz/how_we_profile_our_services/"
    outcome = await fetch_one(domain, domain.sources[0], uri, allow_private=True)
    assert outcome.status == "content"
    first, second = reddit.api_requests()
    assert second.at - first.at >= 0.95


async def test_refetch_held_longer_than_it_may_wait_is_unknown_and_sends_nothing_more(reddit, credentials):
    reddit.pages[POST] = Page(data("reddit_429.json"), status=429, content_type="application/json",
                              headers={"Retry-After": "300"})
    domain = domain_of(reddit)
    uri = reddit.base_url + "/r/Python/comments/1l6zzzz/how_we_profile_our_services/"
    first = await fetch_one(domain, domain.sources[0], uri, allow_private=True)
    second = await fetch_one(domain, domain.sources[0], uri, allow_private=True)
    assert (first.reason, second.reason) == (pacing.THROTTLED, pacing.THROTTLED)
    assert fetch_outcome(first) == "unknown" and len(reddit.api_requests()) == 1


def test_unauthenticated_answers_are_the_services_current_ones(reddit):
    """Without a token the API answers 403, with a bad one 401: JSON with `message` and `error`."""
    import httpx

    no_token = httpx.get(reddit.base_url + HOT)
    bad_token = httpx.get(reddit.base_url + HOT, headers={"Authorization": "bearer nope"})
    assert (no_token.status_code, no_token.json()) == (403, {"message": "Forbidden", "error": 403})
    assert (bad_token.status_code, bad_token.json()["error"]) == (401, 401)
