"""Each evidence cheat of cheats.py against the validator's own rungs, on the real sample web: what it serves is what
the multi-epoch run (test_run.py) pits against the validator, and each twist meets the rule meant for it (the ladder
for what it can see, the re-fetch for what only the page can say). Fast: no processes, no chain."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from glean.sampleweb import SampleWeb
from glean.sampleweb.corpus import STDLIB_MODULES
from schemas.domain import DomainCatalog
from schemas.record import utcnow
from scoring.identity import identity
from scrapers import fetch_one, source_for
from tests.adversarial import cheats
from tests.adversarial.hostile import FABRICATED_FROM
from tests.adversarial.network import EDIT_SOURCES
from tests.validator.harness import honest_records, write_domains
from validator import constants as K
from validator.ladder import judge_record
from validator.verification import judge, similarity

LANGUAGE, STDLIB = "python-language", "python-stdlib"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[SampleWeb, DomainCatalog]:
    web = SampleWeb().start()
    catalog = DomainCatalog.load([write_domains(web, tmp_path_factory.mktemp("domains"))])
    yield web, catalog
    web.stop()


def _pages(site, domain: str, area: str, count: int) -> list:
    """`count` pages of the area the validator's ladder takes as they are (what honest miners get accepted)."""
    web, catalog = site
    keys = sorted(a.key for a in web.articles(area))[:4 * count]
    records = asyncio.run(honest_records(web, catalog.get(domain), keys))
    return [r for r in records if cheats.passes_ladder(catalog, r)][:count]


async def _checks(catalog: DomainCatalog, records: list) -> list:
    """The validator's judgement of each record after its own re-fetch."""
    out = []
    for record in records:
        spec = catalog.get(record.domain)
        fetched = await fetch_one(spec, source_for(spec, record), record.uri, timeout=60, allow_private=True)
        out.append(judge(record, fetched))
    return out


def _ladder(catalog: DomainCatalog, record) -> str | None:
    """None when the cheap rungs let the record through, else their reason."""
    candidate, reason = judge_record(0, 1, record.model_dump(mode="json"), catalog.get(record.domain), utcnow())
    return None if candidate is not None else reason


def test_the_never_served_prose_is_disjoint_from_every_other_pool():
    mine = set(cheats.PADDED_FROM), set(cheats.PUBLISHED_FROM)
    assert not (mine[0] | mine[1]) & set(STDLIB_MODULES) and not mine[0] & mine[1]
    assert not (mine[0] | mine[1]) & (set(FABRICATED_FROM) | set(EDIT_SOURCES))
    assert len(list(cheats.module_texts(cheats.PADDED_FROM))) >= cheats.PAD_PER_REAL * cheats.PADDED_PAGES


def test_padding_passes_the_ladder_and_is_unverified_on_refetch(site):
    web, catalog = site
    real, = _pages(site, STDLIB, "stdlib", 1)
    served = cheats.Twister("padder", catalog)(real)
    assert len(served) == 1 + cheats.PAD_PER_REAL and served[0].content_hash == real.content_hash
    invented = served[1:]
    assert all(r.uri.startswith(web.url("/site/stdlib/")) and _ladder(catalog, r) is None for r in invented)
    checks = asyncio.run(_checks(catalog, invented))
    assert [c.outcome for c in checks] == ["unverified"] * cheats.PAD_PER_REAL


def test_spins_are_novel_to_each_other_but_unverified_on_refetch(site):
    _web, catalog = site
    page, = _pages(site, LANGUAGE, "language", 1)
    spins = cheats.Twister("spinner", catalog)(page)
    assert spins[1].uri.endswith("?" + cheats.SPIN_QUERY)
    assert similarity(spins[0].text, spins[1].text) < K.VERIFY_PASS_SIMILARITY  # both novel to the index
    assert all(_ladder(catalog, r) is None for r in spins)
    assert [c.outcome for c in asyncio.run(_checks(catalog, spins))] == ["unverified", "unverified"]


def test_a_spin_replaces_five_to_seven_percent_of_the_words():
    text = " ".join(f"word{i}" for i in range(1000))
    changed = sum(a != b for a, b in zip(text.split(), cheats.spun(text, random.Random(1)).split(), strict=True))
    assert 40 <= changed <= 70


def test_a_freshness_lie_fails_its_published_at_claim(site):
    _web, catalog = site
    pages = _pages(site, STDLIB, "stdlib", 10)
    old = [p for p in pages if p.published_at and (utcnow() - p.published_at).total_seconds() > 2 * 24 * 3600]
    lies = [r for p in old for r in cheats.Twister("freshness-liar", catalog)(p)]
    assert lies and all(_ladder(catalog, r) is None for r in lies)
    assert {(c.outcome, c.reason) for c in asyncio.run(_checks(catalog, lies))} == {("fail", "claim:published_at")}


def test_a_stuffed_title_fails_its_claim_and_an_off_topic_body_fails_relevance(site):
    _web, catalog = site
    page, = _pages(site, LANGUAGE, "language", 1)
    stuffed, off_topic = cheats.Twister("title-stuffer", catalog)(page)
    assert {"Statement", "Expression", "Syntax"} <= set(stuffed.title.split(": ")[0].split())
    assert [(c.outcome, c.reason) for c in asyncio.run(_checks(catalog, [stuffed]))] == [("fail", "claim:title")]
    assert _ladder(catalog, off_topic).startswith("relevance")


def test_a_disguised_copy_passes_the_cheap_rungs_and_reads_the_same_as_its_original(site):
    _web, catalog = site
    for page in _pages(site, LANGUAGE, "language", 3):
        copy, = cheats.Twister("disguised-copier", catalog)(page)
        assert copy.content_hash != page.content_hash and not copy.text.isascii()
        assert _ladder(catalog, copy) is None  # no mixed-script words: only novelty can tell
        assert identity(copy.text) == identity(page.text)


def test_self_published_wiki_pages_are_refused_by_the_namespace_rule(tmp_path: Path):
    with SampleWeb() as web:
        catalog = DomainCatalog.load([write_domains(web, tmp_path / "domains")])
        pages = cheats.publish_pages(web, tmp_path / "pages.json", catalog, LANGUAGE)
        records = asyncio.run(cheats.published_records(catalog, tmp_path / "pages.json", LANGUAGE, "cheat/1"))
        assert len(records) == len(pages) >= len(cheats.WIKI_PLACES)
        claims_article = [r for r, p in zip(records, pages, strict=True) if p["claim"] == 0]
        for record, page in zip(records, pages, strict=True):
            reason = _ladder(catalog, record)
            assert (reason is None) == (page["claim"] == 0), (page["title"], reason)
            if reason is not None:
                assert reason in ("unknown_source", "source_constraint:namespace"), reason
        checks = asyncio.run(_checks(catalog, claims_article))
        assert {(c.outcome, c.reason) for c in checks} == {("unverified", "unavailable:constraint:namespace")}
