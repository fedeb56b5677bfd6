"""api.php itself: `action=query` (lists, a generator or titles, then props) and `action=parse`, JSON only."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from html import escape
from typing import Any

from glean.sampleweb.corpus import Article
from glean.sampleweb.mediawiki.lists import LIST_CODES, list_item, page_list, rc_window, recent_changes, search, window
from glean.sampleweb.mediawiki.pages import (
    GENERATOR,
    SITENAME,
    category_of,
    normalize_title,
    parser_html,
    revid,
    wiki_pages,
    wiki_title,
    wikitext,
)
from glean.sampleweb.mediawiki.params import ApiError, Params, fv2
from glean.sampleweb.mediawiki.props import pages_json, resolve_titles
from glean.sampleweb.reply import Reply
from glean.sampleweb.state import Snapshot

_USAGE = "See {base}/w/api.php for API usage."


def _siteinfo(base_url: str) -> dict[str, Any]:
    return {"mainpage": "Main Page", "base": f"{base_url}/wiki/Main_Page", "sitename": SITENAME,
            "generator": GENERATOR, "lang": "en", "articlepath": "/wiki/$1",
            "scriptpath": "/w", "server": base_url, "servername": base_url.split("//", 1)[-1]}


def _lists(p: Params, snap: Snapshot, query: dict[str, Any], cont: dict[str, Any]) -> None:
    """Every `list=` module's page of results into `query`, their continuations into `cont`."""
    for module in p.values("list"):
        if module not in LIST_CODES:
            raise ApiError("badvalue", f'Unrecognized value for parameter "list": {module}.')
        if module == "recentchanges":
            events, more = rc_window(recent_changes(snap, p, ""), p)
            query[module] = [{k: v for k, v in e.items() if not k.startswith("_")} for e in events]
            cont.update(more)
            continue
        members, more = window(page_list(snap, module, p, ""), module, p, "")
        query[module] = [list_item(a, module, p) for a in members]
        if module == "search":
            query["searchinfo"] = {"totalhits": len(search(snap, p.get("srsearch")))}
        cont.update(more)


def _batch(p: Params, snap: Snapshot, cont: dict[str, Any]) -> tuple[list[Any], list[dict[str, str]]]:
    """The pages the props run over (from the generator or from titles=/pageids=), and title normalizations."""
    generator = p.get("generator")
    if generator:
        if generator not in LIST_CODES:
            raise ApiError("badvalue", f'Unrecognized value for parameter "generator": {generator}.')
        chosen, more = window(page_list(snap, generator, p, "g"), generator, p, "g")
        cont.update(more)
        return list(chosen), []
    if p.get("titles") or p.get("pageids"):
        resolved, normalized = resolve_titles(snap, p)
        return list(resolved), normalized
    return [], []


def _query(p: Params, snap: Snapshot, base_url: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    query: dict[str, Any] = {}
    cont: dict[str, Any] = {}
    warnings: dict[str, list[str]] = {}
    if "siteinfo" in p.values("meta"):
        query["general"] = _siteinfo(base_url)
    _lists(p, snap, query, cont)
    pages, normalized = _batch(p, snap, cont)
    if pages:
        query["pages"], ex_cont, ex_warnings = pages_json(pages, p, base_url, p.integer("excontinue", 0) or 0)
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
        result["batchcomplete"] = True if fv2(p) else ""
    if warnings:
        result["warnings"] = {k: ({"warnings": "\n".join(v)} if fv2(p) else {"*": "\n".join(v)})
                              for k, v in warnings.items()}
    if query:
        result["query"] = query
    return result


def _parse_target(p: Params, snap: Snapshot) -> Article:
    """The article `page=` or `pageid=` names."""
    if p.get("pageid"):
        pid = p.integer("pageid")
        article = next((a for a in wiki_pages(snap) if a.page_id == pid), None)
        if article is None:
            raise ApiError("nosuchpageid", f"There is no page with ID {p.get('pageid')}.")
        return article
    if p.get("page"):
        title = normalize_title(p.get("page") or "")
        article = next((a for a in wiki_pages(snap) if wiki_title(a) == title), None)
        if article is None:
            raise ApiError("missingtitle", "The page you specified doesn't exist.")
        return article
    raise ApiError("invalidparammix", 'The "page" or "pageid" parameter must be set (text= is not supported).')


def _parse(p: Params, snap: Snapshot, base_url: str) -> dict[str, Any]:
    article = _parse_target(p, snap)
    props = set(p.values("prop") or ["text", "revid", "displaytitle", "categories"])
    is_fv2 = fv2(p)
    out: dict[str, Any] = {"title": wiki_title(article), "pageid": article.page_id}

    def wrap(value: str) -> Any:
        return value if is_fv2 else {"*": value}

    if "revid" in props:
        out["revid"] = revid(article)
    if "text" in props:
        out["text"] = wrap(f'<div class="mw-content-ltr mw-parser-output" lang="en" dir="ltr">'
                           f"{parser_html(article)}</div>")
    if "displaytitle" in props:
        out["displaytitle"] = escape(wiki_title(article))
    if "categories" in props:
        category = category_of(article)
        names = [category.split(":", 1)[1].replace(" ", "_")] if category else []
        out["categories"] = [{"sortkey": "", "category" if is_fv2 else "*": name} for name in names]
    if "wikitext" in props:
        out["wikitext"] = wrap(wikitext(article))
    return {"parse": out}


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
        if fv2(p):
            body["error"] = {"code": exc.code, "info": exc.info, "docref": _USAGE.format(base=base_url)}
        return Reply.json(body, **{"MediaWiki-API-Error": exc.code})
