"""api.php's `prop=` modules over a batch of pages (extracts, info, revisions, contributors, categories) and
`titles=`/`pageids=`."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from glean.sampleweb.constants import (
    WIKI_EXTRACTS_INTRO_LIMIT,
    WIKI_EXTRACTS_WHOLE_PAGE_LIMIT,
    WIKI_MAX_TITLES,
)
from glean.sampleweb.corpus import Article
from glean.sampleweb.mediawiki.history import contributors, revisions
from glean.sampleweb.mediawiki.pages import (
    category_of,
    html_extract,
    intro,
    limit_text,
    namespace_of,
    normalize_title,
    plain_extract,
    revid,
    timestamp,
    wiki_pages,
    wiki_title,
    wiki_url,
    wikitext,
)
from glean.sampleweb.mediawiki.params import ApiError, Params, fv2
from glean.sampleweb.state import Snapshot


def resolve_titles(snap: Snapshot, p: Params) -> tuple[list[Article | dict[str, Any]], list[dict[str, str]]]:
    """Pages named by titles= or pageids= (missing ones as MediaWiki reports them), plus normalizations."""
    found: list[Article | dict[str, Any]] = []
    normalized: list[dict[str, str]] = []
    pages = wiki_pages(snap)
    by_title = {wiki_title(a): a for a in pages}
    by_id = {a.page_id: a for a in pages}
    titles = p.values("titles")
    ids = p.values("pageids")
    if len(titles) + len(ids) > WIKI_MAX_TITLES:
        raise ApiError("toomanyvalues", f'Too many values supplied for parameter "titles". '
                       f"The limit is {WIKI_MAX_TITLES}.")
    for raw in titles:
        title = normalize_title(raw)
        if title != raw:
            normalized.append({"from": raw, "to": title})
        found.append(by_title.get(title) or {"ns": namespace_of(title), "title": title, "missing": True})
    for raw in ids:
        article = by_id.get(int(raw)) if raw.isdigit() else None
        found.append(article or {"pageid": int(raw) if raw.isdigit() else 0, "missing": True})
    return found, normalized


def pages_json(pages: list[Any], p: Params, base_url: str, excontinue: int) -> tuple[Any, dict[str, Any], list[str]]:
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
            out.append(_missing(page, fv2(p)))
            continue
        entry = {"pageid": page.page_id, "ns": page.namespace, "title": wiki_title(page)}
        with_extract = i >= excontinue and given < extract_budget
        entry.update(_prop_fields(page, p, base_url, with_extract=with_extract))
        if "extracts" in props and with_extract:
            given += 1
        out.append(entry)
    if "extracts" in props and excontinue + given < sum(1 for x in pages if not isinstance(x, dict)):
        cont = {"excontinue": excontinue + given}
    if fv2(p):
        return out, cont, warnings
    return _keyed_by_id(out), cont, warnings


def _prop_fields(article: Article, p: Params, base_url: str, *, with_extract: bool) -> dict[str, Any]:
    props = set(p.values("prop"))
    fields: dict[str, Any] = {}
    if "extracts" in props and with_extract:
        blocks = intro(article.blocks) if p.flag("exintro") else article.blocks
        if p.flag("explaintext"):
            text = plain_extract(blocks, p.get("exsectionformat") or "wiki")
        else:
            text = html_extract(blocks)
        fields["extract"] = limit_text(text, p.integer("exchars"), p.integer("exsentences"))
    if "info" in props:
        fields.update({"contentmodel": "wikitext", "pagelanguage": "en", "pagelanguagehtmlcode": "en",
                       "pagelanguagedir": "ltr", "touched": timestamp(article.modified_at), "lastrevid": revid(article),
                       "length": len(wikitext(article).encode())})
        if "url" in p.values("inprop"):
            url = wiki_url(article, base_url)
            fields.update({"fullurl": url, "editurl": f"{base_url}/w/index.php?title="
                           f"{quote(wiki_title(article).replace(' ', '_'))}&action=edit", "canonicalurl": url})
    if "revisions" in props:
        # rvlimit: the newest revisions of the page's history (the wiki keeps the text of the current one only)
        limit = p.limit("rvlimit") if p.get("rvlimit") else 1
        fields["revisions"] = [_revision(article, rev, p) for rev in revisions(article)[:limit]]
    if "contributors" in props:
        fields["contributors"] = contributors(article)
    if "categories" in props:
        category = category_of(article)
        fields["categories"] = [{"ns": 14, "title": category}] if category else []
    return fields


def _revision(article: Article, entry: dict[str, Any], p: Params) -> dict[str, Any]:
    wanted = set(p.values("rvprop") or ["ids", "timestamp", "flags", "comment", "user"])
    rev: dict[str, Any] = {}
    if "ids" in wanted:
        rev.update({"revid": entry["revid"], "parentid": entry["parentid"]})
    if "user" in wanted:
        rev["user"] = entry["user"]
    if "userid" in wanted:
        rev["userid"] = entry["userid"]
    if "timestamp" in wanted:
        rev["timestamp"] = entry["timestamp"]
    if "comment" in wanted:
        rev["comment"] = entry["comment"]
    if "content" in wanted and entry["revid"] == revid(article):
        content = {"contentmodel": "wikitext", "contentformat": "text/x-wiki"}
        if p.get("rvslots"):
            rev["slots"] = {"main": {**content, "content": wikitext(article)}}
        else:
            rev.update({**content, "*" if not fv2(p) else "content": wikitext(article)})
    return rev


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
