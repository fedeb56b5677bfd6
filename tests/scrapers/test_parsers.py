"""The pure parsers on recorded-format answers and on bad input: records, URIs, timestamps, counted reasons."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from schemas import SourceSpec, canonical_url, hash_text
from scrapers import reasons
from scrapers.htmltext import html_to_text
from scrapers.kinds import arxiv, feed, hackernews, load_params, reddit, stackexchange, web, wikipedia
from scrapers.parsing import ParseContext, ParseError, make_record
from tests.scrapers.recorded import PROSE, article, data, loads

HTML = {"content-type": "text/html; charset=utf-8"}
JSON = {"content-type": "application/json; charset=utf-8"}
ATOM = {"content-type": "application/atom+xml; charset=utf-8"}
BASE = "http://127.0.0.1:8123"


def ctx(kind: str, **params) -> ParseContext:
    spec = SourceSpec(kind=kind, params=params)
    return ParseContext(domain="test-domain", source_id=spec.source_id, kind=kind, params=load_params(spec))


WEB = ctx("web", seeds=[BASE + "/"])


# -- web ----------------------------------------------------------------------------------------------------
def test_page_record_has_main_text_title_date_author_and_canonical_uri():
    body = article("How Python finds your modules", links=("/articles/venvs",)).encode()
    parsed = web.parse_page(WEB, BASE + "/articles/imports?utm_source=rss#top", body, HTML)
    record = parsed.records[0]
    assert record.uri == canonical_url(BASE + "/articles/imports")
    assert record.title == "How Python finds your modules"
    assert "\nPython's import system" in record.text
    assert "Popular this week" not in record.text and "Privacy" not in record.text
    assert record.published_at == datetime(2025, 6, 10, tzinfo=UTC)
    assert record.meta == {"source_id": "web", "author": "Ada Example"}
    assert record.lang == "en" and record.source == "web" and record.content_hash == hash_text(record.text)


def test_page_links_are_absolute_without_fragments_and_skip_nofollow():
    body = article("Links", links=("/articles/venvs#part-2", "https://elsewhere.example/x")).encode()
    links = web.parse_page(WEB, BASE + "/a", body, HTML).follow
    assert BASE + "/articles/venvs" in links and "https://elsewhere.example/x" in links
    assert BASE + "/subscribe" not in links  # rel=nofollow


def test_same_bytes_give_the_same_text_and_hash():
    body = article("Determinism", count=5).encode()
    first = web.parse_page(WEB, BASE + "/d", body, HTML).records[0]
    second = web.parse_page(WEB, BASE + "/d", body, HTML).records[0]
    assert (first.text, first.content_hash) == (second.text, second.content_hash)


def test_latin1_page_is_decoded_with_its_declared_charset():
    body = article("Café culture", first=1).replace("interpreter", "intérpreter").encode("latin-1")
    record = web.parse_page(WEB, BASE + "/cafe", body, {"content-type": "text/html; charset=iso-8859-1"}).records[0]
    assert record.title == "Café culture" and "intérpreter" in record.text


def test_invalid_utf8_bytes_do_not_crash_and_give_valid_text():
    body = article("Broken bytes").encode().replace(b"Python's import", b"Python\xff\xfe import")
    record = web.parse_page(WEB, BASE + "/broken", body, HTML).records[0]
    assert record.text.encode("utf-8")


@pytest.mark.parametrize(("body", "headers", "reason"), [
    (b"", HTML, reasons.EMPTY),
    (b"   \n", HTML, reasons.EMPTY),
    (b'{"not": "html"}', JSON, reasons.BAD_CONTENT_TYPE),
    (b"%PDF-1.7 binary", {"content-type": "application/pdf"}, reasons.BAD_CONTENT_TYPE),
    (b"\x89PNG\r\n", {}, reasons.BAD_CONTENT_TYPE),
])
def test_unusable_page_raises_a_counted_reason(body, headers, reason):
    with pytest.raises(ParseError) as caught:
        web.parse_page(WEB, BASE + "/x", body, headers)
    assert caught.value.reason == reason


def test_page_without_main_content_gives_links_and_no_record():
    body = b"<html><body><nav><a href='/a'>A</a> <a href='/b'>B</a></nav></body></html>"
    parsed = web.parse_page(WEB, BASE + "/", body, HTML)
    assert parsed.records == () and BASE + "/a" in parsed.follow
    assert parsed.skipped[0] in (reasons.NO_CONTENT, reasons.TOO_SHORT)


def test_noindex_page_gives_no_record_but_its_links():
    body = article("Private").replace('<meta charset="utf-8">', '<meta charset="utf-8"><meta name="robots" '
                                      'content="noindex">').encode()
    parsed = web.parse_page(WEB, BASE + "/private", body, HTML)
    assert parsed.records == () and parsed.skipped == ("noindex",) and parsed.follow


def test_future_published_date_is_dropped():
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    record = make_record(WEB, uri=BASE + "/f", text=PROSE[0], published_at=datetime.fromisoformat(tomorrow))
    assert record.published_at is None and record.fetched_at.tzinfo is not None


def test_sitemap_and_sitemap_index_and_robots_lines():
    urlset = (b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
              b"<url><loc>http://h/a</loc><lastmod>2025-01-01</lastmod></url><url><loc> http://h/b </loc></url>"
              b"</urlset>")
    index = (b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>http://h/s1.xml'
             b"</loc></sitemap></sitemapindex>")
    assert web.parse_sitemap(urlset) == (["http://h/a", "http://h/b"], [])
    assert web.parse_sitemap(index) == ([], ["http://h/s1.xml"])
    assert web.sitemaps_in_robots(b"User-agent: *\nSitemap: http://h/s.xml\nsitemap:http://h/t.xml\n") == [
        "http://h/s.xml", "http://h/t.xml"]
    with pytest.raises(ParseError):
        web.parse_sitemap(b"<html><body>not a sitemap</body></html>")


# -- feeds ----------------------------------------------------------------------------------------------------
def test_rss_entries_carry_links_titles_dates_and_authors():
    entries = feed.parse_feed(BASE + "/feed.xml", data("feed_rss.xml", BASE).encode(),
                              {"content-type": "application/rss+xml"}, max_entries=10)
    assert [e.link for e in entries][:2] == [BASE + "/articles/imports?utm_source=rss&utm_medium=feed",
                                             BASE + "/articles/venvs"]
    assert entries[0].hints.title == "How Python finds your modules"
    assert entries[0].hints.published_at == datetime(2025, 6, 10, 8, tzinfo=UTC)
    assert entries[0].hints.author == "Ada Example"


def test_atom_relative_links_resolve_against_the_feed_url():
    entries = feed.parse_feed(BASE + "/atom.xml", data("feed_atom.xml", BASE).encode(),
                              {"content-type": "application/atom+xml"}, max_entries=10)
    assert entries[0].link == BASE + "/articles/packaging"


def test_feed_max_entries_is_respected():
    assert len(feed.parse_feed(BASE + "/f", data("feed_rss.xml", BASE).encode(), {}, max_entries=1)) == 1


@pytest.mark.parametrize(("body", "ctype", "reason"), [
    (b"<html><body>no feed</body></html>", "text/html", reasons.BAD_CONTENT_TYPE),
    (b"<rss><channel><item><title>x", "application/rss+xml", None),
    (b"{garbage", "application/xml", reasons.INVALID_FEED),
    (b"", "application/rss+xml", reasons.EMPTY),
])
def test_broken_feeds_give_no_entries(body, ctype, reason):
    if reason is None:
        assert feed.parse_feed(BASE + "/f", body, {"content-type": ctype}, 10) == []
        return
    with pytest.raises(ParseError) as caught:
        feed.parse_feed(BASE + "/f", body, {"content-type": ctype}, 10)
    assert caught.value.reason == reason


# -- wikipedia -------------------------------------------------------------------------------------------------
WIKI = ctx("wikipedia", base_url=BASE + "/w/api.php", category="Category:Physics")


def test_category_listing_gives_article_titles_and_the_continue_object():
    titles, cont = wikipedia.parse_listing(WIKI.params, data("wikipedia_categorymembers_1.json").encode(), JSON)
    assert titles == ["Physics", "Mass"]  # the sub-category (ns 14) is not an article
    assert cont == {"cmcontinue": "page|3a4845415420454e47494e45|41234", "continue": "-||"}
    assert "cmcontinue=page" in wikipedia.listing_url(WIKI.params, cont)


def test_article_record_drops_reference_sections_and_keeps_headings_as_lines():
    record = wikipedia.parse_article(WIKI, "u", data("wikipedia_article_physics.json").encode(), JSON).records[0]
    assert record.uri == BASE + "/wiki/Physics" and record.title == "Physics"
    assert "History" in record.text.split("\n") and "Early work" in record.text.split("\n")
    assert "==" not in record.text and "References" not in record.text and "See also" not in record.text
    assert record.published_at == datetime(2025, 5, 30, 18, 22, 41, tzinfo=UTC)
    assert record.license == "CC-BY-SA-4.0" and record.lang == "en" and record.meta["revid"] == 1293847561


@pytest.mark.parametrize("title", ["Schrödinger equation", "C++", "AT&T", "What? (film)", "Mass–energy equivalence"])
def test_article_uri_round_trips_to_its_title(title):
    uri = canonical_url(wikipedia.article_uri(WIKI.params, title))
    assert wikipedia.title_from_uri(WIKI.params, uri) == title


def test_missing_article_is_not_found_and_maxlag_is_an_api_error():
    with pytest.raises(ParseError) as missing:
        wikipedia.parse_article(WIKI, "u", data("wikipedia_article_missing.json").encode(), JSON)
    with pytest.raises(ParseError) as lagged:
        wikipedia.parse_article(WIKI, "u", data("wikipedia_maxlag.json").encode(), JSON)
    assert (missing.value.reason, lagged.value.reason) == (reasons.NOT_FOUND, reasons.API_ERROR)


# -- hacker news ------------------------------------------------------------------------------------------------
HN = ctx("hackernews", base_url=BASE + "/v0", allow_hosts=["127.0.0.1:8123"])


def test_ask_hn_text_post_becomes_a_record_with_the_item_uri():
    story = hackernews.parse_item(HN, "u", data("hn_item_ask.json").encode(), JSON)
    assert story.record is not None and story.link is None
    assert story.record.uri == "https://news.ycombinator.com/item?id=121003"
    assert story.record.published_at == datetime.fromtimestamp(1203647620, UTC)
    assert story.record.text.startswith("What's your approach") and "<p>" not in story.record.text
    assert hackernews.item_id_from_uri(HN.params, story.record.uri) == 121003


def test_link_story_points_to_its_article_with_hints():
    story = hackernews.parse_item(HN, "u", data("hn_item_link.json", BASE).encode(), JSON)
    assert story.record is None and story.link == BASE + "/articles/imports"
    assert story.hints.title.startswith("My YC app") and story.hints.author == "dhouston"


@pytest.mark.parametrize(("body", "reason"), [
    (b"null", reasons.NOT_FOUND),
    (data("hn_item_deleted.json").encode(), reasons.DELETED),
    (b'{"by": "x", "id": 5, "type": "comment", "text": "hi"}', reasons.UNEXPECTED_SHAPE),
    (b'{"by": "x", "id": 5, "type": "sto', reasons.INVALID_JSON),
])
def test_unusable_items_raise_reasons(body, reason):
    with pytest.raises(ParseError) as caught:
        hackernews.parse_item(HN, "u", body, JSON)
    assert caught.value.reason == reason


# -- reddit ------------------------------------------------------------------------------------------------------
REDDIT = ctx("reddit", base_url=BASE, site_url=BASE, subreddits=["Python"])


def test_listing_keeps_self_posts_and_skips_links_nsfw_and_removed():
    parsed, after, seen = reddit.parse_listing(REDDIT, "u", data("reddit_listing_1.json").encode(), JSON)
    assert [r.title for r in parsed.records] == ["What finally made asyncio click for me"]
    record = parsed.records[0]
    assert record.uri == BASE + "/r/Python/comments/1l7abcd/what_finally_made_asyncio_click_for_me/"
    assert record.labels == ["r/Python"] and record.meta["score"] == 120
    assert after == "t3_1l7c0de" and seen == 4 and parsed.skipped == (reasons.DELETED,)
    assert reddit.post_id_from_uri(record.uri) == "1l7abcd"


def test_listing_urls_ask_for_raw_json_and_carry_the_cursor():
    url = reddit.listing_url(REDDIT.params, "Python", after="t3_x", count=100)
    assert "raw_json=1" in url and "after=t3_x" in url and url.startswith(BASE + "/r/Python/hot?")


# -- arxiv -------------------------------------------------------------------------------------------------------
ARXIV = ctx("arxiv", base_url=BASE + "/api/query", categories=["cs.LG", "cs.CL"], page_size=2, max_results=3)


def test_arxiv_entries_become_versionless_abstract_records():
    page = arxiv.parse_feed(ARXIV, "u", data("arxiv_query_1.xml").encode(), ATOM)
    assert page.total == 3 and len(page.records) == 2
    record = page.records[0]
    assert record.uri == "https://arxiv.org/abs/1706.03762" and record.title == "Attention Is All You Need"
    assert record.text.startswith("The dominant sequence transduction models") and "\n" not in record.text
    assert record.published_at == datetime(2017, 6, 12, 17, 57, 34, tzinfo=UTC)
    assert record.labels == ["cs.CL", "cs.LG"] and record.meta["author"].startswith("Ashish Vaswani, Noam")
    assert arxiv.id_from_uri(ARXIV.params, record.uri) == "1706.03762"


def test_arxiv_query_is_the_categories_ored():
    assert arxiv.search_query(ARXIV.params) == "(cat:cs.LG OR cat:cs.CL)"
    assert "start=2" in arxiv.query_url(ARXIV.params, 2) and "max_results=1" in arxiv.query_url(ARXIV.params, 2)


def test_arxiv_error_entry_is_an_api_error_and_html_is_refused():
    with pytest.raises(ParseError) as error:
        arxiv.parse_feed(ARXIV, "u", data("arxiv_error.xml").encode(), ATOM)
    with pytest.raises(ParseError) as html:
        arxiv.parse_feed(ARXIV, "u", b"<html></html>", HTML)
    with pytest.raises(ParseError) as truncated:
        arxiv.parse_feed(ARXIV, "u", data("arxiv_query_1.xml").encode()[:700], ATOM)
    assert (error.value.reason, html.value.reason, truncated.value.reason) == (
        reasons.API_ERROR, reasons.BAD_CONTENT_TYPE, reasons.INVALID_XML)


# -- stack exchange ------------------------------------------------------------------------------------------------
SE = ctx("stackexchange", base_url=BASE + "/2.3", tags=["python"])


def test_questions_without_accepted_answer_are_left_out():
    page = stackexchange.parse_questions(data("se_questions_1.json").encode(), JSON)
    assert [q["question_id"] for q in page.questions] == [11227809, 231767] and page.has_more


def test_question_and_accepted_answer_make_one_record():
    question = loads("se_questions_1.json")["items"][1]
    answers = stackexchange.parse_answers(data("se_answers.json").encode(), JSON)
    record = stackexchange.qa_record(SE, question, answers[231855])
    assert record.uri == "https://stackoverflow.com/questions/231767"
    assert record.title == 'What does the "yield" keyword do in Python?'
    assert stackexchange.ANSWER_HEADING in record.text and "<p>" not in record.text
    assert record.license == "CC-BY-SA-4.0" and record.labels == ["python"] and record.meta["author"] == "Asker's Name"


def test_throttle_violation_is_an_api_error():
    with pytest.raises(ParseError) as caught:
        stackexchange.parse_questions(data("se_throttle.json").encode(), JSON)
    assert caught.value.reason == reasons.API_ERROR


# -- shared ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("body", "headers", "reason"), [
    (b'{"items": [', JSON, reasons.INVALID_JSON),
    (b"\xff\xfe{}", JSON, reasons.INVALID_JSON),
    (b"<html>maintenance</html>", HTML, reasons.BAD_CONTENT_TYPE),
    (b"", JSON, reasons.EMPTY),
    (json.dumps([1, 2]).encode(), JSON, reasons.UNEXPECTED_SHAPE),
])
def test_bad_json_answers_raise_counted_reasons(body, headers, reason):
    with pytest.raises(ParseError) as caught:
        reddit.parse_listing(REDDIT, "u", body, headers)
    assert caught.value.reason == reason


def test_html_fragments_become_paragraphs_and_list_lines():
    text = html_to_text("Intro &amp; more<p>Second</p><ul><li>one</li><li>two</li></ul><script>x()</script>")
    assert text == "Intro & more\n\nSecond\n\n- one\n- two"


def test_parse_error_keeps_its_reason_across_pickling():
    import pickle

    error = pickle.loads(pickle.dumps(ParseError(reasons.TOO_SHORT, "3 words")))
    assert error.reason == reasons.TOO_SHORT
