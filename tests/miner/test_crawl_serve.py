"""End to end in one process: the miner crawls a loopback site with the real scrapers and a validator pulls every
page back over signed HTTP."""

from __future__ import annotations

import asyncio

import pytest

from chain import LocalChain
from schemas import MinerIndex
from schemas.protocol import RecordsRequest, RecordsResponse
from tests.miner.support import miner_config, registered, serve_miner
from tests.scrapers.recorded import article
from tests.support.site import Page

PAGES = 8
DOMAIN_YAML = """id: serve-test
title: Serve test
sources:
  - kind: web
    params: {{seeds: ["{base}/"], max_depth: 1, delay: 0, autothrottle: false, sitemaps: false}}
relevance:
  keywords: {{python: 1.0}}
"""


@pytest.mark.slow
async def test_crawled_pages_reach_a_validator_through_the_signed_api(tmp_path, site):
    links = tuple(f"/article-{i}" for i in range(PAGES))
    site.add("/", Page(article("Front page", links=links)))
    for i, path in enumerate(links):
        site.add(path, Page(article(f"Article {i}", first=i)))
    expected = {site.url("/"), *(site.url(p) for p in links)}
    domains = tmp_path / "domains"
    domains.mkdir()
    (domains / "serve-test.yaml").write_text(DOMAIN_YAML.format(base=site.base_url))

    chain = LocalChain(tmp_path / "chain.sqlite")
    validator = await registered(chain, "validator", stake=50.0)
    miner_wallet = await registered(chain, "miner")
    config = miner_config(tmp_path, domains=["serve-test"], requests_per_minute=600)
    config = config.model_copy(update={"domain_dirs": [domains]})
    try:
        async with serve_miner(config, chain, miner_wallet) as running, running.client(validator) as http:
            records = []
            for _ in range(240):  # bounded: the crawl takes a few seconds
                cursor = records[-1].seq if records else 0
                request = RecordsRequest(after_seq=cursor, limit=100)
                response = await http.post("/v1/records", content=request.model_dump_json().encode())
                records += RecordsResponse.model_validate_json(response.content).records
                if len(records) >= len(expected):
                    break
                await asyncio.sleep(0.25)
            index = MinerIndex.model_validate_json((await http.get("/v1/index")).content)
    finally:
        await chain.close()
    assert {r.record.uri for r in records} == expected
    assert [r.seq for r in records] == list(range(1, len(expected) + 1))
    assert {(b.domain, b.source) for b in index.buckets} == {("serve-test", "web")}
    assert index.total_count == len(expected)
