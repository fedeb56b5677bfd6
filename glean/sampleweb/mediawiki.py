"""A MediaWiki Action API (`/w/api.php`) over the language and stdlib articles, shaped like Wikipedia's.

Supported, in both `formatversion=1` (the default) and `formatversion=2`:
- `action=query` with `list=categorymembers|search|allpages|recentchanges` or the same as `generator=`, `titles=` or
  `pageids=`, and `prop=extracts|info|revisions|categories` (TextExtracts rules: one whole-page extract
  per request, more only with `exintro`; `explaintext`, `exsectionformat`, `exchars`, `exsentences`);
  `meta=siteinfo` (general); `continue` objects to echo back, as MediaWiki documents;
- `action=parse` (`page`, `pageid`; `prop=text|revid|displaytitle|categories|wikitext`);
- errors as `{"error": {"code", "info", "*"}}` with HTTP 200 and a `MediaWiki-API-Error` header.
Article pages live at `/wiki/<Title>`; `/w/index.php?title=<Title>&action=raw` gives the wikitext.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import quote

from glean.sampleweb.constants import (
    WIKI_CATEGORY,
    WIKI_DEFAULT_LIMIT,
    WIKI_EXTRACTS_INTRO_LIMIT,
    WIKI_EXTRACTS_WHOLE_PAGE_LIMIT,
    WIKI_MAX_LIMIT,
    WIKI_MAX_TITLES,
)
from glean.sampleweb.corpus import Article, Block
from glean.sampleweb.reply import Reply
from glean.sampleweb.site import body_html
from glean.sampleweb.state import Snapshot

SITENAME = "PythonDocsWiki"
GENERATOR = "MediaWiki 1.43.0"
_USAGE = "See {base}/w/api.php for API usage."
_SECTION_MARKUP = {"h2": "==", "h3": "==="}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


class ApiError(Exception):
    """An API error MediaWiki would report as {"error": {"code": ..., "info": ...}}."""

    def __init__(self, code: str, info: str) -> None:
        super().__init__(info)
        self.code = code
        self.info = info


# --- titles, urls, timestamps --------------------------------------------------------------------------

def wiki_title(article: Article) -> str:
    return article.title[:1].upper() + article.title[1:]


def wiki_url(article: Article, base_url: str) -> str:
    return f"{base_url}/wiki/{quote(wiki_title(article).replace(' ', '_'), safe=':/()')}"


def normalize_title(raw: str) -> str:
    title = " ".join(raw.replace("_", " ").split())
    return title[:1].upper() + title[1:]


def _ts(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


def revid(article: Article) -> int:
    return article.page_id * 100 + article.revision


def wiki_articles(snap: Snapshot) -> list[Article]:
    """Articles that are pages of the wiki: the areas that have a category."""
    return [a for a in snap.articles.values() if a.area in WIKI_CATEGORY]


# --- text forms -----------------------------------------------------------------------------------------

def wikitext(article: Article) -> str:
    """The article as wikitext, with its category link at the end."""
    parts = []
    for block in article.blocks:
        if block.kind in _SECTION_MARKUP:
            mark = _SECTION_MARKUP[block.kind]
            parts.append(f"{mark} {block.text} {mark}")
        elif block.kind == "pre":
            parts.append(f'<syntaxhighlight lang="python">\n{block.text}\n</syntaxhighlight>')
        elif block.items:
            bullet = "*" if block.kind == "ul" else "#"
            parts.append("\n".join(f"{bullet} {item}" for item in block.items))
        else:
            parts.append(block.text)
    parts.append(f"[[{WIKI_CATEGORY[article.area]}]]")
    return "\n\n".join(parts)


def plain_extract(blocks: tuple[Block, ...], section_format: str) -> str:
    """TextExtracts' plain text: one paragraph per line, headings set off by blank lines."""
    out: list[str] = []
    for block in blocks:
        if block.kind in _SECTION_MARKUP:
            mark = _SECTION_MARKUP[block.kind]
            heading = f"{mark} {block.text} {mark}" if section_format == "wiki" else block.text
            out.append(f"\n\n{heading}")
        else:
            out.append(block.plain())
    return "\n".join(out).strip()


def html_extract(blocks: tuple[Block, ...]) -> str:
    return body_html(blocks)


def _intro(blocks: tuple[Block, ...]) -> tuple[Block, ...]:
    cut = next((i for i, b in enumerate(blocks) if b.kind in _SECTION_MARKUP), len(blocks))
    return blocks[:cut]


