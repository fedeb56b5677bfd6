"""The sample web's HTTP server: a threaded http.server on 127.0.0.1 that routes to the renderers.

Runs in-process (`with SampleWeb() as web: ...`, a daemon thread) or as its own process
(`python -m glean.sampleweb --port N --data-dir D`). Besides the content it serves a small control
API under /_control/ (edit or delete pages, install fault rules, read hit counts), which robots.txt
disallows and fault rules never touch.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from glean.sampleweb import feeds, mediawiki, site
from glean.sampleweb.clock import Clock
from glean.sampleweb.constants import (
    AREA_LANGUAGE,
    AREA_STDLIB,
    PUBLIC_AREAS,
    SHUTDOWN_POLL_SECONDS,
    SITE_FEED_ITEMS,
)
from glean.sampleweb.corpus import Article
from glean.sampleweb.faults import Fault
from glean.sampleweb.handler import CONTROL_PREFIX, handler_class
from glean.sampleweb.living import LivingControl
from glean.sampleweb.reply import Reply
from glean.sampleweb.schedule import Schedule
from glean.sampleweb.stackexchange import StackExchangeApi, qa_articles, question_page
from glean.sampleweb.state import SiteState, Snapshot
from schemas.errors import ConfigError, GleanError

log = logging.getLogger(__name__)

API_PREFIX = "/api/2.3"
_ARTICLE = re.compile(r"^/site/([a-z]+)/([a-z0-9-]+)\.html$")
_AREA_FILE = re.compile(r"^/site/([a-z]+)/(|index\.html|feed\.xml|atom\.xml|sitemap\.xml)$")
_QUESTION = re.compile(r"^/questions/(\d+)(?:/[a-z0-9-]*)?$")
_FEED_TITLES = {AREA_LANGUAGE: "Python language reference", AREA_STDLIB: "Python standard library",
                "digest": "Python digest", "notes": "Python module notes", "builtins": "Python built-ins"}


class SampleWeb:
    """The offline sample web. `start()`/`stop()` (or `with`) run it in a thread; `serve_forever()` blocks."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, data_dir: Path | None = None,
                 anchor: datetime | None = None, clock: Clock | None = None) -> None:
        self.state = SiteState(anchor=anchor, data_dir=data_dir, clock=clock)
        self.clock = self.state.clock  # every date served reads it (glean/sampleweb/clock.py)
        self.hits: Counter[str] = Counter()  # requests per path (control calls excluded)
        self.user_agents: Counter[str] = Counter()
        self._hits_lock = threading.Lock()
        self._stackexchange = StackExchangeApi()
        self._server = ThreadingHTTPServer((host, port), handler_class(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- addresses -----------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        host = self._server.server_address[0]
        return f"http://{host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def article_url(self, key: str) -> str:
        """The /site/ URL of an article, e.g. article_url("language/for")."""
        area, _, slug = key.partition("/")
        return self.url(f"/site/{area}/{slug}.html")

    def articles(self, area: str | None = None) -> list[Article]:
        """The articles served now (after edits), optionally of one area."""
        snap = self.state.snapshot()
        return list(snap.articles.values()) if area is None else snap.in_area(area)

    # --- run-time changes (the same as the /_control/ API) -------------------------------------------

    def edit(self, key: str, *, text: str | None = None, append: str | None = None) -> Article:
        return self.state.edit(key, text=text, append=append)

    def delete(self, key: str) -> None:
        self.state.delete(key)

    def publish(self, area: str, *, title: str | None = None, text: str | None = None) -> Article:
        """Publish a new article now: the next page of the area's reserve, or the given title and text."""
        return self.state.publish_article(area, title=title, text=text)

    def change(self, key: str, *, text: str | None = None, append: str | None = None) -> Article:
        """Change an article now (the same as `edit`)."""
        return self.state.edit(key, text=text, append=append)

    def remove(self, key: str) -> None:
        """Remove an article now: its pages answer 404 (as `delete`), the feeds, sitemaps and APIs drop it."""
        self.state.delete(key)

    def start_schedule(self, *, interval: float, seed: int = 0, start: datetime | None = None) -> None:
        """Publish, change and remove pages on the clock, one event every `interval` seconds from `start` (now)."""
        self.state.start_schedule(Schedule(start=start or self.clock.now(), interval=interval, seed=seed))

    def stop_schedule(self) -> None:
        """Stop the schedule: events due by now are applied, later ones never are."""
        self.state.stop_schedule()

    def changes(self) -> dict[str, list[dict[str, str]]]:
        """Pages published, changed and removed so far ({"published": [{"key", "at", "by"}], ...})."""
        self.state.run_schedule()
        return self.state.changes()

    def publish_wiki_page(self, title: str, text: str, namespace: int) -> str:
        """Publish a page on the wiki as any of its users could (`User:Name/Page` in namespace 2, `Draft:Page` in
        118); it is served by title and id with that `ns`, never listed. Returns its /wiki/ URL."""
        article = self.state.publish_wiki_page(mediawiki.normalize_title(title), text, namespace)
        return mediawiki.wiki_url(article, self.base_url)

    def add_fault(self, **fields: Any) -> Fault:
        """Install a fault rule, e.g. add_fault(status=503, user_agent="glean-validator", path_prefix="/site/")."""
        return self.state.add_fault(Fault.from_dict(fields))

    def clear_faults(self, fault_id: int | None = None) -> None:
        self.state.clear_faults(fault_id)

    def reset(self) -> None:
        self.state.reset()

    # --- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> SampleWeb:
        self._thread = threading.Thread(target=self._server.serve_forever, args=(SHUTDOWN_POLL_SECONDS,),
                                        name="sampleweb", daemon=True)
        self._thread.start()
        log.info("sample web serving base_url=%s articles=%d", self.base_url, len(self.articles()))
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever(SHUTDOWN_POLL_SECONDS)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SampleWeb:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # --- request handling ----------------------------------------------------------------------------

    def count(self, path: str, user_agent: str) -> None:
        with self._hits_lock:
            self.hits[path] += 1
            self.user_agents[user_agent] += 1

    def route(self, path: str, params: Mapping[str, str]) -> Reply:
        """The content answer for a GET of `path` with query `params`."""
        snap = self.state.snapshot()
        base = self.base_url
        exact: dict[str, Callable[[], Reply]] = {
            "/": lambda: site.home(snap), "/site/": lambda: site.home(snap),
            "/site/index.html": lambda: site.home(snap), "/site/about.html": site.about,
            "/robots.txt": lambda: site.robots(base), "/sitemap.xml": lambda: site.sitemap(snap, base),
            "/feed.xml": lambda: self._site_feed(snap, "rss"), "/atom.xml": lambda: self._site_feed(snap, "atom"),
            "/w/api.php": lambda: mediawiki.api(params, snap, base),
            "/w/index.php": lambda: self._wiki_index(snap, params),
        }
        if path in exact:
            return exact[path]()
        if path.startswith(API_PREFIX + "/"):
            return self._stackexchange.handle(path[len(API_PREFIX):], params, snap, base)
        if path.startswith("/wiki/"):
            article = mediawiki.find_by_path_title(snap, unquote(path[len("/wiki/"):]))
            if article is None:
                return Reply.not_found("wiki page")
            if params.get("action") == "history":
                return mediawiki.history_html(article, base)
            return mediawiki.article_html(article, base)
        if m := _QUESTION.match(path):
            found = next((a for a in qa_articles(snap) if a.page_id == int(m.group(1))), None)
            return question_page(found, base) if found else Reply.not_found("question")
        if m := _ARTICLE.match(path):
            article = snap.articles.get(f"{m.group(1)}/{m.group(2)}")
            return site.article_page(article, snap, base) if article else Reply.not_found("article")
        if (m := _AREA_FILE.match(path)) and m.group(1) in PUBLIC_AREAS:
            return self._area_file(snap, m.group(1), m.group(2))
        return Reply.not_found()

    def _area_file(self, snap: Snapshot, area: str, name: str) -> Reply:
        if name in ("", "index.html"):
            return site.area_index(area, snap)
        if name == "sitemap.xml":
            return site.sitemap(snap, self.base_url, (area,))
        articles = snap.newest((area,))
        return self._feed(articles, "rss" if name == "feed.xml" else "atom", title=_FEED_TITLES[area],
                          home=f"/site/{area}/", path=f"/site/{area}/{name}")

    def _site_feed(self, snap: Snapshot, kind: str) -> Reply:
        articles = snap.newest((AREA_LANGUAGE, AREA_STDLIB))[:SITE_FEED_ITEMS]
        return self._feed(articles, kind, title="Python documentation: new pages", home="/site/",
                          path="/feed.xml" if kind == "rss" else "/atom.xml")

    def _feed(self, articles: list[Article], kind: str, *, title: str, home: str, path: str) -> Reply:
        render = feeds.rss if kind == "rss" else feeds.atom
        return render(articles, title=title, description=f"{title}: pages of the glean sample web",
                      home_url=self.url(home), feed_url=self.url(path), base_url=self.base_url,
                      built=self.state.anchor)

    def _wiki_index(self, snap: Snapshot, params: Mapping[str, str]) -> Reply:
        article = mediawiki.find_by_path_title(snap, params.get("title", ""))
        if article is None:
            return Reply.not_found("wiki page")
        if params.get("action") == "raw":
            return Reply(200, mediawiki.wikitext(article).encode("utf-8"), "text/x-wiki; charset=UTF-8")
        if params.get("action") == "history":
            return mediawiki.history_html(article, self.base_url)
        return mediawiki.article_html(article, self.base_url)

    def control(self, method: str, path: str, body: dict[str, Any]) -> Reply:
        """The /_control/ API: JSON in, JSON out; errors are 400 with the message and its hint."""
        name = path[len(CONTROL_PREFIX):].strip("/")
        try:
            if (living := LivingControl(self).handle(method, name, body)) is not None:
                return living
            if method == "GET" and name == "state":
                return Reply.json(self.state.describe())
            if method == "GET" and name == "hits":
                with self._hits_lock:
                    return Reply.json({"paths": dict(self.hits), "user_agents": dict(self.user_agents)})
            if method == "POST" and name == "edit":
                article = self.edit(str(body.get("key", "")), text=body.get("text"), append=body.get("append"))
                return Reply.json({"key": article.key, "revision": article.revision,
                                   "url": self.article_url(article.key)})
            if method == "POST" and name == "delete":
                self.delete(str(body.get("key", "")))
                return Reply.json({"deleted": body.get("key")})
            if method == "POST" and name == "wiki":
                namespace = body.get("namespace")
                if type(namespace) is not int:
                    raise ConfigError("`namespace` must be an integer", hint="e.g. 2 for User:, 118 for Draft:")
                url = self.publish_wiki_page(str(body.get("title", "")), str(body.get("text", "")), namespace)
                return Reply.json({"url": url})
            if method == "POST" and name == "faults":
                return Reply.json(self.state.add_fault(Fault.from_dict(body)).to_dict())
            if method == "DELETE" and (name == "faults" or name.startswith("faults/")):
                suffix = name.partition("/")[2]
                self.clear_faults(int(suffix) if suffix.isdigit() else None)
                return Reply.json({"faults": [f.to_dict() for f in self.state.faults()]})
            if method == "POST" and name == "reset":
                self.reset()
                return Reply.json({"reset": True})
        except GleanError as exc:
            return Reply.json({"error": exc.message, "hint": exc.hint}, status=400)
        return Reply.json({"error": f"no control route {method} {path}",
                           "hint": "see docs/sampleweb.md for the control API"}, status=404)

