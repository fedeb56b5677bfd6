"""The offline sample web: real servers on 127.0.0.1, content in the real formats, edits, faults, specs."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.robotparser
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import feedparser
import httpx
import lxml.html
import pytest
import trafilatura

import scrapers
from glean.sampleweb import SAMPLE_DOMAINS, SampleWeb, SampleWebClient, domain_specs, write_domain_specs
from glean.sampleweb.lowquality import DIGEST_KINDS
from schemas.domain import DomainCatalog, DomainSpec, load_domain_file
from schemas.errors import ConfigError
from schemas.record import Record

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def web() -> Iterator[SampleWeb]:
    """One read-only server for the format tests (tests that change pages use `fresh`)."""
    with SampleWeb() as server:
        yield server


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[SampleWeb]:
    with SampleWeb(data_dir=tmp_path / "web") as server:
        yield server


@pytest.fixture
def http(web: SampleWeb) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=web.base_url, timeout=10) as client:
        yield client


def _client(server: SampleWeb) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, timeout=10)


def _wiki(client: httpx.Client, **params: str) -> dict:
    return client.get("/w/api.php", params={"format": "json", **params}).json()


def _se(client: httpx.Client, route: str, **params: str) -> httpx.Response:
    return client.get(f"/api/2.3{route}", params={"site": "stackoverflow", **params})


# --- the static site ----------------------------------------------------------------------------------

def test_article_page_has_title_article_body_and_boilerplate_around_it(http: httpx.Client) -> None:
    page = lxml.html.fromstring(http.get("/site/language/for.html").text)
    article = page.find(".//main/article")
    assert article.findtext("h1") == 'The "for" statement'
    assert len(article.findall("p")) >= 4
    assert page.find(".//header/nav") is not None and page.find(".//footer") is not None
    assert page.xpath("//aside//a/@href")  # internal links to related pages


def test_extraction_keeps_the_article_and_drops_navigation_and_footer(http: httpx.Client) -> None:
    text = trafilatura.extract(http.get("/site/stdlib/json.html").text)
    assert "lightweight data interchange format" in text
    assert "Related pages" not in text and "About this mirror" not in text


def test_robots_txt_disallows_drafts_and_names_the_sitemap(web: SampleWeb, http: httpx.Client) -> None:
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(http.get("/robots.txt").text.splitlines())
    assert robots.site_maps() == [web.url("/sitemap.xml")]
    assert not robots.can_fetch("glean", web.url("/site/private/assert.html"))
    assert robots.can_fetch("glean", web.url("/site/language/for.html"))


def test_sitemap_lists_every_public_article_and_no_draft(web: SampleWeb, http: httpx.Client) -> None:
    root = ElementTree.fromstring(http.get("/sitemap.xml").content)
    locs = [el.text for el in root.iter(f"{SITEMAP_NS}loc")]
    public = [a for a in web.articles() if a.area != "private"]
    assert {web.article_url(a.key) for a in public} <= set(locs)
    assert not [loc for loc in locs if "/private/" in loc]
    assert all(el.text for el in root.iter(f"{SITEMAP_NS}lastmod"))


def test_drafts_are_linked_from_the_index_but_listing_pages_are_noindex(http: httpx.Client) -> None:
    index = lxml.html.fromstring(http.get("/site/language/").text)
    assert any("/site/private/" in href for href in index.xpath("//a/@href"))
    assert index.xpath("//meta[@name='robots']/@content") == ["noindex, follow"]


def test_every_source_article_has_at_least_150_words(web: SampleWeb) -> None:
    language, stdlib = web.articles("language"), web.articles("stdlib")
    assert len(language) >= 40 and len(stdlib) >= 60
    assert min(a.words for a in language + stdlib) >= 150


def test_unknown_path_is_404_and_post_to_a_page_is_405(http: httpx.Client) -> None:
    assert http.get("/site/language/no-such-page.html").status_code == 404
    assert http.post("/site/language/for.html").status_code == 405


def test_unchanged_page_answers_304_to_its_etag_and_gzips_when_asked(http: httpx.Client) -> None:
    first = http.get("/site/language/for.html", headers={"Accept-Encoding": "gzip"})
    assert first.headers["content-encoding"] == "gzip"
    again = http.get("/site/language/for.html", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


# --- feeds --------------------------------------------------------------------------------------------

def test_rss_feed_items_link_to_articles_newest_first_in_the_recent_past(web: SampleWeb, http: httpx.Client) -> None:
    feed = feedparser.parse(http.get("/site/language/feed.xml").content)
    assert not feed.bozo and feed.version == "rss20"
    dates = [datetime(*e.published_parsed[:6], tzinfo=UTC) for e in feed.entries]
    assert dates == sorted(dates, reverse=True)
    now = datetime.now(UTC)
    assert all(now - timedelta(days=60) < d < now for d in dates)
    assert len(feed.entries) == len(web.articles("language"))
    assert http.get(feed.entries[0].link).status_code == 200


def test_atom_feed_parses_with_feedparser(http: httpx.Client) -> None:
    feed = feedparser.parse(http.get("/site/stdlib/atom.xml").content)
    assert not feed.bozo and feed.version == "atom10"
    assert feed.entries[0].link.endswith(".html") and feed.entries[0].summary


def test_site_feed_carries_the_newest_language_and_stdlib_articles(http: httpx.Client) -> None:
    feed = feedparser.parse(http.get("/feed.xml").content)
    areas = {e.link.split("/site/")[1].split("/")[0] for e in feed.entries}
    assert areas == {"language", "stdlib"} and len(feed.entries) == 50


# --- determinism --------------------------------------------------------------------------------------

_DIGEST_SCRIPT = (
    "import hashlib; from glean.sampleweb.state import build_articles; from datetime import datetime, UTC\n"
    "h = hashlib.sha256()\n"
    "for a in build_articles(datetime(2026, 1, 1, tzinfo=UTC)):\n"
    "    h.update(f'{a.key}|{a.page_id}|{a.title}|{a.published_at}|{a.plain_text()}'.encode())\n"
    "print(h.hexdigest())\n"
)


def test_content_is_the_same_in_processes_with_different_hash_seeds() -> None:
    procs = [subprocess.Popen([sys.executable, "-c", _DIGEST_SCRIPT], env={**os.environ, "PYTHONHASHSEED": seed},
                              cwd=REPO, stdout=subprocess.PIPE, text=True) for seed in ("1", "2")]
    digests = {proc.communicate(timeout=60)[0].strip() for proc in procs}
    assert all(proc.returncode == 0 for proc in procs)
    assert len(digests) == 1


def test_two_servers_with_the_same_anchor_serve_identical_pages() -> None:
    anchor = datetime(2026, 1, 1, tzinfo=UTC)
    bodies = []
    for _ in range(2):
        with SampleWeb(anchor=anchor) as server, _client(server) as client:
            paths = ["/site/stdlib/json.html", "/site/language/feed.xml", "/site/digest/"]
            bodies.append([client.get(p).text.replace(server.base_url, "BASE") for p in paths])
    assert bodies[0] == bodies[1]


# --- low-quality digest pages -------------------------------------------------------------------------

def test_digest_area_has_every_low_quality_kind(web: SampleWeb) -> None:
    digest = web.articles("digest")
    assert {a.slug.split("-")[0] for a in digest} == set(DIGEST_KINDS)
    repeated = next(a for a in digest if a.slug.startswith("repeated-"))
    lines = [b.text for b in repeated.blocks]
    assert len(set(lines)) == 1 and len(lines) > 10
    listicle = next(a for a in digest if a.slug.startswith("listicle-"))
    assert all(len(item.split()) <= 5 for item in listicle.blocks[0].items)


# --- MediaWiki API ------------------------------------------------------------------------------------

def test_mediawiki_categorymembers_pages_through_every_member_with_continue(web: SampleWeb,
                                                                           http: httpx.Client) -> None:
    params = {"action": "query", "list": "categorymembers", "cmtitle": "Category:Python language reference",
              "cmlimit": "20", "formatversion": "2"}
    titles: list[str] = []
    for _ in range(20):
        answer = _wiki(http, **params)
        titles += [m["title"] for m in answer["query"]["categorymembers"]]
        if "continue" not in answer:
            break
        params.update(answer["continue"])
    assert answer["batchcomplete"] is True
    assert len(titles) == len(set(titles)) == len(web.articles("language"))


def test_mediawiki_extracts_give_one_whole_page_per_request_like_textextracts(http: httpx.Client) -> None:
    params = {"action": "query", "prop": "extracts", "explaintext": "1", "formatversion": "2",
              "titles": "The json module|The_csv_module"}
    first = _wiki(http, **params)
    assert [("extract" in p) for p in first["query"]["pages"]] == [True, False]
    assert "lowered to 1" in first["warnings"]["extracts"]["warnings"]
    second = _wiki(http, **params, excontinue=str(first["continue"]["excontinue"]))
    assert [("extract" in p) for p in second["query"]["pages"]] == [False, True]
    assert {"from": "The_csv_module", "to": "The csv module"} in first["query"]["normalized"]


def test_mediawiki_formatversion_1_keys_pages_by_id_and_marks_missing_titles(http: httpx.Client) -> None:
    answer = _wiki(http, action="query", prop="info", inprop="url", titles="The json module|No such page")
    pages = answer["query"]["pages"]
    found = next(p for key, p in pages.items() if key != "-1")
    assert pages["-1"]["missing"] == "" and answer["batchcomplete"] == ""
    assert found["fullurl"].endswith("/wiki/The_json_module") and found["lastrevid"] > 0
    assert http.get(found["fullurl"]).status_code == 200


def test_mediawiki_generator_with_intro_extracts_returns_many_extracts(http: httpx.Client) -> None:
    answer = _wiki(http, action="query", generator="categorymembers", gcmtitle="Category:Python standard library",
                   gcmlimit="5", prop="extracts|info", exintro="1", explaintext="1", formatversion="2")
    pages = answer["query"]["pages"]
    assert len(pages) == 5 and all("extract" in p for p in pages)
    assert answer["continue"]["continue"] == "gcmcontinue||"


def test_mediawiki_parse_returns_the_page_html(http: httpx.Client) -> None:
    answer = _wiki(http, action="parse", page="The json module", prop="text|revid", formatversion="2")
    assert "mw-parser-output" in answer["parse"]["text"] and answer["parse"]["revid"] > 0


def test_mediawiki_errors_have_code_and_info(http: httpx.Client) -> None:
    response = http.get("/w/api.php", params={"action": "frobnicate", "format": "json"})
    assert response.json()["error"]["code"] == "badvalue"
    assert response.headers["MediaWiki-API-Error"] == "badvalue"
    missing = _wiki(http, action="query", list="categorymembers")
    assert missing["error"]["code"] == "missingparam"


# --- StackExchange API --------------------------------------------------------------------------------

def test_stackexchange_questions_page_through_with_the_real_wrapper(web: SampleWeb, http: httpx.Client) -> None:
    seen: list[int] = []
    for page in range(1, 30):
        answer = _se(http, "/questions", tagged="standard-library", pagesize="25", page=str(page)).json()
        assert set(answer) == {"items", "has_more", "quota_max", "quota_remaining"}
        seen += [q["question_id"] for q in answer["items"]]
        if not answer["has_more"]:
            break
    assert len(seen) == len(set(seen)) == len(web.articles("stdlib"))


def test_stackexchange_withbody_filter_adds_bodies_and_default_has_none(http: httpx.Client) -> None:
    plain = _se(http, "/questions", tagged="language-reference", pagesize="3").json()["items"]
    bodied = _se(http, "/questions", tagged="language-reference", pagesize="3", filter="withbody").json()["items"]
    assert not any("body" in q for q in plain)
    assert all(q["body"].startswith("<p>") and q["is_answered"] for q in bodied)


def test_stackexchange_accepted_answer_carries_the_article_text(web: SampleWeb, http: httpx.Client) -> None:
    json_page = next(a for a in web.articles("stdlib") if a.slug == "json")
    question = _se(http, f"/questions/{json_page.page_id}").json()["items"][0]
    answers = _se(http, f"/questions/{json_page.page_id}/answers", filter="withbody").json()["items"]
    accepted = next(a for a in answers if a["is_accepted"])
    assert accepted["answer_id"] == question["accepted_answer_id"]
    assert "simplejson" in accepted["body"]
    assert http.get(question["link"]).status_code == 200


def test_stackexchange_answers_by_id_returns_exactly_those_answers(http: httpx.Client) -> None:
    questions = _se(http, "/questions", tagged="standard-library", pagesize="4").json()["items"]
    wanted = sorted(q["accepted_answer_id"] for q in questions)
    answers = _se(http, "/answers/" + ";".join(map(str, wanted)), filter="withbody").json()["items"]
    assert sorted(a["answer_id"] for a in answers) == wanted
    assert all(a["is_accepted"] and a["body"] for a in answers)


def test_stackexchange_missing_site_is_a_400_with_error_fields(http: httpx.Client) -> None:
    response = http.get("/api/2.3/questions")
    assert response.status_code == 400
    assert response.json() == {"error_id": 400, "error_message": "site is required", "error_name": "bad_parameter"}


# --- run-time edits -----------------------------------------------------------------------------------

def test_an_edit_changes_the_page_in_every_representation(fresh: SampleWeb) -> None:
    fresh.edit("stdlib/json", append="A sentence added while the network runs.")
    with _client(fresh) as client:
        assert "added while the network runs" in client.get("/site/stdlib/json.html").text
        answer = _wiki(client, action="query", prop="extracts", explaintext="1", titles="The json module",
                       formatversion="2")
        assert "added while the network runs" in answer["query"]["pages"][0]["extract"]
        question_id = next(a.page_id for a in fresh.articles("stdlib") if a.slug == "json")
        answers = _se(client, f"/questions/{question_id}/answers", filter="withbody").json()["items"]
        assert "added while the network runs" in answers[0]["body"]


def test_an_edit_shows_in_recentchanges_and_bumps_the_revision(fresh: SampleWeb) -> None:
    article = fresh.edit("language/for", text="The loop was rewritten.\n\nIt now has two paragraphs.")
    with _client(fresh) as client:
        changes = _wiki(client, action="query", list="recentchanges", rclimit="1", formatversion="2")
    top = changes["query"]["recentchanges"][0]
    assert (top["type"], top["title"], article.revision) == ("edit", 'The "for" statement', 2)


def test_a_deleted_page_answers_404(fresh: SampleWeb) -> None:
    fresh.delete("language/for")
    with _client(fresh) as client:
        assert client.get("/site/language/for.html").status_code == 404


def test_reset_restores_the_original_text(fresh: SampleWeb) -> None:
    with _client(fresh) as client:
        before = client.get("/site/language/for.html").text
        fresh.edit("language/for", text="Replaced.")
        fresh.reset()
        assert client.get("/site/language/for.html").text == before


def test_edits_and_the_anchor_survive_a_restart_with_the_same_data_dir(tmp_path: Path) -> None:
    with SampleWeb(data_dir=tmp_path) as first:
        first.edit("stdlib/json", append="Kept across restarts.")
        anchor = first.state.anchor
    with SampleWeb(data_dir=tmp_path) as second:
        json_page = next(a for a in second.articles("stdlib") if a.slug == "json")
        assert second.state.anchor == anchor and "Kept across restarts." in json_page.plain_text()


def test_editing_an_unknown_key_is_an_error_with_a_hint(fresh: SampleWeb) -> None:
    with pytest.raises(ConfigError, match="no article") as caught:
        fresh.edit("language/nope", text="x")
    assert "language/for" in caught.value.hint


# --- fault rules --------------------------------------------------------------------------------------

def test_a_fault_for_one_user_agent_fails_only_that_client(fresh: SampleWeb) -> None:
    fresh.add_fault(status=503, user_agent="glean-validator", retry_after=7)
    with _client(fresh) as client:
        failed = client.get("/site/language/for.html", headers={"User-Agent": "glean-validator/1"})
        served = client.get("/site/language/for.html", headers={"User-Agent": "glean-miner/1"})
    assert (failed.status_code, failed.headers["Retry-After"], served.status_code) == (503, "7", 200)


def test_a_fault_with_times_expires_after_that_many_answers(fresh: SampleWeb) -> None:
    fresh.add_fault(status=429, path_prefix="/api/", times=2)
    with _client(fresh) as client:
        codes = [_se(client, "/questions", tagged="python").status_code for _ in range(3)]
    assert codes == [429, 429, 200]


def test_a_fault_can_match_a_request_header(fresh: SampleWeb) -> None:
    fresh.add_fault(status=500, header="X-Client: validator")
    with _client(fresh) as client:
        assert client.get("/robots.txt", headers={"X-Client": "validator"}).status_code == 500
        assert client.get("/robots.txt").status_code == 200


def test_a_delay_fault_makes_a_short_timeout_client_time_out_once(fresh: SampleWeb) -> None:
    fresh.add_fault(status=200, delay=1.0, times=1, path_prefix="/site/language/for.html")
    with _client(fresh) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.get("/site/language/for.html", timeout=0.2)
        assert client.get("/site/language/for.html").status_code == 200


def test_control_api_drives_a_server_over_http(fresh: SampleWeb) -> None:
    with SampleWebClient(fresh.base_url) as control, _client(fresh) as client:
        rule = control.add_fault(status=502, path_prefix="/w/")
        assert client.get("/w/api.php?action=query").status_code == 502
        control.clear_faults(rule["id"])
        edited = control.edit("language/for", append="Changed over HTTP.")
        assert "Changed over HTTP." in client.get(edited["url"]).text
        assert control.state()["edits"][0]["key"] == "language/for"
        assert control.hits()["paths"]["/site/language/for.html"] == 1


def test_a_bad_fault_rule_is_refused_with_a_hint(fresh: SampleWeb) -> None:
    with SampleWebClient(fresh.base_url) as control, pytest.raises(ConfigError, match="unknown fault field"):
        control.add_fault(status=503, colour="red")


# --- as its own process -------------------------------------------------------------------------------

def test_runs_as_its_own_process_and_writes_its_address_and_domain_specs(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "glean.sampleweb", "--port", "0", "--data-dir",
                             str(tmp_path / "web"), "--domains-dir", str(tmp_path / "domains")],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        info_file = tmp_path / "web" / "sampleweb.json"
        for _ in range(600):  # at most 30 s on a loaded machine
            if info_file.exists() or proc.poll() is not None:
                break
            time.sleep(0.05)
        info = json.loads(info_file.read_text())
        assert httpx.get(info["base_url"] + "/robots.txt", timeout=10).status_code == 200
        assert sorted(p.stem for p in (tmp_path / "domains").glob("*.yaml")) == sorted(SAMPLE_DOMAINS)
    finally:
        proc.terminate()
        code = proc.wait(timeout=15)
    assert code == 0


# --- demo domain specs --------------------------------------------------------------------------------

def test_generated_domain_specs_validate_and_load_as_a_catalog(web: SampleWeb, tmp_path: Path) -> None:
    paths = write_domain_specs(web.base_url, tmp_path)
    assert [load_domain_file(p).id for p in paths] == list(SAMPLE_DOMAINS)
    catalog = DomainCatalog.load([tmp_path])
    assert set(SAMPLE_DOMAINS) <= set(catalog.ids())


def test_generated_specs_pass_the_scrapers_params_check(web: SampleWeb, tmp_path: Path) -> None:
    params = pytest.importorskip("scrapers.kinds")
    for path in write_domain_specs(web.base_url, tmp_path):
        params.check_domain(load_domain_file(path))


def test_every_url_in_the_specs_is_served_by_the_sample_web(web: SampleWeb, http: httpx.Client,
                                                            tmp_path: Path) -> None:
    for path in write_domain_specs(web.base_url, tmp_path):
        for source in load_domain_file(path).sources:
            urls = source.params.get("seeds", []) + source.params.get("feeds", [])
            for url in urls:
                assert url.startswith(web.base_url) and http.get(url).status_code == 200


def test_relevance_keywords_occur_in_nearly_every_article(web: SampleWeb, tmp_path: Path) -> None:
    for domain_id, area in (("python-language", "language"), ("python-stdlib", "stdlib")):
        spec = load_domain_file(write_domain_specs(web.base_url, tmp_path, [domain_id])[0])
        terms = [*spec.relevance.keywords, *spec.relevance.phrases]
        articles = web.articles(area)
        hits = [a for a in articles if sum(a.plain_text().lower().count(t) for t in terms) >= 3]
        assert len(hits) >= 0.9 * len(articles), domain_id


def test_unknown_demo_domain_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown sample domain"):
        write_domain_specs("http://127.0.0.1:1", tmp_path, ["python-nope"])



# --- the real spiders and re-fetch against the sample web (slow: a crawl process per domain) -------------

REFETCH_PER_KIND = 8


@dataclass
class Crawled:
    web: SampleWeb
    spec: DomainSpec
    records: list[Record]

    def per_kind(self, count: int) -> list[Record]:
        """Up to `count` records of every source kind."""
        chosen: dict[str, list[Record]] = {}
        for record in self.records:
            chosen.setdefault(record.source, [])
            if len(chosen[record.source]) < count:
                chosen[record.source].append(record)
        return [r for group in chosen.values() for r in group]

    def key_of(self, record: Record) -> str:
        """The article a record came from (by page id for API records, by URL for pages)."""
        ids = {record.meta.get("pageid"), record.meta.get("question_id")} - {None}
        return next(a.key for a in self.web.articles() if a.page_id in ids or self.web.article_url(a.key) == record.uri)

    async def refetch(self, records: list[Record]) -> list:
        async with httpx.AsyncClient(timeout=10) as client:
            return [await scrapers.fetch_one(self.spec, scrapers.source_for(self.spec, r), r.uri, client=client,
                                             allow_private=True)
                    for r in records]


@pytest.fixture(scope="module")
def crawled() -> Iterator[Crawled]:
    """A server of its own, crawled once by the real spiders through one domain holding every source kind."""
    with SampleWeb() as server:
        specs = domain_specs(server.base_url)
        language, stdlib = specs["python-language"]["sources"], specs["python-stdlib"]["sources"]
        chosen = [*(s for s in language if s["kind"] in ("web", "wikipedia")),
                  *(s for s in stdlib if s["kind"] in ("feed", "stackexchange"))]
        mixed = {**specs["python-stdlib"], "id": "python-sample", "sources": chosen}
        spec = DomainSpec.model_validate(mixed)  # web + wikipedia (language), feed + stackexchange (stdlib)
        records: list[Record] = []
        asyncio.run(scrapers.crawl(spec, page_budget=60, sink=records.extend))
        yield Crawled(server, spec, records)


@pytest.mark.slow
def test_the_real_spiders_get_records_from_every_source_kind_without_touching_drafts(crawled: Crawled) -> None:
    assert {r.source for r in crawled.records} == {"web", "feed", "wikipedia", "stackexchange"}
    assert not [p for p in crawled.web.hits if p.startswith("/site/private/")]


@pytest.mark.slow
async def test_refetching_an_unchanged_record_gives_the_same_content_hash(crawled: Crawled) -> None:
    records = crawled.per_kind(REFETCH_PER_KIND)
    for record, outcome in zip(records, await crawled.refetch(records), strict=True):
        assert outcome.status == "content" and outcome.record.content_hash == record.content_hash, record.uri


@pytest.mark.slow
async def test_refetching_an_edited_record_gives_new_content(crawled: Crawled) -> None:
    try:
        records = crawled.per_kind(1)
        for record in records:
            crawled.web.edit(crawled.key_of(record), append="Changed while the network runs.")
        for record, outcome in zip(records, await crawled.refetch(records), strict=True):
            assert outcome.status == "content" and outcome.record.content_hash != record.content_hash, record.source
    finally:
        crawled.web.reset()


@pytest.mark.slow
async def test_refetching_a_deleted_record_reports_it_gone(crawled: Crawled) -> None:
    try:
        records = crawled.per_kind(1)
        for record in records:
            crawled.web.delete(crawled.key_of(record))
        for record, outcome in zip(records, await crawled.refetch(records), strict=True):
            assert outcome.status == "gone", record.source
    finally:
        crawled.web.reset()


@pytest.mark.slow
async def test_refetching_during_a_503_fault_reports_unavailable(crawled: Crawled) -> None:
    crawled.web.add_fault(status=503, user_agent=scrapers.USER_AGENT.split("/")[0])
    try:
        records = crawled.per_kind(1)
        for record, outcome in zip(records, await crawled.refetch(records), strict=True):
            assert (outcome.status, outcome.reason) == ("unavailable", "http_503"), record.source
    finally:
        crawled.web.reset()