def _limit_text(text: str, chars: int | None, sentences: int | None) -> str:
    if sentences:
        text = " ".join(_SENTENCE_END.split(text.replace("\n", " "))[:sentences])
    if chars and len(text) > chars:
        cut = text.find(" ", chars)
        text = (text if cut < 0 else text[:cut]) + "…"
    return text


# --- parameters -----------------------------------------------------------------------------------------

class Params:
    """Request parameters with MediaWiki's rules: booleans are true when present, lists split on '|'."""

    def __init__(self, raw: Mapping[str, str]) -> None:
        self.raw = raw

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.raw.get(name, default)

    def flag(self, name: str) -> bool:
        return name in self.raw

    def values(self, name: str) -> list[str]:
        value = self.raw.get(name, "")
        return [v for v in value.split("|") if v] if value else []

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise ApiError("badinteger", f'Invalid value "{value}" for integer parameter "{name}".') from None

    def limit(self, name: str) -> int:
        value = self.raw.get(name)
        if value == "max":
            return WIKI_MAX_LIMIT
        number = self.integer(name, WIKI_DEFAULT_LIMIT) or WIKI_DEFAULT_LIMIT
        return max(1, min(number, WIKI_MAX_LIMIT))


# --- query modules --------------------------------------------------------------------------------------

def _category_members(snap: Snapshot, title: str | None) -> list[Article]:
    if title is None:
        raise ApiError("missingparam", 'One of the parameters "cmtitle" and "cmpageid" is required.')
    wanted = normalize_title(title)
    if not wanted.startswith("Category:"):
        raise ApiError("invalidcategory", "The category name you entered is not valid.")
    areas = [area for area, category in WIKI_CATEGORY.items() if category == wanted]
    members = [a for a in wiki_articles(snap) if a.area in areas]
    return sorted(members, key=lambda a: wiki_title(a))


def _search(snap: Snapshot, query: str | None) -> list[Article]:
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


def _page_list(snap: Snapshot, module: str, p: Params, prefix: str) -> list[Article]:
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
        return _search(snap, p.get(f"{prefix}srsearch"))
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


_LIST_CODES = {"categorymembers": "cm", "search": "sr", "allpages": "ap", "recentchanges": "rc"}


def _rc_timestamp(moment: datetime | None) -> str:
    return moment.strftime("%Y%m%d%H%M%S") if moment else ""


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
                           "timestamp": _ts(article.published_at), "_article": article})
        if "edit" in types and article.revision > 1:
            events.append({"type": "edit", "ns": 0, "title": wiki_title(article), "pageid": article.page_id,
                           "revid": revid(article), "old_revid": revid(article) - 1, "rcid": revid(article),
                           "timestamp": _ts(article.modified_at), "_article": article})
    events.sort(key=lambda e: (e["timestamp"], e["rcid"]), reverse=p.get(f"{prefix}rcdir") != "newer")
    start, end = p.get(f"{prefix}rcstart"), p.get(f"{prefix}rcend")
    newest_first = p.get(f"{prefix}rcdir") != "newer"
    if start:
        events = [e for e in events if (e["timestamp"] <= start if newest_first else e["timestamp"] >= start)]
    if end:
        events = [e for e in events if (e["timestamp"] >= end if newest_first else e["timestamp"] <= end)]
    return events


def _rc_window(events: list[dict[str, Any]], p: Params) -> tuple[list[dict[str, Any]], dict[str, Any]]:
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


def _window(pages: list[Article], module: str, p: Params, prefix: str) -> tuple[list[Article], dict[str, Any]]:
    """One page of a list module's results, and the continuation for the next page."""
    code = prefix + _LIST_CODES[module]
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


_SEARCH_PROPS = ("size", "wordcount", "timestamp", "snippet")  # srprop's default


def _list_item(article: Article, module: str, p: Params) -> dict[str, Any]:
    item: dict[str, Any] = {"ns": 0, "title": wiki_title(article), "pageid": article.page_id}
    if module == "search":
        text = article.plain_text()
        wanted = set(p.values("srprop")) if p.get("srprop") is not None else set(_SEARCH_PROPS)
        found = {"size": len(text.encode()), "wordcount": article.words, "timestamp": _ts(article.modified_at),
                 "snippet": escape(text[:150])}
        item.update({k: v for k, v in found.items() if k in wanted})
    return item


