"""Source kinds: the registry, and a toy kind added the documented way (one module) crawled by the real process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from schemas import SOURCE_KINDS, DomainSpecError, Record
from scrapers import crawl, fetch_one, reasons, source_for
from scrapers.kinds import KINDS, SourceKind, import_kind, kind_of, kind_path, register
from tests.scrapers import toy_kind
from tests.scrapers.recorded import PROSE, make_domain, source
from tests.support.site import Page

TEXT = "text/plain; charset=utf-8"


def test_importing_scrapers_imports_neither_scrapy_nor_twisted():
    code = ("import sys, scrapers, scrapers.kinds; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('scrapy', 'twisted')))")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert found.strip() == "[]"


def test_every_built_in_kind_is_registered_under_its_name():
    assert sorted(KINDS) == sorted(SOURCE_KINDS)
    for name, kind in KINDS.items():
        assert issubclass(kind, SourceKind) and kind.name == name
        assert import_kind(kind_path(kind)) is kind
        assert kind.spider().__name__ == kind.spider_steps.__name__  # built lazily, in whoever asks


def test_an_unregistered_kind_is_a_domain_spec_error_naming_the_registry():
    with pytest.raises(DomainSpecError, match="'telegram' is not registered") as info:
        kind_of("telegram")
    assert "scrapers.kinds.register" in info.value.hint


@pytest.fixture
def toy() -> Iterator[type[SourceKind]]:
    """The toy kind registered under its own name (taken out of the registry afterwards)."""
    previous = register(toy_kind.Toy)
    assert previous is None
    yield toy_kind.Toy
    del KINDS[toy_kind.TOY_NAME]


def notes_site(site, count: int = 3):
    site.add("/notes.txt", Page("".join(f"notes/{i}.txt\n" for i in range(count)), content_type=TEXT))
    for i in range(count):
        site.add(f"/notes/{i}.txt", Page(f"Note {i}\n{PROSE[i % len(PROSE)]}", content_type=TEXT))
    return make_domain(source(toy_kind.TOY_NAME, "notes", base_url=site.url("/")))


async def test_a_toy_kind_module_is_crawled_by_the_real_crawl_process(site, toy):
    domain = notes_site(site)
    records: list[Record] = []
    stats = await crawl(domain, page_budget=20, sink=records.extend)
    assert stats.records == 3 and stats.errors == {}
    assert sorted(r.title for r in records) == ["Note 0", "Note 1", "Note 2"]
    assert all(r.source == toy_kind.TOY_NAME and r.meta == {"source_id": "notes", "toy": True} for r in records)
    assert site.hits["/notes.txt"] == 1 and site.hits["/notes/2.txt"] == 1


async def test_fetch_one_and_source_for_use_the_toy_kind(site, toy):
    domain = notes_site(site, count=2)
    records: list[Record] = []
    await crawl(domain, page_budget=20, sink=records.extend)
    for record in records:
        assert source_for(domain, record) is domain.sources[0]
        outcome = await fetch_one(domain, domain.sources[0], record.uri, allow_private=True)
        assert outcome.status == "content" and outcome.record.content_hash == record.content_hash
    site.add("/notes/0.txt", Page("gone", status=404, content_type=TEXT))
    gone = await fetch_one(domain, domain.sources[0], site.url("/notes/0.txt"), allow_private=True)
    assert (gone.status, gone.reason) == ("gone", reasons.http_reason(404))
    outside = records[0].model_copy(update={"uri": site.url("/elsewhere/0.txt")})
    assert source_for(domain, outside) is None


def test_outside_the_toy_tests_the_registry_holds_only_the_built_in_kinds():
    assert toy_kind.TOY_NAME not in KINDS and set(KINDS) == set(SOURCE_KINDS)
