"""fetch_one: the same Record as the crawl for an unchanged page, and the three outcomes."""

from __future__ import annotations

import socket

import httpx
import pytest

from schemas import Record
from scrapers import fetch_one, reasons, source_for
from tests.scrapers.recorded import (
    QuickSite,
    crawl_here,
    data,
    html_page,
    make_domain,
    reddit_params,
    robots,
    serve,
    serve_json,
    source,
)
from tests.support.site import LoopbackSite, Page


async def same_as_crawl(domain, records: list[Record]) -> None:
    assert records
    for record in records:
        spec = source_for(domain, record)
        outcome = await fetch_one(domain, spec, record.uri, allow_private=True)
        assert outcome.status == "content", (record.uri, outcome.reason)
        assert (outcome.record.uri, outcome.record.title) == (record.uri, record.title)
        assert (outcome.record.text, outcome.record.content_hash) == (record.text, record.content_hash)


# -- the same record as the crawl, for every kind ----------------------------------------------------------------
async def test_web_page_refetch_equals_the_crawl(site):
    site.add("/robots.txt", robots())
    site.add("/", html_page("Home", links=("/a",)))
    site.add("/a", html_page("An article", first=4, count=5))
    domain = make_domain(source("web", seeds=[site.url("/")]))
    await same_as_crawl(domain, (await crawl_here(domain)).records)


async def test_feed_article_refetch_equals_the_crawl(site):
    site.add("/feed.xml", Page(data("feed_atom.xml", site.base_url), content_type="application/atom+xml"))
    site.add("/articles/packaging", html_page("Packaging without tears", first=2))
    domain = make_domain(source("feed", feeds=[site.url("/feed.xml")]))
    await same_as_crawl(domain, (await crawl_here(domain)).records)


async def test_hackernews_refetch_equals_the_crawl(site):
    site.add("/v0/topstories.json", Page("[8863, 121003]", content_type="application/json"))
    serve_json(site, "/v0/item/8863.json", "hn_item_link.json")
    serve_json(site, "/v0/item/121003.json", "hn_item_ask.json")
    site.add("/articles/imports", html_page("How Python finds your modules"))
    domain = make_domain(source("hackernews", base_url=site.url("/v0"), allow_hosts=[site.netloc]))
    records = (await crawl_here(domain)).records
    assert len(records) == 2
    await same_as_crawl(domain, records)


async def test_wikipedia_refetch_equals_the_crawl(site):
    listing = ("/w/api.php?action=query&format=json&formatversion=2&maxlag=5&list=categorymembers"
               "&cmtitle=Category%3APhysics&cmtype=page&cmnamespace=0&cmlimit=50")
    serve(site, listing, Page('{"batchcomplete": true, "query": {"categorymembers": [{"pageid": 22939, "ns": 0, '
                              '"title": "Physics"}]}}', content_type="application/json"))
    serve_json(site, "/w/api.php?action=query&format=json&formatversion=2&maxlag=5&redirects=1&prop=extracts"
                     "%7Cinfo%7Crevisions&explaintext=1&exsectionformat=wiki&rvprop=ids%7Ctimestamp&titles=Physics",
               "wikipedia_article_physics.json")
    domain = make_domain(source("wikipedia", base_url=site.url("/w/api.php"), category="Category:Physics"))
    await same_as_crawl(domain, (await crawl_here(domain)).records)


async def test_reddit_refetch_equals_the_crawl(site):
    serve_json(site, "/r/Python/hot?limit=100&raw_json=1", "reddit_listing_2.json")
    listing = data("reddit_listing_2.json")
    serve(site, "/by_id/t3_1l6zzzz?raw_json=1", Page(listing, content_type="application/json"))
    domain = make_domain(source("reddit", **reddit_params(site), subreddits=["Python"]))
    await same_as_crawl(domain, (await crawl_here(domain)).records)


