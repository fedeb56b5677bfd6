"""Feed and API spiders against loopback servers answering in the real services' formats."""

from __future__ import annotations

from datetime import UTC, datetime

from scrapers import reasons
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


# -- feed ------------------------------------------------------------------------------------------------------
async def test_feed_entries_are_followed_to_their_articles(site):
    site.add("/robots.txt", robots())
    site.add("/feed.xml", Page(data("feed_rss.xml", site.base_url), content_type="application/rss+xml"))
    site.add("/articles/imports", html_page("How Python finds your modules"))
    site.add("/articles/venvs", Page(html_page("Virtual environments", first=1).body.replace(
        '<meta property="article:published_time" content="2025-06-10T08:00:00Z">', "").replace(
        '<time datetime="2025-06-10T08:00:00Z">2025-06-10T08:00:00Z</time>', "")))
    result = await crawl_here(make_domain(source("feed", feeds=[site.url("/feed.xml")])))
    by_uri = result.by_uri()
    assert set(by_uri) == {site.url("/articles/imports"), site.url("/articles/venvs")}  # utm_* stripped
    assert by_uri[site.url("/articles/imports")].source == "feed"
    assert by_uri[site.url("/articles/venvs")].published_at == datetime(2025, 6, 9, 8, tzinfo=UTC)  # feed's date


async def test_feed_articles_on_other_hosts_are_not_fetched(site):
    with QuickSite() as other:
        other.add("/post", html_page("Elsewhere"))
        feed = data("feed_rss.xml", site.base_url).replace("https://elsewhere.example/partner-article",
                                                          other.url("/post"))
        site.add("/feed.xml", Page(feed, content_type="application/rss+xml"))
        result = await crawl_here(make_domain(source("feed", feeds=[site.url("/feed.xml")])))
        assert other.hits["/post"] == 0 and other.url("/post") not in result.by_uri()


async def test_feed_served_as_html_is_counted_and_gives_nothing(site):
    site.add("/feed.xml", html_page("Not a feed"))
    result = await crawl_here(make_domain(source("feed", feeds=[site.url("/feed.xml")])))
    assert result.records == [] and result.stats.errors == {reasons.BAD_CONTENT_TYPE: 1}


# -- wikipedia ----------------------------------------------------------------------------------------------------
def wiki(site: LoopbackSite, **params):
    return make_domain(source("wikipedia", base_url=site.url("/w/api.php"), category="Category:Physics", **params))


def serve_wiki(site: LoopbackSite) -> None:
    listing = "/w/api.php?action=query&format=json&formatversion=2&maxlag=5&list=categorymembers"
    first = listing + "&cmtitle=Category%3APhysics&cmtype=page&cmnamespace=0&cmlimit=50"
    serve_json(site, first, "wikipedia_categorymembers_1.json")
    serve_json(site, first + "&cmcontinue=page%7C3a4845415420454e47494e45%7C41234&continue=-%7C%7C",
               "wikipedia_categorymembers_2.json")
    article = ("/w/api.php?action=query&format=json&formatversion=2&maxlag=5&redirects=1&prop=extracts%7Cinfo"
               "%7Crevisions&explaintext=1&exsectionformat=wiki&rvprop=ids%7Ctimestamp&titles=")
    serve_json(site, article + "Physics", "wikipedia_article_physics.json")
    for title in ("Mass", "Speed+of+light", "Schr%C3%B6dinger+equation"):
        physics = data("wikipedia_article_physics.json").replace('"title": "Physics"', f'"title": "{title}"')
        serve(site, article + title, Page(physics.replace("+", " ").replace("%C3%B6", "ö"),
                                          content_type="application/json"))


async def test_category_members_are_paged_and_each_article_fetched(site):
    serve_wiki(site)
    result = await crawl_here(wiki(site))
    assert sorted(r.title for r in result.records) == ["Mass", "Physics", "Schrödinger equation", "Speed of light"]
    assert site.url("/wiki/Schr%C3%B6dinger_equation") in result.by_uri()
    assert result.stats.errors == {} and site.hits["/robots.txt"] == 0  # the API is not crawled as web pages


async def test_wikipedia_limit_caps_the_articles(site):
    serve_wiki(site)
    result = await crawl_here(wiki(site, limit=1))
    assert [r.title for r in result.records] == ["Physics"] and result.stats.pages == 2


