"""Source params: the built-in domains validate, and a bad field gives an error that names it."""

from __future__ import annotations

import pytest

from schemas import DomainCatalog, DomainSpecError, SourceSpec
from scrapers import check_domain, load_params
from scrapers.allow import AllowList
from scrapers.kinds.hackernews import HackerNewsParams
from scrapers.kinds.web import WebParams


def test_every_builtin_domain_has_valid_params():
    for domain in DomainCatalog.load():
        check_domain(domain)


@pytest.mark.parametrize(("kind", "params", "field"), [
    ("web", {"seeds": ["ftp://example.org/"]}, "params.seeds.0"),
    ("web", {"seeds": ["https://example.org/"], "allow_patterns": ["(unclosed"]}, "params.allow_patterns.0"),
    ("reddit", {"subreddits": ["Python"], "limit": "many"}, "params.limit"),
    ("reddit", {"subreddits": []}, "params.subreddits"),
    ("wikipedia", {"mode": "search"}, "params: "),
    ("arxiv", {"categories": [], "query": None}, "params: "),
    ("stackexchange", {"tags": ["python"], "page": 2}, "params.page"),
    ("feed", {"feeds": ["https://example.org/feed"], "allow_hosts": ["not a host"]}, "params.allow_hosts.0"),
])
def test_bad_params_name_the_domain_source_and_field(kind, params, field):
    with pytest.raises(DomainSpecError) as caught:
        load_params(SourceSpec(kind=kind, id="src", params=params), "my-domain")
    message = str(caught.value)
    assert "'my-domain'" in message and "'src'" in message and field in message and kind in message


def test_hackernews_accepts_list_as_in_the_domain_files():
    params = load_params(SourceSpec(kind="hackernews", params={"list": "askstories"}))
    assert isinstance(params, HackerNewsParams) and params.stories == "askstories"


def test_web_allow_list_defaults_to_the_seed_hosts_with_their_ports():
    params = load_params(SourceSpec(kind="web", params={"seeds": ["http://127.0.0.1:8123/docs/"]}))
    assert isinstance(params, WebParams)
    assert params.page_hosts().allows_page("http://127.0.0.1:8123/other")
    assert not params.page_hosts().allows_page("http://127.0.0.1:8124/other")


def test_host_rules_match_exact_hosts_and_exact_ports():
    allow = AllowList.build(["python.org", "127.0.0.1:8080"], allow=[r"/3/"], deny=[r"/3/private"])
    assert allow.allows_host("https://python.org/") and not allow.allows_host("https://docs.python.org/3/")
    assert not allow.allows_host("https://notpython.org/") and not allow.allows_host("https://python.org:8443/")
    assert allow.allows_host("http://127.0.0.1:8080/") and not allow.allows_host("http://127.0.0.1/")
    assert not allow.allows_host("http://127.0.0.10:8080/") and not allow.allows_host("ftp://python.org/")
    assert allow.allows_page("https://python.org/3/x") and not allow.allows_page("https://python.org/2/x")
    assert not allow.allows_page("https://python.org/3/private/x")


def test_a_host_rule_does_not_cover_subdomains_anyone_could_create():
    allow = AllowList.build(["example.com"])
    assert allow.allows_host("https://example.com/a")
    assert not allow.allows_host("https://evil.example.com/a")
    assert not allow.allows_host("https://a.b.example.com/a")


def test_a_wildcard_host_rule_covers_the_subdomains_only():
    allow = AllowList.build(["*.example.com"])
    assert allow.allows_host("https://evil.example.com/a") and allow.allows_host("https://a.b.example.com/a")
    assert not allow.allows_host("https://example.com/a") and not allow.allows_host("https://badexample.com/a")


@pytest.mark.parametrize("entry", ["*.com", "*.127.0.0.1", "*.10.0.0.1:8080", "*.", "**.example.com"])
def test_a_wildcard_over_a_top_level_domain_or_an_address_is_refused(entry):
    with pytest.raises(DomainSpecError, match="params.allow_hosts.0"):
        load_params(SourceSpec(kind="web", params={"seeds": ["https://example.com/"], "allow_hosts": [entry]}))
