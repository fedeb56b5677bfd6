"""The web spider against a loopback site: seeds, sitemaps via robots.txt, depth, patterns, robots, allow-list."""

from __future__ import annotations

from scrapers import USER_AGENT, reasons
from tests.scrapers.recorded import QuickSite, crawl_here, html_page, make_domain, robots, source
from tests.support.site import LoopbackSite, Page

SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{urls}
</urlset>"""


def sitemap(site: LoopbackSite, *paths: str) -> Page:
    urls = "\n".join(f"  <url><loc>{site.url(p)}</loc><lastmod>2025-06-01</lastmod></url>" for p in paths)
    return Page(SITEMAP.format(urls=urls), content_type="application/xml")


def web_domain(site: LoopbackSite, *seeds: str, **params):
    return make_domain(source("web", seeds=[site.url(s) for s in seeds], **params))


async def test_links_are_followed_and_every_article_becomes_a_record(site):
    site.add("/robots.txt", robots())
    site.add("/", html_page("Home of the journal", links=("/a1", "/a2")))
    site.add("/a1", html_page("First article", first=1, links=("/a2", "/a3")))
    site.add("/a2", html_page("Second article", first=2))
    site.add("/a3", html_page("Third article", first=3))
    result = await crawl_here(web_domain(site, "/"))
    assert set(result.by_uri()) == {site.url(p) for p in ("/", "/a1", "/a2", "/a3")}
    assert result.stats.pages == 4 + 5  # four articles, five nav/footer links answered 404
    assert result.stats.records == 4 and result.stats.errors == {"http_404": 5}


async def test_requests_identify_glean_with_a_contact_url(site):
    site.add("/", html_page("Home"))
    await crawl_here(web_domain(site, "/"))
    assert site.user_agents and all(ua == USER_AGENT for ua in site.user_agents)
    assert USER_AGENT.startswith("glean/") and "(+https://github.com/glean-subnet/glean)" in USER_AGENT


async def test_sitemaps_from_robots_txt_are_read(site):
    site.add("/robots.txt", robots(f"User-agent: *\nAllow: /\nSitemap: {site.url('/sitemap.xml')}\n"))
    site.add("/sitemap.xml", sitemap(site, "/s1", "/s2"))
    site.add("/", Page("<html><body><p>tiny home</p></body></html>"))
    site.add("/s1", html_page("Only in the sitemap", first=4))
    site.add("/s2", html_page("Also only in the sitemap", first=5))
    result = await crawl_here(web_domain(site, "/"))
    assert {site.url("/s1"), site.url("/s2")} <= set(result.by_uri())
    assert site.hits["/robots.txt"] == 1  # read once, for the rules and the Sitemap: lines


async def test_robots_disallow_is_honoured_and_counted(site):
    site.add("/robots.txt", robots("User-agent: *\nDisallow: /private/\n"))
    site.add("/", html_page("Home", links=("/private/secret", "/open")))
    site.add("/private/secret", html_page("Secret"))
    site.add("/open", html_page("Open", first=2))
    result = await crawl_here(web_domain(site, "/"))
    assert site.hits["/private/secret"] == 0
    assert result.stats.robots_disallowed == 1 and site.url("/private/secret") not in result.by_uri()


async def test_robots_rules_apply_to_requests_sent_while_robots_txt_is_loading(site):
    site.add("/robots.txt", Page("User-agent: *\nDisallow: /p/\n", content_type="text/plain", delay=0.2))
    seeds = [f"/p/{i}" for i in range(6)]
    for path in seeds:
        site.add(path, html_page(f"Page {path}"))
    result = await crawl_here(web_domain(site, *seeds, concurrency=8))
    assert sum(site.hits[p] for p in seeds) == 0 and result.stats.robots_disallowed == 6


async def test_robots_txt_answered_with_503_disallows_the_site(site):
    site.add("/robots.txt", Page("down", status=503, content_type="text/plain"))
    site.add("/", html_page("Home"))
    result = await crawl_here(web_domain(site, "/", retries=0))
    assert site.hits["/"] == 0 and result.records == [] and result.stats.robots_disallowed == 1


async def test_off_allow_list_links_are_not_followed(site):
    with QuickSite() as other:
        other.add("/elsewhere", html_page("Another host"))
        site.add("/", html_page("Home", links=(other.url("/elsewhere"), "/in")))
        site.add("/in", html_page("Inside", first=1))
        result = await crawl_here(web_domain(site, "/"))
        assert other.hits["/elsewhere"] == 0 and other.hits["/robots.txt"] == 0
        assert site.url("/in") in result.by_uri()


async def test_redirect_off_the_allow_list_is_not_followed_and_is_counted(site):
    with QuickSite() as other:
        other.add("/landing", html_page("Landing elsewhere"))
        site.add("/", html_page("Home", links=("/moved",)))
        site.add("/moved", Page("", status=302, headers={"Location": other.url("/landing")}))
        result = await crawl_here(web_domain(site, "/"))
        assert other.hits["/landing"] == 0
        assert result.stats.errors.get(reasons.REDIRECT_OFF_ALLOW_LIST) == 1


async def test_redirect_within_the_allow_list_gives_the_final_url(site):
    site.add("/", html_page("Home", links=("/old",)))
    site.add("/old", Page("", status=301, headers={"Location": "/new"}))
    site.add("/new", html_page("Moved article", first=3))
    result = await crawl_here(web_domain(site, "/"))
    assert site.url("/new") in result.by_uri() and site.url("/old") not in result.by_uri()


async def test_patterns_choose_which_pages_become_records_and_are_followed(site):
    site.add("/", html_page("Home", links=("/docs/a", "/blog/b")))
    site.add("/docs/a", html_page("Docs page", first=1))
    site.add("/blog/b", html_page("Blog page", first=2))
    result = await crawl_here(web_domain(site, "/", allow_patterns=[r"/docs/"]))
    assert set(result.by_uri()) == {site.url("/docs/a")} and site.hits["/blog/b"] == 0


async def test_max_depth_limits_how_far_links_are_followed(site):
    chain = [f"/d{i}" for i in range(5)]
    site.add("/", html_page("Depth zero", links=(chain[0],)))
    for i, path in enumerate(chain):
        site.add(path, html_page(f"Depth {i + 1}", first=i, links=(chain[i + 1],) if i + 1 < len(chain) else ()))
    result = await crawl_here(web_domain(site, "/", max_depth=2))
    assert set(result.by_uri()) == {site.url("/"), site.url("/d0"), site.url("/d1")}
    assert site.hits["/d2"] == 0


async def test_page_budget_caps_the_requests_sent(site):
    paths = [f"/n{i}" for i in range(30)]
    site.add("/", html_page("Hub", links=tuple(paths)))
    for i, path in enumerate(paths):
        site.add(path, html_page(f"Node {i}", first=i))
    result = await crawl_here(web_domain(site, "/"), page_budget=10)
    assert result.stats.pages == 10 and sum(site.hits.values()) - site.hits["/robots.txt"] == 10


async def test_records_arrive_in_batches_and_repeated_crawls_work(site):
    site.add("/", html_page("Home", links=("/a",)))
    site.add("/a", html_page("A", first=1))
    first = await crawl_here(web_domain(site, "/"))
    second = await crawl_here(web_domain(site, "/"))
    assert first.batches >= 1 and {r.content_hash for r in first.records} == {r.content_hash for r in second.records}


async def test_http_cache_serves_a_repeated_crawl(site, tmp_path):
    cached = {"Cache-Control": "max-age=3600"}
    site.add("/robots.txt", Page("User-agent: *\nAllow: /\n", content_type="text/plain", headers=cached))
    site.add("/", Page(html_page("Cached home").body, headers=cached))
    await crawl_here(web_domain(site, "/"), http_cache_dir=tmp_path)
    again = await crawl_here(web_domain(site, "/"), http_cache_dir=tmp_path)
    assert site.hits["/"] == 1 and len(again.records) == 1


async def test_page_budget_is_split_between_the_sources(site):
    site.add("/", html_page("Home", links=tuple(f"/x{i}" for i in range(10))))
    for i in range(10):
        site.add(f"/x{i}", html_page(f"X {i}", first=i))
    site.add("/feed.xml", Page("<rss version='2.0'><channel><title>t</title></channel></rss>",
                               content_type="application/rss+xml"))
    domain = make_domain(source("web", seeds=[site.url("/")]), source("feed", feeds=[site.url("/feed.xml")]))
    result = await crawl_here(domain, page_budget=6)
    assert result.stats.pages == 3 + 1  # the web source got 3 requests, the feed 3 of which it needed 1


async def test_links_to_files_that_are_not_pages_are_not_followed(site):
    site.add("/", html_page("Home", links=("/feed.xml", "/paper.pdf", "/logo.png", "/next.html")))
    site.add("/next.html", html_page("Next", first=1))
    result = await crawl_here(web_domain(site, "/"))
    assert site.url("/next.html") in result.by_uri()
    assert site.hits["/feed.xml"] == site.hits["/paper.pdf"] == site.hits["/logo.png"] == 0
