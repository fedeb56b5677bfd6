"""The licence policy (scrapers.licence.decide): per kind, per declaration, per host rule; never the miner's word."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas import DomainCatalog, DomainSpec, DomainSpecError, Record
from schemas.domain import load_domain_file
from scrapers.licence import ARXIV_ABSTRACT_MAX_CHARS, decide, spdx

CATALOG = DomainCatalog.load()
TEXT = "A paragraph of prose long enough to be a record of any kind in these tests. " * 5


def _record(uri: str, source: str, domain: str, *, license: str | None = None, title: str = "A title",
            text: str = TEXT, published_at: datetime | None = None, meta: dict | None = None) -> Record:
    return Record.build(uri=uri, text=text, title=title, source=source, domain=domain, license=license,
                        published_at=published_at, meta=meta or {})


def _decide(domain_id: str, kind: str, uri: str, declared: str | None = None, **fields):
    domain = CATALOG.get(domain_id)
    source = next(s for s in domain.sources if s.kind == kind)
    return decide(domain, source, _record(uri, kind, domain_id, **fields), declared)


def _web_domain(hosts: dict[str, str] | None = None) -> DomainSpec:
    return DomainSpec.model_validate({
        "id": "licence-test", "title": "t", "relevance": {"keywords": {"x": 1}},
        "sources": [{"kind": "web", "params": {"seeds": ["https://docs.example.org/"],
                                                "allow_hosts": ["docs.example.org", "blog.example.org"]}}],
        "license": {"hosts": hosts or {}}})


def _web(domain: DomainSpec, uri: str, declared: str | None = None, **fields):
    return decide(domain, domain.sources[0], _record(uri, "web", domain.id, **fields), declared)


def test_wikipedia_is_cc_by_sa_with_the_page_history_as_authors():
    d = _decide("open-knowledge", "wikipedia", "https://en.wikipedia.org/wiki/Quantum_field_theory",
                title="Something else the miner claims")
    assert (d.licence, d.text_allowed, d.basis) == ("CC-BY-SA-4.0", True, "kind:wikipedia")
    assert '"Quantum field theory"' in d.attribution  # from the URI, not the miner's title
    assert "https://en.wikipedia.org/wiki/Quantum_field_theory?action=history" in d.attribution
    assert "https://creativecommons.org/licenses/by-sa/4.0/" in d.attribution


def test_stack_exchange_uses_the_declared_content_license_and_credits_the_author():
    d = _decide("python-ecosystem", "stackexchange", "https://stackoverflow.com/questions/123",
                declared="CC BY-SA 3.0", meta={"author": "Ada"})
    assert (d.licence, d.text_allowed) == ("CC-BY-SA-3.0", True)
    assert "by Ada" in d.attribution and "https://stackoverflow.com/questions/123" in d.attribution
    assert "Stack Exchange" in d.attribution


def test_stack_exchange_not_fetched_falls_back_on_the_networks_licence_schedule():
    old = _decide("python-ecosystem", "stackexchange", "https://stackoverflow.com/questions/1",
                  published_at=datetime(2010, 1, 1, tzinfo=UTC))
    new = _decide("python-ecosystem", "stackexchange", "https://stackoverflow.com/questions/2",
                  published_at=datetime(2020, 1, 1, tzinfo=UTC))
    assert (old.licence, new.licence) == ("CC-BY-SA-2.5", "CC-BY-SA-4.0")


@pytest.mark.parametrize("domain_id,kind,uri", [
    ("python-ecosystem", "reddit", "https://www.reddit.com/r/Python/comments/abc123/a_post/"),
    ("world-news", "feed", "https://www.bbc.com/news/world-1"),
    ("ml-research", "hackernews", "https://news.ycombinator.com/item?id=123"),
])
def test_reddit_news_feeds_and_hn_text_posts_are_metadata_only(domain_id, kind, uri):
    d = _decide(domain_id, kind, uri, license="CC0-1.0")  # the miner's claim changes nothing
    assert (d.text_allowed, d.attribution) == (False, None)


def test_the_miners_licence_claim_is_never_trusted():
    domain = _web_domain()
    d = _web(domain, "https://docs.example.org/a", license="CC-BY-4.0")
    assert (d.licence, d.text_allowed, d.basis) == (None, False, "default")


def test_a_page_declaring_a_free_licence_may_be_redistributed():
    d = _web(_web_domain(), "https://docs.example.org/a", declared="https://creativecommons.org/licenses/by/4.0/",
             meta={"author": "Grace Hopper"})
    assert (d.licence, d.text_allowed, d.basis) == ("CC-BY-4.0", True, "page:rel=license")
    assert "by Grace Hopper" in d.attribution


def test_a_page_declaring_a_non_commercial_licence_is_metadata_only_even_on_a_free_host():
    domain = _web_domain({"docs.example.org": "CC-BY-4.0"})
    d = _web(domain, "https://docs.example.org/a", declared="CC-BY-NC-SA-4.0")
    assert (d.licence, d.text_allowed) == ("CC-BY-NC-SA-4.0", False)


def test_host_rule_applies_to_pages_that_declare_nothing_and_only_to_its_host():
    domain = _web_domain({"docs.example.org": "PSF-2.0"})
    assert _web(domain, "https://docs.example.org/a").licence == "PSF-2.0"
    assert _web(domain, "https://docs.example.org/a").basis == "host:docs.example.org"
    other = _web(domain, "https://blog.example.org/a")
    assert (other.text_allowed, other.basis) == (False, "default")


def test_host_rule_with_a_port_and_path_prefix_picks_the_most_specific():
    domain = _web_domain({"docs.example.org:8080/site/free/": "CC0-1.0", "docs.example.org:8080": "PSF-2.0"})
    assert _web(domain, "http://docs.example.org:8080/site/free/a").licence == "CC0-1.0"
    assert _web(domain, "http://docs.example.org:8080/site/other/a").licence == "PSF-2.0"
    assert not _web(domain, "http://docs.example.org:9090/site/free/a").text_allowed  # another port


def test_wildcard_host_rule_covers_subdomains_not_lookalike_hosts():
    domain = _web_domain({"*.example.org": "CC-BY-4.0"})
    assert _web(domain, "https://blog.example.org/a").text_allowed
    look_alike = DomainSpec.model_validate({**domain.model_dump(), "sources": [
        {"kind": "web", "params": {"seeds": ["https://evilexample.org/"], "allow_hosts": ["evilexample.org"]}}]})
    assert not _web(look_alike, "https://evilexample.org/a").text_allowed


def test_arxiv_abstract_is_cc0_metadata():
    d = _decide("ml-research", "arxiv", "https://arxiv.org/abs/2401.00001")
    assert (d.licence, d.text_allowed, d.basis) == ("CC0-1.0", True, "kind:arxiv:abstract")


def test_arxiv_full_text_only_under_a_free_licence_the_paper_declares():
    long_text = "word " * (ARXIV_ABSTRACT_MAX_CHARS // 4)
    uri = "https://arxiv.org/abs/2401.00001"
    nonexclusive = _decide("ml-research", "arxiv", uri, text=long_text,
                           declared="http://arxiv.org/licenses/nonexclusive-distrib/1.0/")
    undeclared = _decide("ml-research", "arxiv", uri, text=long_text)
    free = _decide("ml-research", "arxiv", uri, text=long_text, declared="http://creativecommons.org/licenses/by/4.0/")
    assert not nonexclusive.text_allowed and not undeclared.text_allowed
    assert (free.licence, free.text_allowed) == ("CC-BY-4.0", True)


def test_hn_linked_article_follows_the_page_rule():
    d = _decide("ml-research", "hackernews", "https://bair.berkeley.edu/blog/2024/01/01/post/",
                declared="CC-BY-4.0")
    assert (d.licence, d.text_allowed, d.basis) == ("CC-BY-4.0", True, "page:rel=license")


@pytest.mark.parametrize("declared,expected", [
    ("CC BY-SA 4.0", "CC-BY-SA-4.0"), ("cc-by-4.0", "CC-BY-4.0"), ("CC-ZERO-1.0", "CC0-1.0"),
    ("https://creativecommons.org/publicdomain/zero/1.0/", "CC0-1.0"),
    ("https://spdx.org/licenses/PSF-2.0.html", "PSF-2.0"), ("https://example.org/our-terms", None),
    ("", None), (None, None),
])
def test_declarations_are_read_as_spdx_ids(declared, expected):
    assert spdx(declared) == expected


def test_an_unrecognised_declaration_falls_back_on_the_host_rule():
    domain = _web_domain({"docs.example.org": "PSF-2.0"})
    d = _web(domain, "https://docs.example.org/a", declared="https://example.org/our-terms")
    assert (d.licence, d.basis) == ("PSF-2.0", "host:docs.example.org")


def test_a_host_rule_naming_a_non_free_licence_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("id: bad\ntitle: t\nsources: [{kind: web, params: {seeds: ['https://a.org/'], "
                    "allow_hosts: [a.org]}}]\nrelevance: {keywords: {x: 1}}\n"
                    "license: {hosts: {a.org: CC-BY-NC-4.0}}\n")
    with pytest.raises(DomainSpecError, match="not one whose text may be redistributed"):
        load_domain_file(path)


def test_a_host_rule_with_a_url_instead_of_a_host_is_refused(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("id: bad\ntitle: t\nsources: [{kind: web, params: {seeds: ['https://a.org/'], "
                    "allow_hosts: [a.org]}}]\nrelevance: {keywords: {x: 1}}\n"
                    "license: {hosts: {'https://a.org/': CC-BY-4.0}}\n")
    with pytest.raises(DomainSpecError, match="license.hosts"):
        load_domain_file(path)


def test_built_in_domains_publish_text_only_from_hosts_with_a_known_free_licence():
    from scrapers.kinds import load_params

    for domain in CATALOG:
        for source in domain.sources:
            if source.kind not in ("web", "feed"):
                continue
            for host in load_params(source, domain.id).allow_hosts:
                d = decide(domain, source, _record(f"https://{host}/a/page", source.kind, domain.id,
                                                   license="CC0-1.0"), None)
                assert d.text_allowed is (host in domain.license.hosts), (domain.id, host)
    assert _decide("python-ecosystem", "web", "https://docs.python.org/3/howto/a.html").licence == "PSF-2.0"
