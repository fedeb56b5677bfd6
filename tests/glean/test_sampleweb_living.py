"""The living sample web: its clock, the publish/change/remove hooks and the seeded schedule, seen through every
representation (site pages, feeds, sitemaps, the MediaWiki and StackExchange APIs) and over /_control/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import httpx
import pytest

from glean.sampleweb import SampleWeb, SampleWebClient
from glean.sampleweb.clock import ManualClock, WallClock
from glean.sampleweb.reserve import reserve_articles
from schemas.errors import ConfigError

START = datetime(2030, 1, 1, 12, tzinfo=UTC)
TEXT = ("A new page about the evaluation order of Python expressions, published while the crawlers run. " * 12)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def web(clock: ManualClock, tmp_path: Path) -> Iterator[SampleWeb]:
    with SampleWeb(clock=clock, data_dir=tmp_path / "web") as server:
        yield server


def _get(web: SampleWeb, path: str, **params: str) -> httpx.Response:
    return httpx.get(web.url(path), params=params, timeout=10)


def _wiki_rc(web: SampleWeb, since: datetime) -> list[str]:
    data = _get(web, "/w/api.php", action="query", format="json", formatversion="2", list="recentchanges",
                rcdir="newer", rcstart=since.strftime("%Y-%m-%dT%H:%M:%SZ"), rclimit="max").json()
    return [c["title"] for c in data["query"]["recentchanges"]]


def _se_active(web: SampleWeb, since: datetime) -> list[int]:
    data = _get(web, "/api/2.3/questions", site="stackoverflow", sort="activity", min=str(int(since.timestamp())),
                pagesize="100").json()
    return [q["question_id"] for q in data["items"]]


def test_the_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(START)
    assert clock.now() == START
    assert clock.advance(minutes=5) == START.replace(minute=5)
    with pytest.raises(ConfigError):
        clock.advance(-1)


def test_an_accelerated_wall_clock_runs_faster_than_real_time() -> None:
    clock = WallClock(rate=3600.0, start=START)
    assert clock.now() >= START
    with pytest.raises(ConfigError):
        WallClock(rate=0)


def test_a_published_page_is_dated_by_the_clock_and_listed_everywhere(web: SampleWeb, clock: ManualClock) -> None:
    clock.advance(hours=1)
    article = web.publish("stdlib")
    assert article.key == reserve_articles()[0].key and article.published_at == clock.now()
    assert _get(web, f"/site/stdlib/{article.slug}.html").status_code == 200
    assert f"{article.slug}.html</loc><lastmod>{clock.now().isoformat()}" in _get(web, "/sitemap.xml").text
    assert feedparser.parse(_get(web, "/site/stdlib/atom.xml").content).entries[0].link.endswith(article.slug + ".html")
    assert _wiki_rc(web, clock.now()) == [f"The {article.title.removeprefix('The ')}"]
    assert _se_active(web, clock.now()) == [article.page_id]


def test_a_page_with_given_text_is_published_in_its_area(web: SampleWeb) -> None:
    article = web.publish("language", title="Evaluation order now", text=TEXT)
    assert article.key == "language/evaluation-order-now"
    assert "evaluation order" in _get(web, "/site/language/evaluation-order-now.html").text
    with pytest.raises(ConfigError):
        web.publish("language")  # no reserve for the language reference: give a title and text


def test_a_changed_page_shows_its_new_date_and_text(web: SampleWeb, clock: ManualClock) -> None:
    clock.advance(hours=2)
    web.change("language/for", append="A sentence added by the editors today.")
    assert "added by the editors" in _get(web, "/site/language/for.html").text
    assert f"for.html</loc><lastmod>{clock.now().isoformat()}" in _get(web, "/site/language/sitemap.xml").text
    assert len(_wiki_rc(web, clock.now())) == 1
    assert web.changes()["changed"] == [{"key": "language/for", "at": clock.now().isoformat(), "by": "control"}]


def test_a_removed_page_answers_404_and_leaves_every_listing(web: SampleWeb) -> None:
    question = next(a for a in web.articles("stdlib") if a.key == "stdlib/json").page_id
    web.remove("stdlib/json")
    assert _get(web, "/site/stdlib/json.html").status_code == 404
    assert "/json.html" not in _get(web, "/sitemap.xml").text
    assert "/json.html" not in _get(web, "/site/stdlib/atom.xml").text
    assert question not in _se_active(web, START.replace(year=2000))
    assert web.changes()["removed"][0]["key"] == "stdlib/json"


def test_nothing_is_scheduled_unless_asked(web: SampleWeb, clock: ManualClock) -> None:
    before = len(web.articles())
    clock.advance(days=30)
    assert len(web.articles()) == before and web.changes() == {"published": [], "changed": [], "removed": []}


def test_the_schedule_runs_on_the_clock_and_is_the_same_for_the_same_seed(clock: ManualClock) -> None:
    runs = []
    for _ in range(2):
        local = ManualClock(START)
        with SampleWeb(clock=local) as server:
            server.start_schedule(interval=60, seed=7)
            local.advance(seconds=59)
            assert server.changes()["published"] == []
            local.advance(minutes=59, seconds=1)  # 60 events
            runs.append(server.changes())
    assert runs[0] == runs[1]
    assert sum(len(v) for v in runs[0].values()) == 60
    assert len(runs[0]["published"]) > len(runs[0]["changed"]) > 0 and runs[0]["removed"]


def test_the_schedule_and_its_pages_survive_a_restart(tmp_path: Path) -> None:
    local = ManualClock(START)
    with SampleWeb(clock=local, data_dir=tmp_path / "web") as server:
        server.start_schedule(interval=60, seed=3)
        local.advance(minutes=10)
        first = server.changes()
        served = {a.key for a in server.articles()}
    with SampleWeb(clock=local, data_dir=tmp_path / "web") as again:
        assert again.changes() == first and {a.key for a in again.articles()} == served
        local.advance(minutes=1)
        assert sum(len(v) for v in again.changes().values()) == 11


def test_the_control_api_publishes_changes_removes_and_schedules(web: SampleWeb, clock: ManualClock) -> None:
    with SampleWebClient(web.base_url) as client:
        published = client.publish("stdlib")
        assert _get(web, published["url"].removeprefix(web.base_url)).status_code == 200
        assert client.change("language/for", append="One more sentence.")["revision"] == 2
        client.remove("language/assert")
        client.start_schedule(interval=30, seed=1)
        clock.advance(minutes=1)
        changes = client.changes()
        assert sum(len(v) for v in changes.values()) == 5
        assert client.state()["changes"] == changes
        with pytest.raises(ConfigError):
            client.remove("language/no-such-page")


def test_a_stopped_schedule_applies_what_was_due_and_nothing_after(web: SampleWeb, clock: ManualClock) -> None:
    with SampleWebClient(web.base_url) as client:
        client.start_schedule(interval=30, seed=1)
        clock.advance(minutes=2)
        client.stop_schedule()
        stopped = client.changes()
        assert sum(len(v) for v in stopped.values()) == 4
        clock.advance(hours=1)
        assert client.changes() == stopped and client.state()["schedule"] is None


def test_a_scheduled_removal_takes_back_a_page_the_schedule_published_shortly_before(clock: ManualClock) -> None:
    with SampleWeb(clock=clock) as server:
        server.start_schedule(interval=60, seed=7)
        clock.advance(hours=2)  # 120 events
        changes = server.changes()
    published = {e["key"]: datetime.fromisoformat(e["at"]) for e in changes["published"]}
    # From the 16th event on, the schedule has published pages old enough to retract (when one falls in the window;
    # else it removes any page of the changing areas).
    removed = [e for e in changes["removed"] if datetime.fromisoformat(e["at"]) >= START + timedelta(minutes=16)]
    retracted = [e for e in removed if e["key"] in published]
    assert len(retracted) >= len(removed) / 2 > 0, removed
    for e in retracted:
        age = datetime.fromisoformat(e["at"]) - published[e["key"]]
        assert timedelta(minutes=6) <= age <= timedelta(minutes=15), (e, age)
    removed_at = {e["key"]: datetime.fromisoformat(e["at"]) for e in changes["removed"]}
    assert not [e for e in changes["published"]  # a retracted page is never published again
                if e["key"] in removed_at and datetime.fromisoformat(e["at"]) > removed_at[e["key"]]]
