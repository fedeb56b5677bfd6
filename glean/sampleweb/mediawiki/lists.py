"""api.php's list modules (categorymembers, search, allpages, recentchanges): their members and their paging."""

from __future__ import annotations

import re
from html import escape
from typing import Any

from glean.sampleweb.constants import WIKI_CATEGORY
from glean.sampleweb.corpus import Article
from glean.sampleweb.mediawiki.pages import normalize_title, revid, timestamp, wiki_articles, wiki_title
from glean.sampleweb.mediawiki.params import ApiError, Params
from glean.sampleweb.state import Snapshot

LIST_CODES = {"categorymembers": "cm", "search": "sr", "allpages": "ap", "recentchanges": "rc"}
_SEARCH_PROPS = ("size", "wordcount", "timestamp", "snippet")  # srprop's default


def _category_members(snap: Snapshot, title: str | None) -> list[Article]:
    if title is None:
        raise ApiError("missingparam", 'One of the parameters "cmtitle" and "cmpageid" is required.')
    wanted = normalize_title(title)
    if not wanted.startswith("Category:"):
        raise ApiError("invalidcategory", "The category name you entered is not valid.")
    areas = [area for area, category in WIKI_CATEGORY.items() if category == wanted]
    members = [a for a in wiki_articles(snap) if a.area in areas]
    return sorted(members, key=lambda a: wiki_title(a))


def search(snap: Snapshot, query: str | None) -> list[Article]:
    """Articles containing every word of the query, most hits (title words count ten) first."""
    if not query:
        raise ApiError("missingparam", 'The "srsearch" parameter must be set.')
    words = [w.lower() for w in re.findall(r"\w+", query)]
    scored = []
    for article in wiki_articles(snap):
        haystack = (article.title + " " + article.plain_text()).lower()
        if all(w in haystack for w in words):
            hits = sum(haystack.count(w) for w in words) + 10 * sum(w in article.title.lower() for w in words)
            scored.append((-hits, article.page_id, article))
    return [a for _, _, a in sorted(scored, key=lambda t: t[:2])]


def page_list(snap: Snapshot, module: str, p: Params, prefix: str) -> list[Article]:
    """The ordered members of a list module (the same for list= and generator=, whose params get a 'g')."""
    if module == "categorymembers":
        if p.get(f"{prefix}cmnamespace") not in (None, "0", "*") and "0" not in p.values(f"{prefix}cmnamespace"):
            return []
        if "page" not in p.values(f"{prefix}cmtype") and p.get(f"{prefix}cmtype") is not None:
            return []
        members = _category_members(snap, p.get(f"{prefix}cmtitle"))
        if p.get(f"{prefix}cmdir") in ("desc", "descending"):
            members.reverse()
        return members
    if module == "search":
        return search(snap, p.get(f"{prefix}srsearch"))
    if module == "recentchanges":
        seen: dict[str, Article] = {}
        for event in recent_changes(snap, p, prefix):
            seen.setdefault(event["_article"].key, event["_article"])
        return list(seen.values())
    if module == "allpages":
        start = normalize_title(p.get(f"{prefix}apfrom") or "")
        prefix_filter = normalize_title(p.get(f"{prefix}apprefix") or "")
        pages = sorted(wiki_articles(snap), key=wiki_title)
        return [a for a in pages if wiki_title(a) >= start and wiki_title(a).startswith(prefix_filter)]
    raise ApiError("badvalue", f'Unrecognized value for parameter "{"generator" if prefix else "list"}": {module}.')