def _prop_fields(article: Article, p: Params, base_url: str, *, with_extract: bool) -> dict[str, Any]:
    props = set(p.values("prop"))
    fields: dict[str, Any] = {}
    if "extracts" in props and with_extract:
        blocks = _intro(article.blocks) if p.flag("exintro") else article.blocks
        if p.flag("explaintext"):
            text = plain_extract(blocks, p.get("exsectionformat") or "wiki")
        else:
            text = html_extract(blocks)
        fields["extract"] = _limit_text(text, p.integer("exchars"), p.integer("exsentences"))
    if "info" in props:
        fields.update({"contentmodel": "wikitext", "pagelanguage": "en", "pagelanguagehtmlcode": "en",
                       "pagelanguagedir": "ltr", "touched": _ts(article.modified_at), "lastrevid": revid(article),
                       "length": len(wikitext(article).encode())})
        if "url" in p.values("inprop"):
            url = wiki_url(article, base_url)
            fields.update({"fullurl": url, "editurl": f"{base_url}/w/index.php?title="
                           f"{quote(wiki_title(article).replace(' ', '_'))}&action=edit", "canonicalurl": url})
    if "revisions" in props:
        fields["revisions"] = [_revision(article, p)]
    if "categories" in props:
        fields["categories"] = [{"ns": 14, "title": WIKI_CATEGORY[article.area]}]
    return fields


def _revision(article: Article, p: Params) -> dict[str, Any]:
    wanted = set(p.values("rvprop") or ["ids", "timestamp", "flags", "comment", "user"])
    rev: dict[str, Any] = {}
    if "ids" in wanted:
        rev.update({"revid": revid(article), "parentid": revid(article) - 1 if article.revision > 1 else 0})
    if "user" in wanted:
        rev["user"] = "Python documentation authors"
    if "timestamp" in wanted:
        rev["timestamp"] = _ts(article.modified_at)
    if "comment" in wanted:
        rev["comment"] = "Imported from the Python documentation"
    if "content" in wanted:
        content = {"contentmodel": "wikitext", "contentformat": "text/x-wiki"}
        if p.get("rvslots"):
            rev["slots"] = {"main": {**content, "content": wikitext(article)}}
        else:
            rev.update({**content, "*" if not _fv2(p) else "content": wikitext(article)})
    return rev


def _fv2(p: Params) -> bool:
    return p.get("formatversion") in ("2", "latest")


def _resolve_titles(snap: Snapshot, p: Params) -> tuple[list[Article | dict[str, Any]], list[dict[str, str]]]:
    """Pages named by titles= or pageids= (missing ones as MediaWiki reports them), plus normalizations."""
    found: list[Article | dict[str, Any]] = []
    normalized: list[dict[str, str]] = []
    by_title = {wiki_title(a): a for a in wiki_articles(snap)}
    titles = p.values("titles")
    ids = p.values("pageids")
    if len(titles) + len(ids) > WIKI_MAX_TITLES:
        raise ApiError("toomanyvalues", f'Too many values supplied for parameter "titles". '
                       f"The limit is {WIKI_MAX_TITLES}.")
    for raw in titles:
        title = normalize_title(raw)
        if title != raw:
            normalized.append({"from": raw, "to": title})
        found.append(by_title.get(title) or {"ns": 0, "title": title, "missing": True})
    for raw in ids:
        article = snap.by_page_id(int(raw)) if raw.isdigit() else None
        found.append(article if article and article.area in WIKI_CATEGORY else {"pageid": int(raw) if raw.isdigit()
                     else 0, "missing": True})
    return found, normalized


def _pages_json(pages: list[Any], p: Params, base_url: str, excontinue: int) -> tuple[Any, dict[str, Any], list[str]]:
    """The query.pages value, the extracts continuation, and warnings."""
    props = set(p.values("prop"))
    warnings: list[str] = []
    extract_budget = len(pages)
    cont: dict[str, Any] = {}
    if "extracts" in props:
        cap = WIKI_EXTRACTS_INTRO_LIMIT if p.flag("exintro") else WIKI_EXTRACTS_WHOLE_PAGE_LIMIT
        requested = p.limit("exlimit") if p.get("exlimit") else WIKI_EXTRACTS_INTRO_LIMIT
        if not p.flag("exintro") and requested > cap and len(pages) > cap:
            warnings.append('"exlimit" was too large for a whole article extracts request, lowered to 1.')
        extract_budget = min(requested, cap)
    out: list[dict[str, Any]] = []
    given = 0
    for i, page in enumerate(pages):
        if isinstance(page, dict):
            out.append(_missing(page, _fv2(p)))
            continue
        entry = {"pageid": page.page_id, "ns": 0, "title": wiki_title(page)}
        with_extract = i >= excontinue and given < extract_budget
        entry.update(_prop_fields(page, p, base_url, with_extract=with_extract))
        if "extracts" in props and with_extract:
            given += 1
        out.append(entry)
    if "extracts" in props and excontinue + given < sum(1 for x in pages if not isinstance(x, dict)):
        cont = {"excontinue": excontinue + given}
    if _fv2(p):
        return out, cont, warnings
    return _keyed_by_id(out), cont, warnings


