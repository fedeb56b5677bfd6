"""Sources the miner can write: each kind's constraints, judged on what a record claims (source_for, before the
validator samples it), in the crawl (skipped and counted) and on the live item (a re-fetch that is no pass)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from schemas import DomainCatalog, Record
from schemas.protocol import RecordsRequest
from schemas.record import utcnow
from scrapers import fetch_one, reasons, source_for
from scrapers.kinds import kind_of
from scrapers.parsing import ParseContext, from_timestamp, make_record
from tests.scrapers.recorded import PROSE, crawl_here, make_domain, reddit_params, serve, serve_json, source
from tests.support.site import Page
from validator.ladder import judge_page
from validator.verification import Verifier

TEXT = " ".join(PROSE[:2])
HOUR = 3600


def record_of(domain, uri: str, *, title: str = "A title", published: float | None = None, labels=(),
              **meta: Any) -> Record:
    """A record of the domain's first source as its parser would build it (what a miner delivers)."""
    spec = domain.sources[0]
    ctx = ParseContext(domain=domain.id, source_id=spec.source_id, kind=spec.kind,
                       params=kind_of(spec.kind).load_params(spec, domain.id))
    return make_record(ctx, uri=uri, text=TEXT, title=title, published_at=from_timestamp(published),
                       labels=labels, meta=meta)


async def refetch(domain, uri: str):
    return await fetch_one(domain, domain.sources[0], uri, allow_private=True)


# -- reddit -------------------------------------------------------------------------------------------------------
def reddit_post(post_id: str, subreddit: str, *, score: int = 50, age_hours: float = 48) -> dict[str, Any]:
    return {"kind": "t3", "data": {
        "id": post_id, "subreddit": subreddit, "is_self": True, "selftext": TEXT, "title": f"Post {post_id}",
        "score": score, "created_utc": time.time() - age_hours * HOUR, "author": "someone", "num_comments": 3,
        "permalink": f"/r/{subreddit}/comments/{post_id}/post_{post_id}/"}}


def listing(*posts: dict[str, Any]) -> Page:
    body = {"kind": "Listing", "data": {"after": None, "children": list(posts)}}
    return Page(json.dumps(body), content_type="application/json")


def reddit_domain(site, **params):
    return make_domain(source("reddit", **reddit_params(site), subreddits=["Python"], **params))


def test_a_post_in_a_subreddit_the_source_does_not_list_is_not_covered(site):
    domain = reddit_domain(site)
    own = record_of(domain, site.url("/r/mallorys_ads/comments/abc123/buy_now/"), published=time.time() - 48 * HOUR,
                    score=50, subreddit="mallorys_ads")
    assert source_for(domain, own) is None
    listed = own.model_copy(update={"uri": site.url("/r/Python/comments/abc123/buy_now/"),
                                    "meta": {**own.meta, "subreddit": "Python"}})
    assert source_for(domain, listed) is not None
    # the URI and the claimed subreddit must agree
    assert source_for(domain, listed.model_copy(update={"meta": {**own.meta}})) is None


def test_a_young_or_unvoted_post_is_not_covered(site):
    domain = reddit_domain(site)
    uri = site.url("/r/Python/comments/abc123/buy_now/")
    assert source_for(domain, record_of(domain, uri, published=time.time() - 48 * HOUR, score=1,
                                        subreddit="Python")) is None
    assert source_for(domain, record_of(domain, uri, published=time.time() - 60, score=50,
                                        subreddit="Python")) is None


async def test_the_crawl_skips_young_and_unvoted_posts_and_counts_them(site):
    serve(site, "/r/Python/hot?limit=100&raw_json=1",
          listing(reddit_post("ok1", "Python"), reddit_post("low1", "Python", score=2),
                  reddit_post("new1", "Python", age_hours=0.5)))
    result = await crawl_here(reddit_domain(site))
    assert [r.meta["reddit_id"] for r in result.records] == ["ok1"]
    assert result.stats.errors == {reasons.constraint("min_score"): 1, reasons.constraint("min_age"): 1}


@pytest.mark.parametrize(("live", "reason"), [
    (reddit_post("abc123", "mallorys_ads"), "subreddit"),      # a post of the miner's own subreddit
    (reddit_post("abc123", "Python", score=1), "min_score"),  # nobody voted for it
    (reddit_post("abc123", "Python", age_hours=0.2), "min_age"),
])
async def test_a_live_post_breaking_a_rule_is_unavailable_by_that_constraint(site, live, reason):
    serve(site, "/by_id/t3_abc123?raw_json=1", listing(live))
    result = await refetch(reddit_domain(site), site.url("/r/Python/comments/abc123/post_abc123/"))
    assert (result.status, result.reason) == ("unavailable", reasons.constraint(reason))


