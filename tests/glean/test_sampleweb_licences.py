"""The sample web's licences and planted data: licensed areas declare PSF-2.0, the notes area declares nothing, the
wiki is CC BY-SA 4.0 with page histories, and some pages carry personal data beside look-alikes that must survive."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import httpx
import lxml.html
import pytest
import trafilatura

from glean.sampleweb import SampleWeb, domain_specs
from glean.sampleweb.constants import PLANT_EVERY
from glean.sampleweb.mediawiki import wiki_url
from glean.sampleweb.mediawiki.history import EDITORS
from glean.sampleweb.planted import LOOKALIKES, all_personal_data, planted_keys
from hub.pii import scrub
from schemas import DomainSpec, Record
from scrapers.extract import page_license
from scrapers.licence import decide, spdx


@pytest.fixture(scope="module")
def web() -> Iterator[SampleWeb]:
    with SampleWeb() as server:
        yield server


@pytest.fixture
def http(web: SampleWeb) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=web.base_url, timeout=10) as client:
        yield client


def _declared(http: httpx.Client, path: str) -> str | None:
    return spdx(page_license(lxml.html.fromstring(http.get(path).content)))


def test_licensed_areas_declare_psf_and_the_notes_area_declares_nothing(web: SampleWeb, http: httpx.Client):
    assert _declared(http, "/site/language/for.html") == "PSF-2.0"
    assert _declared(http, "/site/stdlib/json.html") == "PSF-2.0"
    notes = web.articles("notes")
    assert len(notes) >= 5
    for article in notes:
        page = http.get(web.article_url(article.key)).text
        assert page_license(lxml.html.fromstring(page)) is None
        assert not re.search(r"licen[cs]e", page, re.IGNORECASE)  # no statement anywhere on the page


def test_the_notes_area_is_crawlable_from_its_index_and_the_sitemap(web: SampleWeb, http: httpx.Client):
    index = http.get("/site/notes/").text
    sitemap = http.get("/sitemap.xml").text
    for article in web.articles("notes"):
        assert f"/site/notes/{article.slug}.html" in index and web.article_url(article.key) in sitemap


def _for_statement(server: SampleWeb) -> str:
    return wiki_url(next(a for a in server.articles("language") if a.slug == "for"), server.base_url)


def test_wiki_pages_are_cc_by_sa_with_their_history_linked(web: SampleWeb, http: httpx.Client):
    page = lxml.html.fromstring(http.get(_for_statement(web)).content)
    assert spdx(page_license(page)) == "CC-BY-SA-4.0"
    assert page.xpath("//footer//a[contains(@href, '?action=history')]")


def test_wiki_history_lists_every_revision_with_its_author(web: SampleWeb, tmp_path: Path):
    with SampleWeb(data_dir=tmp_path / "web") as fresh, httpx.Client(base_url=fresh.base_url, timeout=10) as c:
        fresh.edit("language/for", append="A sentence a second editor added.")
        url = _for_statement(fresh)
        title = unquote(url.rsplit("/", 1)[1]).replace("_", " ")
        query = {"action": "query", "format": "json", "formatversion": "2", "titles": title,
                 "prop": "revisions|contributors", "rvlimit": "max", "rvprop": "ids|user|userid|timestamp|comment"}
        page = c.get("/w/api.php", params=query).json()["query"]["pages"][0]
        revs = page["revisions"]
        assert [r["revid"] for r in revs] == sorted((r["revid"] for r in revs), reverse=True) and len(revs) == 2
        assert revs[0]["parentid"] == revs[1]["revid"] and revs[1]["parentid"] == 0
        names = {name for name, _uid in EDITORS}
        assert {r["user"] for r in revs} <= names and len({r["user"] for r in revs}) == 2
        assert [c["name"] for c in page["contributors"]] == [revs[1]["user"], revs[0]["user"]]
        history = c.get(url, params={"action": "history"}).text
        same = c.get("/w/index.php", params={"title": title, "action": "history"}).text
        assert history == same and all(r["user"] in history for r in revs)


def test_planted_personal_data_is_served_and_the_scrub_removes_it_and_keeps_the_lookalikes(web: SampleWeb,
                                                                                          http: httpx.Client):
    keys = planted_keys(web.articles())
    assert len(keys) >= 10
    planted = all_personal_data(len(keys))
    for key in keys:
        text = trafilatura.extract(http.get(web.article_url(key)).text)
        assert any(email in text for email in planted["emails"])
        cleaned = scrub(text).text
        for values in planted.values():
            assert not [v for v in values if v in cleaned], key
        assert [w for w in LOOKALIKES if w in text] == [w for w in LOOKALIKES if w in cleaned] == list(LOOKALIKES)
    assert PLANT_EVERY > 1  # most pages carry none


def _record(uri: str, source: str, domain: str) -> Record:
    return Record.build(uri=uri, text="words " * 60, title="t", source=source, domain=domain)


def test_demo_domains_publish_text_only_where_the_sample_web_grants_it(web: SampleWeb):
    specs = {k: DomainSpec.model_validate(v) for k, v in domain_specs(web.base_url).items()}
    stdlib, language = specs["python-stdlib"], specs["python-language"]
    notes = next(a for a in web.articles("notes"))
    unsampled = decide(stdlib, stdlib.source("web"), _record(web.article_url("stdlib/json"), "web", stdlib.id), None)
    sampled_notes = decide(stdlib, stdlib.source("notes"), _record(web.article_url(notes.key), "web", stdlib.id),
                           None)
    wiki = decide(language, language.source("wikipedia"), _record(_for_statement(web), "wikipedia", language.id),
                  None)
    assert (unsampled.licence, unsampled.text_allowed) == ("PSF-2.0", True)
    assert (sampled_notes.licence, sampled_notes.text_allowed) == (None, False)
    assert (wiki.licence, wiki.text_allowed) == ("CC-BY-SA-4.0", True)
    assert f"{_for_statement(web)}?action=history" in wiki.attribution
