"""Bad answers during a crawl: no crash, no bogus record, a counted reason."""

from __future__ import annotations

import socket

from scrapers import reasons
from tests.scrapers.recorded import (
    article,
    crawl_here,
    data,
    html_page,
    make_domain,
    reddit_params,
    serve,
    serve_json,
    source,
)
from tests.support.site import LoopbackSite, Page


def web(site: LoopbackSite, *paths: str, **params):
    return make_domain(source("web", seeds=[site.url(p) for p in paths], **params))


def hn(site: LoopbackSite, **params):
    return make_domain(source("hackernews", base_url=site.url("/v0"), **params))


async def test_truncated_json_is_counted_as_invalid_json(site):
    site.add("/v0/topstories.json", Page("[8863, 121003]", content_type="application/json"))
    site.add("/v0/item/8863.json", Page(data("hn_item_ask.json")[:80], content_type="application/json"))
    serve_json(site, "/v0/item/121003.json", "hn_item_ask.json")
    result = await crawl_here(hn(site))
    assert len(result.records) == 1 and result.stats.errors == {reasons.INVALID_JSON: 1}


async def test_json_api_answering_html_is_counted_as_bad_content_type(site):
    site.add("/r/Python/hot", Page(article("Our servers are busy"), content_type="text/html"))
    domain = make_domain(source("reddit", **reddit_params(site), subreddits=["Python"]))
    result = await crawl_here(domain)
    assert result.records == [] and result.stats.errors == {reasons.BAD_CONTENT_TYPE: 1}


async def test_non_utf8_json_is_counted_as_invalid_json(site):
    site.add("/v0/topstories.json", Page(b"[1, 2, \xff\xfe]", content_type="application/json"))
    result = await crawl_here(hn(site))
    assert result.records == [] and result.stats.errors == {reasons.INVALID_JSON: 1}


async def test_body_over_the_size_cap_is_dropped_and_counted(site):
    huge = article("Huge").replace("</body>", "<!--" + "x" * 300_000 + "--></body>")
    site.add("/huge", Page(huge))
    site.add("/ok", html_page("Fine", first=2))
    result = await crawl_here(web(site, "/huge", "/ok", max_bytes=128 * 1024))
    assert [r.uri for r in result.records] == [site.url("/ok")]
    assert result.stats.errors.get(reasons.TOO_LARGE) == 1


async def test_latin1_page_gives_a_correct_record(site):
    body = article("Café au lait", first=2).replace("<meta charset=\"utf-8\">", "").encode("cp1252")
    site.add("/cafe", Page(body, content_type="text/html; charset=windows-1252"))
    result = await crawl_here(web(site, "/cafe"))
    assert result.records[0].title == "Café au lait"


async def test_empty_page_is_counted_and_gives_no_record(site):
    site.add("/empty", Page(""))
    result = await crawl_here(web(site, "/empty"))
    assert result.records == [] and result.stats.errors == {reasons.EMPTY: 1}


async def test_binary_answer_on_a_web_page_is_counted(site):
    site.add("/file.pdf", Page(b"%PDF-1.7\n\x00\x01binary", content_type="application/pdf"))
    result = await crawl_here(web(site, "/file.pdf"))
    assert result.records == [] and result.stats.errors == {reasons.BAD_CONTENT_TYPE: 1}


async def test_429_and_503_are_retried_then_counted(site):
    site.add("/busy", Page("slow down", status=429, content_type="text/plain"))
    site.add("/down", Page("maintenance", status=503, content_type="text/plain"))
    result = await crawl_here(web(site, "/busy", "/down", retries=1))
    assert result.records == [] and result.stats.errors == {"http_429": 1, "http_503": 1}
    assert site.hits["/busy"] == 2 and site.hits["/down"] == 2


async def test_slow_answer_times_out_and_is_counted(site):
    site.add("/slow", Page(article("Slow"), delay=1.5))
    result = await crawl_here(web(site, "/slow", timeout=0.3, retries=0))
    assert result.records == [] and result.stats.errors == {reasons.TIMEOUT: 1}


async def test_refused_connection_is_counted(site):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    domain = make_domain(source("web", seeds=[f"http://127.0.0.1:{closed}/"], retries=0))
    result = await crawl_here(domain)
    assert result.records == [] and result.stats.errors == {reasons.CONNECTION: 1}


async def test_api_error_answer_is_counted(site):
    wiki = "/w/api.php?action=query&format=json&formatversion=2&maxlag=5&list=categorymembers"
    serve(site, wiki + "&cmtitle=Category%3AX&cmtype=page&cmnamespace=0&cmlimit=50",
          Page('{"error": {"code": "badvalue", "info": "Unrecognized value for parameter \\"list\\": x."}}',
               content_type="application/json", headers={"MediaWiki-API-Error": "badvalue"}))
    domain = make_domain(source("wikipedia", base_url=site.url("/w/api.php"), category="Category:X"))
    result = await crawl_here(domain)
    assert result.records == [] and result.stats.errors == {reasons.API_ERROR: 1}
