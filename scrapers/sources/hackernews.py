"""Hacker News Firebase API: a story list, then each item; text posts become records, links point to articles."""

from __future__ import annotations

import re
from dataclasses import dataclass

from schemas import Record, canonical_url
from scrapers import reasons
from scrapers.params import HackerNewsParams
from scrapers.sources.base import (
    Headers,
    ParseContext,
    ParseError,
    from_timestamp,
    load_json,
    make_record,
    require,
)
from scrapers.sources.htmltext import html_to_text
from scrapers.sources.web import PageHints

STORY_TYPES = frozenset({"story", "poll"})


@dataclass(frozen=True)
class Story:
    """One HN story: its text-post record (if any), the article it links to (if any), what HN says about it."""

    id: int
    record: Record | None
    link: str | None
    hints: PageHints
    score: int
    skipped: str | None = None


def list_url(params: HackerNewsParams) -> str:
    return f"{params.base_url.rstrip('/')}/{params.stories}.json"


def item_url(params: HackerNewsParams, item_id: int) -> str:
    return f"{params.base_url.rstrip('/')}/item/{item_id}.json"


def item_uri(params: HackerNewsParams, item_id: int) -> str:
    """The human URL of a text post (the record's URI)."""
    return canonical_url(params.item_url.format(id=item_id))


def item_id_from_uri(params: HackerNewsParams, uri: str) -> int | None:
    """The item id a text-post URI names, None if `uri` is not one."""
    marker = 987654321
    pattern = re.escape(item_uri(params, marker)).replace(str(marker), r"(\d+)")
    found = re.fullmatch(pattern, canonical_url(uri))
    return int(found.group(1)) if found else None


def parse_id_list(body: bytes, headers: Headers) -> list[int]:
    """Story ids of a list answer (`topstories.json`), in rank order."""
    ids = require(load_json(body, headers), list, "story list")
    return [i for i in ids if isinstance(i, int) and not isinstance(i, bool) and i > 0]


def parse_item(ctx: ParseContext, url: str, body: bytes, headers: Headers) -> Story:
    """A story item; ParseError(not_found / deleted) for null, deleted or dead items."""
    params = ctx.params
    assert isinstance(params, HackerNewsParams)
    data = load_json(body, headers)
    if data is None:
        raise ParseError(reasons.NOT_FOUND, "null item")
    data = require(data, dict, "item")
    if data.get("deleted") or data.get("dead"):
        raise ParseError(reasons.DELETED, f"item {data.get('id')}")
    item_id = data.get("id")
    if not isinstance(item_id, int) or data.get("type") not in STORY_TYPES:
        raise ParseError(reasons.UNEXPECTED_SHAPE, f"not a story: {str(data.get('type'))[:20]}")
    title = str(data.get("title") or "")
    published = from_timestamp(data.get("time"))
    author = str(data.get("by") or "")[:200]
    score = data.get("score") if isinstance(data.get("score"), int) else 0
    hints = PageHints(title=title, published_at=published, author=author)
    link = data.get("url") if isinstance(data.get("url"), str) and data.get("url") else None
    record, skipped = None, None
    if params.text_posts and data.get("text"):
        try:
            record = make_record(
                ctx, uri=item_uri(params, item_id), text=html_to_text(str(data["text"])), title=title,
                published_at=published, meta={"author": author, "score": score, "hn_id": item_id},
            )
        except ParseError as exc:
            skipped = exc.reason
    return Story(id=item_id, record=record, link=link, hints=hints, score=score, skipped=skipped)