@pytest.mark.parametrize(("claims", "reason"), [
    ({"subreddit": "mallorys_ads", "score": 50, "age_hours": 48}, "source_constraint:subreddit"),
    ({"subreddit": "Python", "score": 1, "age_hours": 48}, "source_constraint:min_score"),
    ({"subreddit": "Python", "score": 50, "age_hours": 0.1}, "source_constraint:min_age"),
])
def test_the_ladder_rejects_claims_breaking_a_rule_before_sampling(site, claims, reason):
    domain = reddit_domain(site)
    record = record_of(domain, site.url(f"/r/{claims['subreddit']}/comments/abc123/buy_now/"),
                       published=time.time() - claims["age_hours"] * HOUR, score=claims["score"],
                       subreddit=claims["subreddit"])
    body = json.dumps({"records": [{"seq": 11, "record": record.model_dump(mode="json")}], "next_seq": 11,
                       "more": False}).encode()
    verdict = judge_page(7, body, RecordsRequest(after_seq=10, domain=domain.id, limit=5), DomainCatalog([domain]),
                         utcnow())
    assert verdict.rejected == {(domain.id, reason): 1}


@pytest.mark.parametrize(("posted_in", "broken"), [("mallorys_ads", "subreddit"), ("Python", "min_score")])
async def test_a_self_publisher_gets_no_pass_through_the_validators_fetch_one(site, posted_in, broken):
    """The miner posts (to a subreddit it owns, or to r/Python itself) and delivers the post claimed as r/Python, 50
    points, two days old: every claim is within the rules, so the ladder lets it through; the validator's re-fetch
    finds the fresh, unvoted post."""
    serve(site, "/by_id/t3_abc123?raw_json=1", listing(reddit_post("abc123", posted_in, score=1,
                                                                        age_hours=0.1)))
    domain = reddit_domain(site)
    claimed = record_of(domain, site.url("/r/Python/comments/abc123/post_abc123/"), title="Post abc123",
                        published=time.time() - 48 * HOUR, score=50, subreddit="Python", reddit_id="abc123")
    assert source_for(domain, claimed) is not None
    verifier = Verifier(DomainCatalog([domain]), allow_private=True)
    try:
        check = await verifier.check(claimed)
    finally:
        await verifier.aclose()
    assert (check.outcome, check.reason) == ("unverified", "unavailable:" + reasons.constraint(broken))


# -- wikipedia ----------------------------------------------------------------------------------------------------
ARTICLE = ("/w/api.php?action=query&format=json&formatversion=2&maxlag=5&redirects=1&prop=extracts%7Cinfo"
           "%7Crevisions&explaintext=1&exsectionformat=wiki&rvprop=ids%7Ctimestamp&titles={title}")


def wiki_domain(site):
    return make_domain(source("wikipedia", base_url=site.url("/w/api.php"), category="Category:Physics"))


def wiki_answer(title: str, ns: int) -> Page:
    page = {"pageid": 777, "ns": ns, "title": title, "pagelanguage": "en", "extract": TEXT,
            "revisions": [{"revid": 1, "timestamp": "2025-05-30T18:22:41Z"}]}
    return Page(json.dumps({"batchcomplete": True, "query": {"pages": [page]}}), content_type="application/json")


@pytest.mark.parametrize("title", ["User:Mallory", "Draft:Buy_now", "Talk:Physics", "user_talk:Mallory",
                                   "Wikipedia:Sandbox"])
async def test_titles_outside_the_article_namespace_are_not_covered(site, title):
    domain = wiki_domain(site)
    claimed = record_of(domain, site.url(f"/wiki/{title}"), title=title.replace("_", " "), namespace=0)
    assert source_for(domain, claimed) is None
    result = await refetch(domain, site.url(f"/wiki/{title}"))
    assert (result.status, result.reason) == ("unavailable", reasons.OFF_ALLOW_LIST)
    assert not site.hits  # nothing was asked of the wiki


async def test_a_page_the_wiki_puts_in_another_namespace_is_unverified(site):
    """A localised namespace name (no prefix we know) still shows in the answer's `ns`."""
    serve(site, ARTICLE.format(title="Benutzer%3AMallory"), wiki_answer("Benutzer:Mallory", 2))
    domain = wiki_domain(site)
    result = await refetch(domain, site.url("/wiki/Benutzer:Mallory"))
    assert (result.status, result.reason) == ("unavailable", reasons.constraint("namespace"))
    claimed = record_of(domain, site.url("/wiki/Benutzer:Mallory"), title="Benutzer:Mallory", namespace=2)
    assert source_for(domain, claimed) is None
    assert source_for(domain, claimed.model_copy(update={"meta": {**claimed.meta, "namespace": 0}})) is not None