async def test_arxiv_refetch_equals_the_crawl(site):
    atom = "application/atom+xml"
    serve(site, "/api/query?search_query=cat%3Acs.LG&start=0&max_results=100&sortBy=submittedDate"
                "&sortOrder=descending", Page(data("arxiv_query_2.xml"), content_type=atom))
    serve(site, "/api/query?id_list=2106.09685&max_results=1", Page(data("arxiv_query_2.xml"), content_type=atom))
    domain = make_domain(source("arxiv", base_url=site.url("/api/query"), categories=["cs.LG"]))
    await same_as_crawl(domain, (await crawl_here(domain)).records)


async def test_stackexchange_refetch_equals_the_crawl(site):
    serve_json(site, "/2.3/questions?site=stackoverflow&filter=withbody&tagged=python&sort=activity&order=desc"
                     "&pagesize=100&page=1", "se_questions_2.json")
    serve_json(site, "/2.3/answers/419185?site=stackoverflow&filter=withbody&pagesize=100", "se_answers.json")
    serve_json(site, "/2.3/questions/419163?site=stackoverflow&filter=withbody", "se_questions_2.json")
    domain = make_domain(source("stackexchange", base_url=site.url("/2.3"), tags=["python"]))
    await same_as_crawl(domain, (await crawl_here(domain)).records)


# -- outcomes -------------------------------------------------------------------------------------------------------
def web_domain(site: LoopbackSite, **params):
    return make_domain(source("web", seeds=[site.url("/")], **params))


async def refetch(site: LoopbackSite, path: str, **kwargs):
    domain = web_domain(site)
    return await fetch_one(domain, domain.sources[0], site.url(path), **kwargs, allow_private=True)


@pytest.mark.parametrize(("status", "outcome"), [(404, "gone"), (410, "gone"), (429, "unavailable"),
                                                 (500, "unavailable"), (503, "unavailable"), (403, "unavailable")])
async def test_http_status_maps_to_an_outcome(site, status, outcome):
    site.add("/p", Page("no", status=status, content_type="text/plain"))
    result = await refetch(site, "/p")
    assert (result.status, result.reason, result.record) == (outcome, f"http_{status}", None)


async def test_slow_page_is_unavailable_timeout(site):
    site.add("/slow", Page(html_page("Slow").body, delay=1.0))
    result = await refetch(site, "/slow", timeout=0.3)
    assert (result.status, result.reason) == ("unavailable", reasons.TIMEOUT)


async def test_page_over_the_size_cap_is_unavailable_too_large(site):
    site.add("/big", Page("<html><body>" + "<p>word </p>" * 20_000 + "</body></html>"))
    result = await refetch(site, "/big", max_bytes=50_000)
    assert (result.status, result.reason) == ("unavailable", reasons.TOO_LARGE)


async def test_refused_connection_is_unavailable(site):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    domain = make_domain(source("web", seeds=[f"http://127.0.0.1:{port}/"]))
    result = await fetch_one(domain, domain.sources[0], f"http://127.0.0.1:{port}/a", timeout=3, allow_private=True)
    assert (result.status, result.reason) == ("unavailable", reasons.CONNECTION)


async def test_unknown_host_is_unavailable_dns():
    domain = make_domain(source("web", seeds=["http://no-such-host.invalid/"]))
    result = await fetch_one(domain, domain.sources[0], "http://no-such-host.invalid/a", timeout=5, allow_private=True)
    assert (result.status, result.reason) == ("unavailable", reasons.DNS)


async def test_uri_outside_the_allow_list_is_not_fetched(site):
    with QuickSite() as other:
        other.add("/x", html_page("Elsewhere"))
        domain = web_domain(site)
        result = await fetch_one(domain, domain.sources[0], other.url("/x"), allow_private=True)
        assert (result.status, result.reason, other.hits["/x"]) == ("unavailable", reasons.OFF_ALLOW_LIST, 0)


async def test_redirect_off_the_allow_list_is_not_followed(site):
    with QuickSite() as other:
        other.add("/x", html_page("Elsewhere"))
        site.add("/moved", Page("", status=301, headers={"Location": other.url("/x")}))
        result = await refetch(site, "/moved")
        assert (result.status, result.reason) == ("unavailable", reasons.REDIRECT_OFF_ALLOW_LIST)
        assert other.hits["/x"] == 0


