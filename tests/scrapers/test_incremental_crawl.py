"""Incremental crawls against the sample web: after a full crawl, a crawl `since` its watermark fetches what was
published or changed since (sitemap lastmod, feed dates, Stack Exchange activity), not the whole site — counted on
the site's own hit counters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

import scrapers
from glean.sampleweb import SampleWeb, domain_specs
from glean.sampleweb.clock import ManualClock
from schemas.domain import DomainSpec
from schemas.record import Record
from scrapers.incremental import parse_time

NEW_PAGES = 4
BUDGET = 400


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2030, 1, 1, 12, tzinfo=UTC))


@pytest.fixture
def web(clock: ManualClock) -> Iterator[SampleWeb]:
    with SampleWeb(clock=clock) as server:
        yield server


def _spec(web: SampleWeb) -> DomainSpec:
    return DomainSpec.model_validate(domain_specs(web.base_url, delay=0.0)["python-stdlib"])


async def _crawl(spec: DomainSpec, source: str, since: datetime | None = None) -> tuple[list[Record], object]:
    records: list[Record] = []
    stats = await scrapers.crawl(spec, page_budget=BUDGET, sink=records.extend, sources=[source], since=since,
                                 parse_workers=0)
    return records, stats


def _article_hits(web: SampleWeb) -> int:
    return sum(n for path, n in web.hits.items() if path.startswith("/site/stdlib/") and path.endswith(".html"))


@pytest.mark.parametrize("source", ["web", "feed", "stackexchange"])
async def test_a_crawl_since_the_watermark_fetches_only_what_changed(web: SampleWeb, clock: ManualClock,
                                                                     source: str) -> None:
    spec = _spec(web)
    full, stats = await _crawl(spec, source)
    assert len(full) > 50 and stats.watermark is not None
    clock.advance(hours=1)
    published = [web.publish("stdlib") for _ in range(NEW_PAGES)]
    changed = web.change("stdlib/json", append="The maintainers added this paragraph today.")
    web.hits.clear()
    again, stats2 = await _crawl(spec, source, since=parse_time(stats.watermark))
    seen = {r.title for r in again} | {r.meta.get("question_id") for r in again}  # pages by title, questions by id
    assert all(a.title in seen or a.page_id in seen for a in [*published, changed])
    assert NEW_PAGES + 1 <= len(again) <= NEW_PAGES + 3  # not the ~90 pages of the full crawl
    if source != "stackexchange":
        assert _article_hits(web) <= NEW_PAGES + 3
    assert parse_time(stats2.watermark) >= clock.now().replace(microsecond=0)  # answers come after questions


async def test_a_crawl_without_since_is_a_full_crawl(web: SampleWeb, clock: ManualClock) -> None:
    spec = _spec(web)
    first, _ = await _crawl(spec, "feed")
    clock.advance(hours=1)
    web.publish("stdlib")
    again, _ = await _crawl(spec, "feed")
    assert len(again) == len(first) + 1
