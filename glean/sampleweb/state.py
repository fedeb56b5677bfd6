"""The sample web's run-time state: the current articles (with edits and deletions) and the fault rules.

Readers take a snapshot (an immutable mapping swapped on every change), so serving never waits on
a writer. With a data directory, the anchor time, edits and faults are saved to `state.json` and
replayed on the next start, so a restarted server serves the same web.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from glean.sampleweb.builtin_types import builtin_articles
from glean.sampleweb.clock import Clock, WallClock
from glean.sampleweb.constants import (
    AREA_LANGUAGE,
    AREA_STDLIB,
    AREA_USER_PAGES,
    PAGE_ID_BASE,
    PUBLISHED_ID_OFFSET,
    USER_PAGE_ID_BASE,
    WIKI_ARTICLE_NAMESPACE,
    WIKI_NAMESPACES,
)
from glean.sampleweb.corpus import Article, Block, articles_by_area, dated, parse_text, slugify, source_articles
from glean.sampleweb.faults import Fault
from glean.sampleweb.lowquality import digest_articles, private_articles
from glean.sampleweb.reserve import reserve_articles
from glean.sampleweb.schedule import Schedule, event_entry
from schemas.errors import ConfigError
from schemas.record import utcnow

STATE_FILE = "state.json"


def build_articles(anchor: datetime) -> list[Article]:
    """Every article of the sample web, dated relative to `anchor`, in a stable order."""
    sources = list(source_articles())
    grouped = articles_by_area(sources)
    extra = digest_articles(sources) + private_articles(grouped[AREA_LANGUAGE])
    return dated(sources + extra + list(builtin_articles()), anchor)


def hour_floor(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Snapshot:
    """A consistent view of the articles for one request."""

    articles: Mapping[str, Article]  # by key, in the stable order
    version: int
    # wiki pages users published, by title
    user_pages: Mapping[str, Article] = field(default_factory=lambda: MappingProxyType({}))

    def in_area(self, area: str) -> list[Article]:
        return [a for a in self.articles.values() if a.area == area]

    def by_page_id(self, page_id: int) -> Article | None:
        return next((a for a in self.articles.values() if a.page_id == page_id), None)

    def newest(self, areas: tuple[str, ...] = (AREA_LANGUAGE, AREA_STDLIB)) -> list[Article]:
        """Articles of `areas`, newest publication first (ties by key, so the order is stable)."""
        chosen = [a for a in self.articles.values() if a.area in areas]
        return sorted(chosen, key=lambda a: (-(a.published_at or datetime.min.replace(tzinfo=UTC)).timestamp(),
                                             a.key))


class SiteState:
    """Articles, edits and fault rules of one sample web, safe to use from the server's threads."""

    def __init__(self, *, anchor: datetime | None = None, data_dir: Path | None = None,
                 clock: Clock | None = None) -> None:
        self._lock = threading.Lock()
        self._schedule_lock = threading.Lock()  # one thread applies due events; readers never wait on it for long
        self._path = Path(data_dir) / STATE_FILE if data_dir is not None else None
        self.clock: Clock = clock or WallClock()
        saved = self._read_saved()
        self.anchor = hour_floor(anchor or _parse_time(saved.get("anchor")) or self.clock.now())
        self.schedule = Schedule.from_dict(saved.get("schedule"))
        self._schedule_next = int(saved.get("schedule_next", 0))
        self._original = {a.key: a for a in build_articles(self.anchor)}
        self._articles: Mapping[str, Article] = MappingProxyType(dict(self._original))
        self._user_pages: Mapping[str, Article] = MappingProxyType({})
        self._log: list[dict[str, Any]] = []
        self._faults: list[Fault] = []
        self._next_fault_id = 1
        self.version = 0
        for entry in saved.get("edits", []):
            self._apply(entry)
        for rule in saved.get("faults", []):
            self.add_fault(Fault.from_dict(rule), save=False)
        self._save()

    # --- reading -------------------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        self.run_schedule()
        with self._lock:
            return Snapshot(self._articles, self.version, self._user_pages)

    def faults(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def describe(self) -> dict[str, Any]:
        """What a control client sees: counts per area, the edits and the fault rules."""
        snap = self.snapshot()
        areas: dict[str, int] = {}
        for article in snap.articles.values():
            areas[article.area] = areas.get(article.area, 0) + 1
        with self._lock:
            described = {"anchor": self.anchor.isoformat(), "version": self.version, "areas": areas,
                         "edits": list(self._log), "faults": [f.to_dict() for f in self._faults]}
        return {**described, "now": self.clock.now().isoformat(), "changes": self.changes(),
                "schedule": self.schedule.to_dict() if self.schedule else None}

    # --- changing pages ------------------------------------------------------------------------------

    def edit(self, key: str, *, text: str | None = None, append: str | None = None) -> Article:
        """Replace an article's text (paragraphs separated by blank lines) and/or append a paragraph."""
        if text is None and append is None:
            raise ConfigError("an edit needs `text` or `append`", hint="give the new text or a paragraph to add")
        entry = {"op": "edit", "key": key, "text": text, "append": append, "at": self._now_iso()}
        article = self._apply(entry)
        self._save()
        return article

    def delete(self, key: str) -> None:
        """Remove an article: every representation of it answers 404 from now on."""
        self._apply({"op": "delete", "key": key, "at": self._now_iso()})
        self._save()

    def publish_wiki_page(self, title: str, text: str, namespace: int) -> Article:
        """A page a wiki user wrote (anyone may create a `User:` or `Draft:` page): served by the wiki's API and
        /wiki/<Title> with its namespace, never listed in a category or on the site."""
        self._check_publish(title, namespace)
        article = self._apply({"op": "publish", "key": title, "text": text, "namespace": namespace,
                               "at": self._now_iso()})
        self._save()
        return article

    def _check_publish(self, title: str, namespace: int) -> None:
        prefix, sep, rest = title.partition(":")
        named = WIKI_NAMESPACES.get(" ".join(prefix.replace("_", " ").split()).casefold()) if sep else None
        if namespace == WIKI_ARTICLE_NAMESPACE or namespace not in WIKI_NAMESPACES.values():
            raise ConfigError(f"cannot publish {title!r} in namespace {namespace}",
                              hint=f"publish in a user-writable namespace ({sorted(set(WIKI_NAMESPACES.values()))}); "
                                   "articles come from the corpus: edit one with edit()")
        if named != namespace or not rest.strip():
            raise ConfigError(f"title {title!r} is not a page of namespace {namespace}",
                              hint="write the namespace's prefix and a page name, e.g. 'User:Name/Page' for 2")

    def reset(self) -> None:
        """Undo every edit, deletion and published page and clear the fault rules."""
        with self._lock:
            self._articles = MappingProxyType(dict(self._original))
            self._user_pages = MappingProxyType({})
            self._log.clear()
            self._faults.clear()
            self.version += 1
        self._save()

    def _apply(self, entry: Mapping[str, Any]) -> Article:
        if entry["op"] == "publish":
            return self._apply_publish(entry)
        if entry["op"] == "article":
            return self._apply_article(entry)
        key = entry["key"]
        with self._lock:
            current = dict(self._articles)
            if key not in current:
                raise ConfigError(f"no article {key!r}", hint="keys look like 'language/for' or 'stdlib/json'")
            article = current[key]
            if entry["op"] == "delete":
                del current[key]
            else:
                blocks = parse_text(entry["text"]) if entry.get("text") is not None else list(article.blocks)
                if entry.get("append"):
                    blocks.append(Block("p", " ".join(entry["append"].split())))
                article = article.with_blocks(blocks, _parse_time(entry["at"]) or utcnow())
                current[key] = article
            self._articles = MappingProxyType(current)
            self._log.append(dict(entry))
            self.version += 1
        return article

    def _apply_publish(self, entry: Mapping[str, Any]) -> Article:
        title, at = entry["key"], _parse_time(entry["at"]) or utcnow()
        with self._lock:
            pages = dict(self._user_pages)
            if title in pages:
                article = pages[title].with_blocks(parse_text(entry["text"]), at)
            else:
                article = Article(key=f"{AREA_USER_PAGES}/{title}", area=AREA_USER_PAGES, slug=title, title=title,
                                  blocks=tuple(parse_text(entry["text"])), page_id=USER_PAGE_ID_BASE + len(pages),
                                  origin="published by a wiki user", published_at=at, modified_at=at,
                                  namespace=int(entry["namespace"]))
            pages[title] = article
            self._user_pages = MappingProxyType(pages)
            self._log.append(dict(entry))
            self.version += 1
        return article

    # --- new pages and the schedule (glean/sampleweb/schedule.py) -------------------------------------

    def _now_iso(self) -> str:
        return _iso(self.clock.now())

    def publish_article(self, area: str, *, title: str | None = None, text: str | None = None) -> Article:
        """Publish a new article in `area` now: the given title and text, or else the next page of the reserve."""
        if text is None:
            entry = self._next_reserve_entry(area)
        else:
            if not title:
                raise ConfigError("a new article with `text` needs a `title`", hint="give both, or neither to "
                                  "publish the next page of the reserve")
            entry = {"op": "article", "key": f"{area}/{slugify(title)}", "title": title, "text": text}
        article = self._apply({**entry, "at": self._now_iso()})
        self._save()
        return article

    def _next_reserve_entry(self, area: str) -> dict[str, Any]:
        with self._lock:
            served = self._articles
        waiting = [a for a in reserve_articles() if a.area == area and a.key not in served]
        if not waiting:
            raise ConfigError(f"no reserve page left for area {area!r}",
                              hint="pass `title` and `text` to publish a page of your own")
        return {"op": "article", "key": waiting[0].key}

    def _apply_article(self, entry: Mapping[str, Any]) -> Article:
        at = _parse_time(entry["at"]) or self.clock.now()
        key = entry["key"]
        with self._lock:
            current = dict(self._articles)
            if key in current:
                raise ConfigError(f"article {key!r} exists already", hint="edit it, or publish another title")
            article = self._new_article(entry, len(current))
            current[key] = replace(article, published_at=at, modified_at=at)
            self._articles = MappingProxyType(current)
            self._log.append(dict(entry))
            self.version += 1
            return current[key]

    def _new_article(self, entry: Mapping[str, Any], served: int) -> Article:
        key = entry["key"]
        if entry.get("text") is None:
            found = next((a for a in reserve_articles() if a.key == key), None)
            if found is None:
                raise ConfigError(f"no reserve page {key!r}", hint="see glean/sampleweb/reserve.py")
            return found
        area, _, slug = key.partition("/")
        if area not in PAGE_ID_BASE:
            raise ConfigError(f"no area {area!r}", hint=f"publish in one of {sorted(PAGE_ID_BASE)}")
        return Article(key=key, area=area, slug=slug, title=str(entry["title"]),
                       blocks=tuple(parse_text(entry["text"])),
                       page_id=PAGE_ID_BASE[area] + PUBLISHED_ID_OFFSET + served, origin="published at run time")

    def start_schedule(self, schedule: Schedule) -> None:
        """Turn the schedule on (events from `schedule.start` on); a restarted server keeps its saved one."""
        with self._schedule_lock:
            if self.schedule is None:
                self.schedule, self._schedule_next = schedule, 0
        self._save()

    def stop_schedule(self) -> int:
        """Apply what is due, then turn the schedule off (nothing changes on the clock any more); events applied."""
        applied = self.run_schedule()
        with self._schedule_lock:
            self.schedule = None
        self._save()
        return applied

    def run_schedule(self) -> int:
        """Apply every scheduled event that is due on the clock; how many were applied."""
        if self.schedule is None or self.schedule.due(self._schedule_next) > self.clock.now():
            return 0
        applied = 0
        with self._schedule_lock:
            while self.schedule.due(self._schedule_next) <= self.clock.now():
                with self._lock:
                    served = self._articles
                    removed = {e["key"] for e in self._log if e["op"] == "delete"}
                entry = event_entry(self.schedule, self._schedule_next, served, reserve_articles(), removed)
                self._schedule_next += 1
                if entry is not None:
                    self._apply(entry)
                    applied += 1
        if applied:
            self._save()
        return applied

    def changes(self) -> dict[str, list[dict[str, str]]]:
        """Pages published, changed and removed at run time (by a caller or the schedule), with their times."""
        names = {"article": "published", "edit": "changed", "delete": "removed"}
        out: dict[str, list[dict[str, str]]] = {name: [] for name in names.values()}
        with self._lock:
            for entry in self._log:
                if entry["op"] in names:
                    out[names[entry["op"]]].append({"key": entry["key"], "at": entry["at"],
                                                    "by": entry.get("by", "control")})
        return out

    # --- fault rules ---------------------------------------------------------------------------------

    def add_fault(self, fault: Fault, *, save: bool = True) -> Fault:
        """Install a rule (it gets a fresh id) and return it."""
        with self._lock:
            rule = Fault(**{**fault.to_dict(), "id": self._next_fault_id})
            self._next_fault_id += 1
            self._faults.append(rule)
        if save:
            self._save()
        return rule

    def clear_faults(self, fault_id: int | None = None) -> None:
        """Remove one rule, or all of them."""
        with self._lock:
            self._faults = [f for f in self._faults if fault_id is not None and f.id != fault_id]
        self._save()

    def match_fault(self, path: str, headers: Mapping[str, str]) -> Fault | None:
        """The first rule matching this request; counts it against the rule's `times`."""
        with self._lock:
            for i, rule in enumerate(self._faults):
                if not rule.matches(path, headers):
                    continue
                if rule.times is not None:
                    if rule.times <= 1:
                        del self._faults[i]
                    else:
                        self._faults[i] = Fault(**{**rule.to_dict(), "times": rule.times - 1})
                return rule
        return None

    # --- persistence ---------------------------------------------------------------------------------

    def _read_saved(self) -> dict[str, Any]:
        if self._path is None or not self._path.is_file():
            return {}
        try:
            return json.loads(self._path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read {self._path}: {exc}",
                              hint="delete the file to start the sample web afresh") from exc

    def _save(self) -> None:
        if self._path is None:
            return
        with self._lock:
            data = {"anchor": self.anchor.isoformat(), "edits": list(self._log),
                    "faults": [f.to_dict() for f in self._faults],
                    "schedule": self.schedule.to_dict() if self.schedule else None,
                    "schedule_next": self._schedule_next}
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        tmp.replace(self._path)


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
