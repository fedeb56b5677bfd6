"""The /_control/ routes of the living sample web: publish, change and remove pages, run the schedule, read the
clock and what changed — so a test or `glean local up` in another process drives it as in-process code does."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from glean.sampleweb.reply import Reply
from schemas.errors import ConfigError

if TYPE_CHECKING:
    from glean.sampleweb.server import SampleWeb


class LivingControl:
    """Answers POST publish|change|remove|schedule and GET changes|clock; None for every other route."""

    def __init__(self, web: SampleWeb) -> None:
        self.web = web

    def handle(self, method: str, name: str, body: dict[str, Any]) -> Reply | None:
        web = self.web
        if method == "GET" and name == "changes":
            return Reply.json(web.changes())
        if method == "GET" and name == "clock":
            return Reply.json({"now": web.clock.now().isoformat()})
        if method != "POST":
            return None
        if name == "publish":
            article = web.publish(str(body.get("area", "")), title=body.get("title"), text=body.get("text"))
            return Reply.json({"key": article.key, "url": web.article_url(article.key),
                               "published_at": article.published_at.isoformat() if article.published_at else None})
        if name == "change":
            article = web.change(str(body.get("key", "")), text=body.get("text"), append=body.get("append"))
            return Reply.json({"key": article.key, "revision": article.revision, "url": web.article_url(article.key)})
        if name == "remove":
            web.remove(str(body.get("key", "")))
            return Reply.json({"removed": body.get("key")})
        if name == "schedule":
            return self._schedule(body)
        return None

    def _schedule(self, body: dict[str, Any]) -> Reply:
        if body.get("stop") is True:
            self.web.stop_schedule()
            return Reply.json({"schedule": None})
        interval = body.get("interval")
        if not isinstance(interval, int | float) or isinstance(interval, bool):
            raise ConfigError("`interval` must be a number of seconds",
                              hint='e.g. {"interval": 1.5, "seed": 0}, or {"stop": true} to stop it')
        start = datetime.fromisoformat(body["start"]) if body.get("start") else None
        self.web.start_schedule(interval=float(interval), seed=int(body.get("seed", 0)), start=start)
        return Reply.json({"schedule": self.web.state.schedule.to_dict() if self.web.state.schedule else None})