# -- hacker news --------------------------------------------------------------------------------------------------
def serve_hn(site: LoopbackSite) -> None:
    site.add("/robots.txt", robots())
    serve_json(site, "/v0/topstories.json", "hn_topstories.json")
    serve_json(site, "/v0/item/8863.json", "hn_item_link.json")
    serve_json(site, "/v0/item/121003.json", "hn_item_ask.json")
    serve_json(site, "/v0/item/35555.json", "hn_item_offsite.json")
    serve_json(site, "/v0/item/99999999.json", "hn_item_deleted.json")
    site.add("/articles/imports", html_page("How Python finds your modules", published="2025-01-01T00:00:00Z"))


async def test_hn_text_posts_and_allowed_linked_articles_become_records(site):
    serve_hn(site)
    domain = make_domain(source("hackernews", base_url=site.url("/v0"), allow_hosts=[site.netloc]))
    result = await crawl_here(domain)
    by_uri = result.by_uri()
    assert set(by_uri) == {"https://news.ycombinator.com/item?id=121003", site.url("/articles/imports")}
    assert all(r.source == "hackernews" for r in result.records)
    assert result.stats.errors == {reasons.DELETED: 1}


async def test_hn_limit_and_follow_links_off(site):
    serve_hn(site)
    domain = make_domain(source("hackernews", base_url=site.url("/v0"), limit=2, follow_links=False))
    result = await crawl_here(domain)
    assert [r.uri for r in result.records] == ["https://news.ycombinator.com/item?id=121003"]
    assert site.hits["/articles/imports"] == 0 and site.hits["/v0/item/35555.json"] == 0


# -- reddit -------------------------------------------------------------------------------------------------------
async def test_reddit_listing_pages_are_followed_with_after(site):
    serve_json(site, "/r/Python/top?limit=100&raw_json=1&t=day", "reddit_listing_1.json")
    serve_json(site, "/r/Python/top?limit=96&raw_json=1&t=day&after=t3_1l7c0de&count=4",
               "reddit_listing_2.json")
    domain = make_domain(source("reddit", **reddit_params(site), subreddits=["Python"], listing="top"))
    result = await crawl_here(domain)
    assert sorted(r.title for r in result.records) == ["How we profile our services",
                                                       "What finally made asyncio click for me"]
    assert all(r.uri.startswith(site.url("/r/Python/comments/")) for r in result.records)


async def test_reddit_limit_stops_the_paging(site):
    serve_json(site, "/r/Python/hot?limit=4&raw_json=1", "reddit_listing_1.json")
    domain = make_domain(source("reddit", **reddit_params(site), subreddits=["Python"], limit=4))
    result = await crawl_here(domain)
    assert len(result.records) == 1 and result.stats.pages == 1


# -- arxiv --------------------------------------------------------------------------------------------------------
async def test_arxiv_results_are_paged_up_to_the_total(site):
    query = "/api/query?search_query=%28cat%3Acs.LG+OR+cat%3Acs.CL%29&start={start}&max_results={size}" \
            "&sortBy=submittedDate&sortOrder=descending"
    atom = "application/atom+xml; charset=UTF-8"
    serve(site, query.format(start=0, size=2), Page(data("arxiv_query_1.xml"), content_type=atom))
    serve(site, query.format(start=2, size=2), Page(data("arxiv_query_2.xml"), content_type=atom))
    domain = make_domain(source("arxiv", base_url=site.url("/api/query"), categories=["cs.LG", "cs.CL"],
                                page_size=2, max_results=10))
    result = await crawl_here(domain)
    assert sorted(r.uri for r in result.records) == ["https://arxiv.org/abs/1412.6980",
                                                     "https://arxiv.org/abs/1706.03762",
                                                     "https://arxiv.org/abs/2106.09685"]
    assert result.stats.pages == 2


# -- stack exchange ------------------------------------------------------------------------------------------------
async def test_stackexchange_questions_are_paged_and_joined_with_accepted_answers(site):
    base = "/2.3/questions?site=stackoverflow&filter=withbody&tagged=python&sort=activity&order=desc&pagesize=100"
    serve_json(site, base + "&page=1", "se_questions_1.json")
    serve_json(site, base + "&page=2", "se_questions_2.json")
    answers = "/2.3/answers/{ids}?site=stackoverflow&filter=withbody&pagesize=100"
    serve_json(site, answers.format(ids="231855;11227902"), "se_answers.json")
    serve_json(site, answers.format(ids="419185"), "se_answers.json")
    domain = make_domain(source("stackexchange", base_url=site.url("/2.3"), tags=["python"]))
    result = await crawl_here(domain)
    assert sorted(r.uri for r in result.records) == ["https://stackoverflow.com/questions/11227809",
                                                     "https://stackoverflow.com/questions/231767",
                                                     "https://stackoverflow.com/questions/419163"]
    assert result.stats.pages == 4 and result.stats.errors == {}