def recent_changes(snap: Snapshot, p: Params, prefix: str) -> list[dict[str, Any]]:
    """Creation and latest-edit events of the wiki pages, newest first (rcdir=newer: oldest first)."""
    types = set(p.values(f"{prefix}rctype") or ["edit", "new"])
    namespaces = p.values(f"{prefix}rcnamespace")
    if namespaces and "0" not in namespaces and "*" not in namespaces:
        return []
    events = []
    for article in wiki_articles(snap):
        created = article.page_id * 100 + 1
        if "new" in types and not (p.flag(f"{prefix}rctoponly") and article.revision > 1):
            events.append({"type": "new", "ns": 0, "title": wiki_title(article), "pageid": article.page_id,
                           "revid": created, "old_revid": 0, "rcid": created,
                           "timestamp": timestamp(article.published_at), "_article": article})
        if "edit" in types and article.revision > 1:
            events.append({"type": "edit", "ns": 0, "title": wiki_title(article), "pageid": article.page_id,
                           "revid": revid(article), "old_revid": revid(article) - 1, "rcid": revid(article),
                           "timestamp": timestamp(article.modified_at), "_article": article})
    events.sort(key=lambda e: (e["timestamp"], e["rcid"]), reverse=p.get(f"{prefix}rcdir") != "newer")
    start, end = p.get(f"{prefix}rcstart"), p.get(f"{prefix}rcend")
    newest_first = p.get(f"{prefix}rcdir") != "newer"
    if start:
        events = [e for e in events if (e["timestamp"] <= start if newest_first else e["timestamp"] >= start)]
    if end:
        events = [e for e in events if (e["timestamp"] >= end if newest_first else e["timestamp"] <= end)]
    return events


def rc_window(events: list[dict[str, Any]], p: Params) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One page of recent-change events and the rccontinue token for the next."""
    limit = p.limit("rclimit")
    start = 0
    token = p.get("rccontinue")
    if token:
        rcid = token.rsplit("|", 1)[-1]
        start = next((i for i, e in enumerate(events) if str(e["rcid"]) == rcid), len(events))
    chosen = events[start:start + limit]
    if start + limit >= len(events):
        return chosen, {}
    following = events[start + limit]
    stamp = following["timestamp"].replace("-", "").replace(":", "").replace("T", "").rstrip("Z")
    return chosen, {"rccontinue": f"{stamp}|{following['rcid']}", "continue": "-||"}


def window(pages: list[Article], module: str, p: Params, prefix: str) -> tuple[list[Article], dict[str, Any]]:
    """One page of a list module's results, and the continuation for the next page."""
    code = prefix + LIST_CODES[module]
    limit = p.limit(f"{code}limit")
    start = 0
    token = p.get(f"{code}continue") if module != "search" else None
    if module == "search":
        start = p.integer(f"{prefix}sroffset", 0) or 0
    elif module == "allpages" and p.get(f"{code}continue"):
        after = normalize_title(p.get(f"{code}continue") or "")
        start = next((i for i, a in enumerate(pages) if wiki_title(a) >= after), len(pages))
    elif token:
        page_id = token.rsplit("|", 1)[-1]
        start = next((i for i, a in enumerate(pages) if str(a.page_id) == page_id), len(pages))
    chosen = pages[start:start + limit]
    if start + limit >= len(pages):
        return chosen, {}
    following = pages[start + limit]
    if module == "search":
        value: Any = start + limit
        key = f"{prefix}sroffset"
    elif module == "allpages":
        value, key = wiki_title(following), f"{code}continue"
    else:
        value = f"page|{wiki_title(following).upper().encode().hex()}|{following.page_id}"
        key = f"{code}continue"
    return chosen, {key: value, "continue": f"{key}||" if prefix else "-||"}


def list_item(article: Article, module: str, p: Params) -> dict[str, Any]:
    """One list module result entry (search adds srprop's fields)."""
    item: dict[str, Any] = {"ns": 0, "title": wiki_title(article), "pageid": article.page_id}
    if module == "search":
        text = article.plain_text()
        wanted = set(p.values("srprop")) if p.get("srprop") is not None else set(_SEARCH_PROPS)
        found = {"size": len(text.encode()), "wordcount": article.words, "timestamp": timestamp(article.modified_at),
                 "snippet": escape(text[:150])}
        item.update({k: v for k, v in found.items() if k in wanted})
    return item
