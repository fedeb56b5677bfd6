"""The built-ins area: the material of the dataset `glean local up` requests. Served like the other areas, licensed
PSF-2.0, every page passes the requested domain's quality rules, the requested spec passes a validator's request
rules, and no demo domain crawls the area (so its records are new to the network)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import lxml.html
import pytest

from glean.sampleweb import SampleWeb, domain_specs
from glean.sampleweb.builtin_types import builtin_articles
from glean.sampleweb.domains import REQUEST_DOMAIN, SAMPLE_DOMAINS, request_spec
from schemas import DomainSpec
from schemas.record import utcnow
from schemas.request import request_from
from scoring.quality import assess_quality
from scrapers.extract import page_license
from scrapers.licence import spdx
from validator.request_checks import check_request

REQUESTER = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"


@pytest.fixture(scope="module")
def web() -> Iterator[SampleWeb]:
    with SampleWeb() as server:
        yield server


def test_the_area_is_served_with_an_index_and_licensed_pages(web: SampleWeb):
    articles = web.articles("builtins")
    assert [a.key for a in articles] == [a.key for a in builtin_articles()]
    assert len(articles) >= 8
    with httpx.Client(base_url=web.base_url, timeout=10) as http:
        index = http.get("/site/builtins/")
        assert index.status_code == 200
        for article in articles:
            assert f"{article.slug}.html" in index.text
        page = http.get(web.article_url("builtins/str-type"))
        assert page.status_code == 200 and "str.capitalize" in page.text
        assert spdx(page_license(lxml.html.fromstring(page.content))) == "PSF-2.0"


def test_every_page_passes_the_requested_domains_quality_rules():
    spec = DomainSpec.model_validate(request_spec("http://127.0.0.1:1"))
    for article in builtin_articles():
        assert assess_quality(article.plain_text(), spec.quality, list(spec.languages)).reason is None, article.key


def test_the_requested_spec_passes_the_request_rules_in_local_mode():
    request = request_from({"spec": request_spec("http://127.0.0.1:8799"), "requester": REQUESTER,
                            "target": {"records": 5}})
    spec = check_request(request, local=True, now=utcnow())
    assert spec.id == REQUEST_DOMAIN and REQUEST_DOMAIN not in SAMPLE_DOMAINS


def test_no_demo_domain_crawls_the_area():
    base = "http://127.0.0.1:8799"
    url = f"{base}/site/builtins/str-type.html"
    for domain_id, spec in domain_specs(base).items():
        for source in spec["sources"]:
            patterns = source["params"].get("allow_patterns", [])
            assert not any(re.search(p, url) for p in patterns), (domain_id, source)
    assert any(re.search(p, url) for p in request_spec(base)["sources"][0]["params"]["allow_patterns"])
