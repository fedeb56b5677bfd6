"""Pages users publish on the sample web's wiki (`SampleWeb.publish_wiki_page`): a writable source, as on a real
MediaWiki where anyone may create `User:` or `Draft:` pages. Served by title and id with their namespace, never
listed; glean's wikipedia kind refuses them by that namespace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import scrapers
from glean.sampleweb import SampleWeb, SampleWebClient, domain_specs
from schemas.domain import DomainSpec
from schemas.errors import ConfigError

TEXT = ("A page written by a wiki user about the evaluation order of Python expressions. " * 12).strip()


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[SampleWeb]:
    with SampleWeb(data_dir=tmp_path / "web") as server:
        yield server


def _pages(server: SampleWeb, **params: str) -> list[dict]:
    query = {"action": "query", "format": "json", "formatversion": "2", **params}
    return httpx.get(f"{server.base_url}/w/api.php", params=query, timeout=10).json()["query"]["pages"]


def test_a_published_user_page_is_served_with_its_namespace_and_never_listed(fresh: SampleWeb) -> None:
    url = fresh.publish_wiki_page("user:Farmer/Evaluation order", TEXT, 2)
    assert url.endswith("/wiki/User:Farmer/Evaluation_order")
    page, = _pages(fresh, titles="User:Farmer/Evaluation order", prop="extracts|info|revisions", explaintext="1")
    assert page["ns"] == 2 and "evaluation order" in page["extract"] and page["pageid"] > 0
    assert _pages(fresh, pageids=str(page["pageid"]), prop="info")[0]["ns"] == 2
    assert httpx.get(url, timeout=10).status_code == 200
    listed = httpx.get(f"{fresh.base_url}/w/api.php", timeout=10, params={
        "action": "query", "format": "json", "formatversion": "2", "list": "categorymembers",
        "cmtitle": "Category:Python language reference", "cmlimit": "500"}).json()["query"]["categorymembers"]
    assert all(m["ns"] == 0 and not m["title"].startswith("User:") for m in listed)


def test_a_missing_title_reports_the_namespace_of_its_prefix(fresh: SampleWeb) -> None:
    pages = _pages(fresh, titles="User:Nobody/Page|Draft:Nothing yet|Benutzer:Niemand|No such article", prop="info")
    assert [(p["ns"], p.get("missing")) for p in pages] == [(2, True), (118, True), (2, True), (0, True)]


def test_publishing_an_article_or_a_title_of_another_namespace_is_refused(fresh: SampleWeb) -> None:
    with pytest.raises(ConfigError, match="namespace 0") as caught:
        fresh.publish_wiki_page("Evaluation order", TEXT, 0)
    assert "edit" in caught.value.hint
    with pytest.raises(ConfigError, match="not a page of namespace 118"):
        fresh.publish_wiki_page("User:Farmer/Page", TEXT, 118)
    with SampleWebClient(fresh.base_url) as client, pytest.raises(ConfigError, match="integer"):
        client.publish_wiki_page("Draft:Page", TEXT, "118")  # type: ignore[arg-type]


def test_published_pages_survive_a_restart_and_reset_removes_them(tmp_path: Path) -> None:
    with SampleWeb(data_dir=tmp_path) as first:
        first.publish_wiki_page("Draft:Evaluation order", TEXT, 118)
    with SampleWeb(data_dir=tmp_path) as second:
        assert _pages(second, titles="Draft:Evaluation order", prop="info")[0]["ns"] == 118
        second.reset()
        assert _pages(second, titles="Draft:Evaluation order", prop="info")[0].get("missing")


async def test_glean_refuses_a_published_page_by_its_namespace_on_refetch(fresh: SampleWeb) -> None:
    """A title glean's prefix list does not know (a localised namespace) is covered by the URI; the wiki's `ns` of
    the live page (2) is what refuses it: unavailable as constraint:namespace, never content."""
    url = fresh.publish_wiki_page("Benutzer:Farmer/Auswertung", TEXT, 2)
    spec = DomainSpec.model_validate(domain_specs(fresh.base_url)["python-language"])
    source = next(s for s in spec.sources if s.kind == "wikipedia")
    outcome = await scrapers.fetch_one(spec, source, url, timeout=10, allow_private=True)
    assert outcome.status != "content" and outcome.reason == "constraint:namespace"