async def test_an_article_title_with_a_colon_is_still_an_article(site):
    serve(site, ARTICLE.format(title="T%3A+The+Magazine"), wiki_answer("T: The Magazine", 0))
    result = await refetch(wiki_domain(site), site.url("/wiki/T:_The_Magazine"))
    assert result.status == "content", result.reason
    assert kind_of("wikipedia").claims(result.record) == {"namespace": 0, "pageid": 777}


# -- host rules ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("hosts", "covered"), [
    (["example.com"], {"https://example.com/a"}),
    (["*.example.com"], {"https://evil.example.com/a", "https://a.b.example.com/a"}),
    (["example.com", "*.example.com"], {"https://example.com/a", "https://evil.example.com/a",
                                        "https://a.b.example.com/a"}),
])
def test_a_host_covers_its_subdomains_only_when_written_as_a_wildcard(hosts, covered):
    domain = make_domain(source("web", seeds=["https://example.com/"], allow_hosts=hosts))
    uris = ["https://example.com/a", "https://evil.example.com/a", "https://a.b.example.com/a",
            "https://badexample.com/a"]
    found = {uri for uri in uris if source_for(domain, record_of(domain, uri)) is not None}
    assert found == covered


# -- stack exchange -----------------------------------------------------------------------------------------------
def se_domain(site, **params):
    return make_domain(source("stackexchange", base_url=site.url("/2.3"), **{"tags": ["python"], **params}))


def serve_question(site) -> None:
    serve_json(site, "/2.3/questions/419163?site=stackoverflow&filter=withbody", "se_questions_2.json")
    serve_json(site, "/2.3/answers/419185?site=stackoverflow&filter=withbody&pagesize=100", "se_answers.json")


@pytest.mark.parametrize("uri", ["https://evil.example/questions/419163", "https://stackoverflow.com.evil.example/"
                                 "questions/419163", "https://meta.stackoverflow.com/questions/419163"])
async def test_a_question_path_on_another_host_is_not_covered(site, uri):
    serve_question(site)
    domain = se_domain(site)
    claimed = record_of(domain, uri, labels=["python"], score=10)
    assert source_for(domain, claimed) is None
    result = await refetch(domain, uri)
    assert (result.status, result.reason) == ("unavailable", reasons.OFF_ALLOW_LIST)
    assert not site.hits
    on_site = claimed.model_copy(update={"uri": "https://stackoverflow.com/questions/419163"})
    assert source_for(domain, on_site) is not None


async def test_a_question_without_the_sources_tags_or_votes_is_unverified(site):
    serve_question(site)  # tagged [python], score 10
    uri = "https://stackoverflow.com/questions/419163"
    assert (await refetch(se_domain(site), uri)).status == "content"
    assert (await refetch(se_domain(site, tags=["rust"]), uri)).reason == reasons.constraint("tags")
    assert (await refetch(se_domain(site, min_score=11), uri)).reason == reasons.constraint("min_score")
    domain = se_domain(site)
    assert source_for(domain, record_of(domain, uri, labels=["javascript"], score=10)) is None


async def test_site_url_names_where_a_site_serves_its_questions(site):
    domain = se_domain(site, site_url=site.base_url)
    assert source_for(domain, record_of(domain, site.url("/questions/5"), labels=["python"], score=10))
    assert source_for(domain, record_of(domain, "https://stackoverflow.com/questions/5", labels=["python"],
                                        score=10)) is None


# -- hacker news --------------------------------------------------------------------------------------------------
ASK = "https://news.ycombinator.com/item?id=121003"  # hn_item_ask.json: 25 points


async def test_an_hn_text_post_below_min_points_is_skipped_and_unverified(site):
    site.add("/v0/topstories.json", Page("[121003]", content_type="application/json"))
    serve_json(site, "/v0/item/121003.json", "hn_item_ask.json")
    strict = make_domain(source("hackernews", base_url=site.url("/v0"), text_min_score=30))
    result = await crawl_here(strict)
    assert result.records == []
    assert result.stats.errors == {reasons.constraint("min_points"): 1}
    assert (await refetch(strict, ASK)).reason == reasons.constraint("min_points")
    lenient = make_domain(source("hackernews", base_url=site.url("/v0"), text_min_score=25))
    assert [r.uri for r in (await crawl_here(lenient)).records] == [ASK]
    assert (await refetch(lenient, ASK)).status == "content"


def test_every_built_in_kind_names_its_budget_and_its_constraints():
    from scrapers import KINDS
    for name in ("web", "feed", "wikipedia", "hackernews", "reddit", "arxiv", "stackexchange"):
        assert isinstance(KINDS[name].refetch_budget, int) and KINDS[name].refetch_budget > 0, name
    assert KINDS["reddit"].constraints == ("subreddit", "min_score", "min_age")
    assert KINDS["wikipedia"].constraints == ("namespace",)
    assert set(KINDS["stackexchange"].constraints) == {"host", "tags", "min_score"}