async def test_robots_disallowed_page_is_not_fetched(site):
    site.add("/robots.txt", robots("User-agent: *\nDisallow: /private\n"))
    site.add("/private", html_page("Private"))
    result = await refetch(site, "/private")
    assert (result.status, result.reason, site.hits["/private"]) == ("unavailable", reasons.ROBOTS_DISALLOWED, 0)


async def test_refetch_uses_a_given_client_and_identifies_glean(site):
    site.add("/a", html_page("With a client"))
    async with httpx.AsyncClient() as client:
        result = await refetch(site, "/a", client=client)
    assert result.status == "content" and site.user_agents[-1].startswith("glean/")


async def test_deleted_and_missing_items_are_gone(site):
    serve_json(site, "/v0/item/99999999.json", "hn_item_deleted.json")
    site.add("/v0/item/5.json", Page("null", content_type="application/json"))
    domain = make_domain(source("hackernews", base_url=site.url("/v0")))
    deleted = await fetch_one(domain, domain.sources[0], "https://news.ycombinator.com/item?id=99999999",
                              allow_private=True)
    missing = await fetch_one(domain, domain.sources[0], "https://news.ycombinator.com/item?id=5", allow_private=True)
    assert (deleted.status, deleted.reason) == ("gone", reasons.DELETED)
    assert (missing.status, missing.reason) == ("gone", reasons.NOT_FOUND)


async def test_missing_wikipedia_article_is_gone(site):
    serve_json(site, "/w/api.php?action=query&format=json&formatversion=2&maxlag=5&redirects=1&prop=extracts"
                     "%7Cinfo%7Crevisions&explaintext=1&exsectionformat=wiki&rvprop=ids%7Ctimestamp"
                     "&titles=Not+a+page", "wikipedia_article_missing.json")
    domain = make_domain(source("wikipedia", base_url=site.url("/w/api.php"), category="Category:X"))
    result = await fetch_one(domain, domain.sources[0], site.url("/wiki/Not_a_page"), allow_private=True)
    assert (result.status, result.reason) == ("gone", reasons.NOT_FOUND)


async def test_arxiv_paper_no_longer_listed_is_gone(site):
    serve(site, "/api/query?id_list=2501.99999&max_results=1",
          Page(data("arxiv_empty.xml"), content_type="application/atom+xml"))
    domain = make_domain(source("arxiv", base_url=site.url("/api/query"), categories=["cs.LG"]))
    result = await fetch_one(domain, domain.sources[0], "https://arxiv.org/abs/2501.99999", allow_private=True)
    assert (result.status, result.reason) == ("gone", reasons.NOT_FOUND)


async def test_api_answering_garbage_is_unavailable(site):
    site.add("/v0/item/7.json", Page(b'{"by": "x", "id": 7, "ty', content_type="application/json"))
    domain = make_domain(source("hackernews", base_url=site.url("/v0")))
    result = await fetch_one(domain, domain.sources[0], "https://news.ycombinator.com/item?id=7", allow_private=True)
    assert (result.status, result.reason) == ("unavailable", reasons.INVALID_JSON)


# -- source_for -----------------------------------------------------------------------------------------------------
async def test_source_for_picks_the_source_that_covers_the_record(site):
    domain = make_domain(
        source("web", "docs", seeds=[site.url("/docs/")], allow_patterns=["/docs/"]),
        source("web", "blog", seeds=[site.url("/blog/")], allow_patterns=["/blog/"]),
        source("hackernews", base_url=site.url("/v0")),
    )
    site.add("/blog/post", html_page("A blog post"))
    outcome = await fetch_one(domain, domain.source("blog"), site.url("/blog/post"), allow_private=True)
    record = outcome.record
    assert source_for(domain, record).source_id == "blog"
    assert source_for(domain, record.model_copy(update={"uri": "http://elsewhere.example/blog/post"})) is None
    hn_post = record.model_copy(update={"source": "hackernews", "uri": "https://news.ycombinator.com/item?id=1",
                                        "meta": {"score": 50}})
    assert source_for(domain, hn_post).kind == "hackernews"
    assert source_for(domain, hn_post.model_copy(update={"meta": {"score": 1}})) is None  # too few points