def _keyed_by_id(pages: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """formatversion=1 keys pages by id; missing titles have no id and get -1, -2, ... in order."""
    keyed: dict[str, dict[str, Any]] = {}
    missing = 0
    for entry in pages:
        if "title" in entry and "missing" in entry:
            missing += 1
            keyed[str(-missing)] = entry
        else:
            keyed[str(entry["pageid"])] = entry
    return keyed


def _missing(page: dict[str, Any], fv2: bool) -> dict[str, Any]:
    return dict(page) if fv2 else {k: ("" if v is True else v) for k, v in page.items()}


def _query(p: Params, snap: Snapshot, base_url: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    query: dict[str, Any] = {}
    cont: dict[str, Any] = {}
    warnings: dict[str, list[str]] = {}
    if "siteinfo" in p.values("meta"):
        query["general"] = {"mainpage": "Main Page", "base": f"{base_url}/wiki/Main_Page", "sitename": SITENAME,
                            "generator": GENERATOR, "lang": "en", "articlepath": "/wiki/$1",
                            "scriptpath": "/w", "server": base_url, "servername": base_url.split("//", 1)[-1]}
    for module in p.values("list"):
        if module not in _LIST_CODES:
            raise ApiError("badvalue", f'Unrecognized value for parameter "list": {module}.')
        if module == "recentchanges":
            events, more = _rc_window(recent_changes(snap, p, ""), p)
            query[module] = [{k: v for k, v in e.items() if not k.startswith("_")} for e in events]
            cont.update(more)
            continue
        members, more = _window(_page_list(snap, module, p, ""), module, p, "")
        query[module] = [_list_item(a, module, p) for a in members]
        if module == "search":
            query["searchinfo"] = {"totalhits": len(_search(snap, p.get("srsearch")))}
        cont.update(more)
    pages: list[Any] = []
    normalized: list[dict[str, str]] = []
    generator = p.get("generator")
    if generator:
        if generator not in _LIST_CODES:
            raise ApiError("badvalue", f'Unrecognized value for parameter "generator": {generator}.')
        chosen, more = _window(_page_list(snap, generator, p, "g"), generator, p, "g")
        pages.extend(chosen)
        cont.update(more)
    elif p.get("titles") or p.get("pageids"):
        resolved, normalized = _resolve_titles(snap, p)
        pages.extend(resolved)
    if pages:
        pages_json, ex_cont, ex_warnings = _pages_json(pages, p, base_url, p.integer("excontinue", 0) or 0)
        query["pages"] = pages_json
        if ex_cont:  # props continue first: the generator is re-run on the same batch (MediaWiki's rule)
            cont = {**ex_cont, **{k: v for k, v in p.raw.items() if k.startswith("g") and k.endswith("continue")},
                    "continue": "||"}
        if ex_warnings:
            warnings["extracts"] = ex_warnings
    if normalized:
        query["normalized"] = normalized
    if cont:
        result["continue"] = cont
    else:
        result["batchcomplete"] = True if _fv2(p) else ""
    if warnings:
        result["warnings"] = {k: ({"warnings": "\n".join(v)} if _fv2(p) else {"*": "\n".join(v)})
                              for k, v in warnings.items()}
    if query:
        result["query"] = query
    return result


def _parse(p: Params, snap: Snapshot, base_url: str) -> dict[str, Any]:
    article: Article | None = None
    if p.get("pageid"):
        pid = p.integer("pageid")
        article = snap.by_page_id(pid) if pid is not None else None
        if article is None or article.area not in WIKI_CATEGORY:
            raise ApiError("nosuchpageid", f"There is no page with ID {p.get('pageid')}.")
    elif p.get("page"):
        title = normalize_title(p.get("page") or "")
        article = next((a for a in wiki_articles(snap) if wiki_title(a) == title), None)
        if article is None:
            raise ApiError("missingtitle", "The page you specified doesn't exist.")
    else:
        raise ApiError("invalidparammix", 'The "page" or "pageid" parameter must be set (text= is not supported).')
    props = set(p.values("prop") or ["text", "revid", "displaytitle", "categories"])
    fv2 = _fv2(p)
    out: dict[str, Any] = {"title": wiki_title(article), "pageid": article.page_id}

    def wrap(value: str) -> Any:
        return value if fv2 else {"*": value}

    if "revid" in props:
        out["revid"] = revid(article)
    if "text" in props:
        out["text"] = wrap(f'<div class="mw-content-ltr mw-parser-output" lang="en" dir="ltr">'
                           f"{_parser_html(article)}</div>")
    if "displaytitle" in props:
        out["displaytitle"] = escape(wiki_title(article))
    if "categories" in props:
        name = WIKI_CATEGORY[article.area].split(":", 1)[1].replace(" ", "_")
        out["categories"] = [{"sortkey": "", "category" if fv2 else "*": name}]
    if "wikitext" in props:
        out["wikitext"] = wrap(wikitext(article))
    return {"parse": out}


def _parser_html(article: Article) -> str:
    parts = []
    for block in article.blocks:
        if block.kind in _SECTION_MARKUP:
            anchor = escape(block.text.replace(" ", "_"), quote=True)
            level = block.kind[1]
            parts.append(f'<div class="mw-heading mw-heading{level}"><h{level} id="{anchor}">'
                         f"{escape(block.text)}</h{level}></div>")
        else:
            parts.append(body_html((block,)))
    return "\n".join(parts)


_ACTIONS: dict[str, Callable[[Params, Snapshot, str], dict[str, Any]]] = {"query": _query, "parse": _parse}


def api(raw: Mapping[str, str], snap: Snapshot, base_url: str) -> Reply:
    """Answer one api.php request (JSON only, as `format=json`)."""
    p = Params(raw)
    action = p.get("action")
    try:
        if p.get("format", "json") not in ("json", "jsonfm"):
            raise ApiError("badvalue", f'Unrecognized value for parameter "format": {p.get("format")}.')
        if action not in _ACTIONS:
            raise ApiError("badvalue", f'Unrecognized value for parameter "action": {action}.')
        return Reply.json(_ACTIONS[action](p, snap, base_url))
    except ApiError as exc:
        body = {"error": {"code": exc.code, "info": exc.info, "*": _USAGE.format(base=base_url)},
                "servedby": "sampleweb"}
        if _fv2(p):
            body["error"] = {"code": exc.code, "info": exc.info, "docref": _USAGE.format(base=base_url)}
        return Reply.json(body, **{"MediaWiki-API-Error": exc.code})


def article_html(article: Article, base_url: str) -> Reply:
    """The /wiki/<Title> page, in the layout of a MediaWiki skin."""
    title = escape(wiki_title(article))
    category = WIKI_CATEGORY[article.area]
    page = ("<!DOCTYPE html>\n<html class=\"client-nojs\" lang=\"en\" dir=\"ltr\">\n<head>\n<meta charset=\"UTF-8\">\n"
            f"<title>{title} - {SITENAME}</title>\n"
            f'<link rel="canonical" href="{escape(wiki_url(article, base_url))}">'
            "\n</head>\n<body class=\"mediawiki skin-vector\">\n"
            '<div id="mw-navigation"><nav id="p-navigation"><ul><li><a href="/wiki/Main_Page">Main page</a></li>'
            '<li><a href="/wiki/Special:Random">Random article</a></li></ul></nav></div>\n'
            f'<main id="content" class="mw-body"><h1 id="firstHeading" class="firstHeading">{title}</h1>\n'
            f'<div id="bodyContent"><div id="siteSub">From {SITENAME}</div>\n'
            f'<div id="mw-content-text" class="mw-body-content"><div class="mw-content-ltr mw-parser-output" '
            f'lang="en" dir="ltr">\n{_parser_html(article)}\n</div></div>\n'
            f'<div id="catlinks" class="catlinks"><a href="/wiki/{quote(category.replace(" ", "_"))}">'
            f"{escape(category)}</a></div></div></main>\n"
            f'<footer id="footer"><ul><li id="footer-info-lastmod">This page was last edited on '
            f"{article.modified_at:%d %B %Y}.</li><li>Text from the Python documentation, PSF License.</li></ul>"
            "</footer>\n</body>\n</html>\n")
    return Reply.html(page)


def find_by_path_title(snap: Snapshot, path_title: str) -> Article | None:
    """The article a /wiki/<Title> path names (underscores and spaces are the same)."""
    title = normalize_title(path_title)
    return next((a for a in wiki_articles(snap) if wiki_title(a) == title), None)
