"""The sample web's schedule: on its clock it publishes new pages from the reserve, edits some pages and removes a
few, like a real news or Q&A site. Off unless asked for (tests and `SampleWeb()` serve a static web).

The schedule is a pure function of (seed, event index, the articles served now): the same seed gives the same
events in the same order on every run, so tests can predict them and a restarted server continues where it was.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from glean.sampleweb.constants import AREA_LANGUAGE, AREA_STDLIB
from glean.sampleweb.corpus import Article
from schemas.errors import ConfigError

PUBLISH, EDIT, REMOVE = "publish", "edit", "remove"
# Shares of the events: mostly new pages (what keeps a network of miners busy), some edits, a few removals.
EVENT_WEIGHTS = {PUBLISH: 0.75, EDIT: 0.18, REMOVE: 0.07}
# Pages the schedule edits or removes: the two areas every demo miner crawls (the digest is bad on purpose).
CHANGING_AREAS = (AREA_LANGUAGE, AREA_STDLIB)
# A removal takes back a page the schedule published this many events ago (a news site retracting a fresh article:
# crawled by then, perhaps not yet checked), else any page of the changing areas.
RETRACT_AGE_EVENTS = (6, 15)
# The shortest time between events: below this a test's clock step would publish the whole reserve at once.
MIN_INTERVAL_SECONDS = 0.1


@dataclass(frozen=True)
class Schedule:
    """Event i happens at `start + (i + 1) * interval` seconds of the sample web's clock."""

    start: datetime
    interval: float  # seconds of sample-web time between two events
    seed: int = 0

    def __post_init__(self) -> None:
        if self.interval < MIN_INTERVAL_SECONDS:
            raise ConfigError(f"schedule interval {self.interval} s is too short",
                              hint=f"use at least {MIN_INTERVAL_SECONDS} s between events")

    def due(self, index: int) -> datetime:
        return self.start + timedelta(seconds=self.interval * (index + 1))

    def kind(self, index: int) -> str:
        rng = random.Random(f"{self.seed}:{index}")
        return rng.choices(list(EVENT_WEIGHTS), weights=list(EVENT_WEIGHTS.values()))[0]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "start": self.start.isoformat()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Schedule | None:
        if not data:
            return None
        return cls(start=datetime.fromisoformat(str(data["start"])), interval=float(data["interval"]),
                   seed=int(data.get("seed", 0)))


def event_entry(schedule: Schedule, index: int, articles: Mapping[str, Article],
                reserve: Sequence[Article], removed: Collection[str] = ()) -> dict[str, Any] | None:
    """The change-log entry of event `index` (as SiteState applies it), or None when nothing is left to change.
    `removed`: keys removed so far (a retracted page is never published again)."""
    at = schedule.due(index).replace(microsecond=0).isoformat()
    kind = schedule.kind(index)
    unpublished = [a for a in reserve if a.key not in articles and a.key not in removed]
    if kind == PUBLISH and unpublished:
        return {"op": "article", "key": unpublished[0].key, "at": at, "by": "schedule"}
    candidates = sorted(k for k, a in articles.items() if a.area in CHANGING_AREAS)
    if not candidates:
        return None
    key = random.Random(f"{schedule.seed}:{index}:target").choice(candidates)
    if kind == REMOVE:
        key = _retracted(schedule, index, articles, reserve) or key
        return {"op": "delete", "key": key, "at": at, "by": "schedule"}
    return {"op": "edit", "key": key, "text": None, "append": revision_note(articles[key], at), "at": at,
            "by": "schedule"}


def _retracted(schedule: Schedule, index: int, articles: Mapping[str, Article],
                reserve: Sequence[Article]) -> str | None:
    """A page the schedule published RETRACT_AGE_EVENTS ago, if one is served (the oldest first)."""
    youngest, oldest = (schedule.due(index) - timedelta(seconds=n * schedule.interval) for n in RETRACT_AGE_EVENTS)
    held_back = {a.key for a in reserve}
    recent = sorted((a.published_at, a.key) for a in articles.values() if a.key in held_back
                    and a.published_at is not None and oldest <= a.published_at <= youngest)
    return recent[0][1] if recent else None


def revision_note(article: Article, at: str) -> str:
    """The paragraph an edit appends: what an editor's revision note on a documentation page says."""
    heading = next((b.text for b in article.blocks if b.kind in ("h2", "h3")), article.title)
    return (f"Revised {at[:16].replace('T', ' ')} UTC: the maintainers reviewed this page against the current "
            f"release, checked its examples and clarified the wording of the part about {heading}.")
