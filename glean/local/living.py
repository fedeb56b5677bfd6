"""What the living sample web did during a `glean local up --offline` run and how the network answered: pages
published, changed and removed (from the sample web's change log), the records from pages published in each epoch
that the first validator accepted, and the changed pages whose new version it accepted."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glean.local.network import LocalNetwork

STATE_FILE = "state.json"  # glean/sampleweb/state.py writes its change log there


def change_log(sampleweb_dir: Path) -> list[dict[str, Any]]:
    """The sample web's run-time changes (op "article" | "edit" | "delete", key, at), oldest first."""
    path = sampleweb_dir / STATE_FILE
    if not path.is_file():
        return []
    entries = json.loads(path.read_text(encoding="utf-8")).get("edits", [])
    return [e for e in entries if e.get("op") in ("article", "edit", "delete")]


def page_paths(key: str, page_id: int | None = None) -> tuple[str, ...]:
    """URI path endings of a page in the sample web's representations that the demo miners crawl: the site page and,
    given the article's page id, its Stack Exchange question (canonical URIs drop the question's slug). The wiki
    article is matched through the record's title (`_is_page`)."""
    area, _, slug = key.partition("/")
    return (f"/site/{area}/{slug}.html",) + ((f"/questions/{page_id}",) if page_id is not None else ())


def epoch_of(at: datetime, origin: datetime, epoch_seconds: float) -> int:
    """1-based epoch (of `epoch_seconds` from `origin`) a moment falls in; 0 before the origin."""
    if at < origin:
        return 0
    return int((at - origin) / timedelta(seconds=epoch_seconds)) + 1


def summarise(net: LocalNetwork, accepted: list[tuple[str, str, datetime]],
              unverified: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The sample web's part of the summary; `accepted` is (uri, title, fetched_at) of the accepted records,
    `unverified` the URIs of sampled records the validator found it could not check (gone, changed)."""
    log = change_log(net.layout.sampleweb)
    counts = Counter({"article": 0, "edit": 0, "delete": 0})
    counts.update(e["op"] for e in log)
    origin = getattr(net, "validators_started_at", None)
    epoch_seconds = net.options.tempo * net.options.block_time
    pages = _pages()
    per_epoch: Counter[int] = Counter()
    published: Counter[int] = Counter()
    for entry in (e for e in log if e["op"] == "article"):
        at = datetime.fromisoformat(entry["at"])
        epoch = epoch_of(at, origin, epoch_seconds) if origin else 0
        published[epoch] += 1
        per_epoch[epoch] += sum(1 for uri, title, _ in accepted if _is_page(entry["key"], pages, uri, title))
    reverified = {e["key"] for e in log if e["op"] == "edit" and any(
        _is_page(e["key"], pages, uri, title) and fetched >= datetime.fromisoformat(e["at"])
        for uri, title, fetched in accepted)}
    return {"published": counts["article"], "changed": counts["edit"], "removed": counts["delete"],
            "published_per_epoch": {str(k): published[k] for k in sorted(published)},
            "accepted_new_per_epoch": {str(k): per_epoch[k] for k in sorted(published)},
            "changed_reverified": len(reverified),
            "removed_unverified": sum(1 for e in log if e["op"] == "delete"
                                      and any(uri.endswith(page_paths(e["key"], pages.get(e["key"], ("", None))[1]))
                                              for uri in unverified))}


def _is_page(key: str, pages: dict[str, tuple[str, int]], uri: str, title: str) -> bool:
    """True when the accepted record (`uri`, `title`) is one of the page's representations. A page published from
    the reserve reaches the network as the site page, the Stack Exchange question and the wiki article; the
    validator keeps one of them (the others are duplicates), so each counts."""
    found = pages.get(key)
    if found is None:
        return uri.endswith(page_paths(key))
    return uri.endswith(page_paths(key, found[1])) or title.strip() == found[0]


def _pages() -> dict[str, tuple[str, int]]:
    """key -> (title, page id) of every article the sample web serves or holds back."""
    from glean.sampleweb.reserve import reserve_articles
    from glean.sampleweb.state import build_articles
    from schemas.record import utcnow

    return {a.key: (a.title, a.page_id) for a in (*reserve_articles(), *build_articles(utcnow()))}


def unverified_uris(net: LocalNetwork) -> frozenset[str]:
    """URIs of sampled records the first validator could not check, over every miner (their feedback's list)."""
    from validator.store import ValidatorStore, database_url

    store = ValidatorStore.open(database_url(net.role_config(net.plan.validators[0])))
    try:
        return frozenset(uri for m in store.miners().values() for uri in store.unverified_uris(m.uid, m.hotkey))
    finally:
        store.close()


def accepted_pages(net: LocalNetwork) -> list[tuple[str, str, datetime]]:
    """(uri, title, fetched_at) of every record the first validator accepted."""
    import sqlalchemy as sa

    from validator.store import ValidatorStore, database_url
    from validator.store.tables import AcceptedRow as Accepted

    store = ValidatorStore.open(database_url(net.role_config(net.plan.validators[0])))
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(sa.select(Accepted.uri, Accepted.title, Accepted.fetched_at)).all()
        return [(r.uri, r.title, r.fetched_at) for r in rows]
    finally:
        store.close()
