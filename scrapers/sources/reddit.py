"""Reddit public JSON listings: self posts of subreddits; `by_id` answers have the same Listing shape."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode, urljoin

from scrapers import reasons
from scrapers.params import RedditParams
from scrapers.sources.base import (
    Headers,
    ParseContext,
    Parsed,
    ParseError,
    from_timestamp,
    load_json,
    make_record,
    require,
)

PAGE_SIZE = 100  # the most a listing returns per request
REMOVED = frozenset({"[removed]", "[deleted]"})
_POST_ID = re.compile(r"/comments/([a-z0-9]{1,12})(?:/|$)")


def listing_url(params: RedditParams, subreddit: str, after: str | None = None, count: int = 0) -> str:
    query: dict[str, Any] = {"limit": max(1, min(PAGE_SIZE, params.limit - count)), "raw_json": 1}
    if params.listing == "top":
        query["t"] = params.time
    if after:
        query.update(after=after, count=count)
    return f"{params.base_url.rstrip('/')}/r/{subreddit}/{params.listing}.json?{urlencode(query)}"


def post_url(params: RedditParams, post_id: str) -> str:
    """The API request for one post (a Listing with that post as its only child)."""
    return f"{params.base_url.rstrip('/')}/by_id/t3_{post_id}.json?raw_json=1"


def post_id_from_uri(uri: str) -> str | None:
    found = _POST_ID.search(uri)
    return found.group(1) if found else None


def _post_record(ctx: ParseContext, post: dict[str, Any]):
    params = ctx.params
    assert isinstance(params, RedditParams)
    text = str(post.get("selftext") or "")
    if not post.get("is_self") or not text.strip():
        return None                                  # link posts: the link is another site's page
    if text.strip() in REMOVED or post.get("removed_by_category"):
        raise ParseError(reasons.DELETED, str(post.get("id")))
    if post.get("over_18") and not params.include_nsfw:
        return None
    score = post.get("score") if isinstance(post.get("score"), int) else 0
    if score < params.min_score:
        return None
    permalink = str(post.get("permalink") or "")
    if not permalink.startswith("/r/"):
        raise ParseError(reasons.UNEXPECTED_SHAPE, "post without permalink")
    return make_record(
        ctx, uri=urljoin(params.base_url, permalink), text=text, title=str(post.get("title") or ""),
        published_at=from_timestamp(post.get("created_utc")), labels=[f"r/{post.get('subreddit', '')}"],
        meta={"author": str(post.get("author") or "")[:100], "score": score,
              "num_comments": post.get("num_comments"), "reddit_id": post.get("id")},
    )


def parse_listing(ctx: ParseContext, url: str, body: bytes, headers: Headers) -> tuple[Parsed, str | None, int]:
    """(records of the self posts, the `after` cursor of the next page or None, number of posts seen)."""
    data = require(load_json(body, headers), dict, "listing")
    if data.get("kind") != "Listing":
        raise ParseError(reasons.UNEXPECTED_SHAPE, f"kind {str(data.get('kind'))[:20]}")
    listing = require(data.get("data"), dict, "listing data")
    children = require(listing.get("children", []), list, "children")
    records, skipped = [], []
    for child in children:
        if not isinstance(child, dict) or child.get("kind") != "t3" or not isinstance(child.get("data"), dict):
            continue
        try:
            record = _post_record(ctx, child["data"])
        except ParseError as exc:
            skipped.append(exc.reason)
            continue
        if record is not None:
            records.append(record)
    after = listing.get("after") if isinstance(listing.get("after"), str) else None
    return Parsed(records=tuple(records), skipped=tuple(skipped)), after, len(children)
