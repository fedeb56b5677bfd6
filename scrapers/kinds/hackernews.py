"""The `hackernews` kind (Firebase API): a story list, then each item; text posts become records, linked articles
on the allow-list are read as web pages.

Anyone can post to HN, so a text post is a record only with at least `text_min_score` points (others voted for it);
the crawl skips the rest, and a re-fetch finding the live post below it is not a pass. Linked articles are covered
by the allow-list's host rules (exact hosts; `*.host` for subdomains; patterns for hosts serving user content).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from schemas import Record, canonical_url
from scrapers import reasons, settings
from scrapers.allow import AllowList, netloc_entry
from scrapers.extract import PageHints, parse_page
from scrapers.fetcher import Fetcher, FetchOutcome, Stop
from scrapers.htmltext import html_to_text
from scrapers.kinds.base import ACCESS_DENIED, Denial, SourceKind, SpiderSteps, fetch_page, response_headers
from scrapers.licence import LicenceDecision, metadata_only, page_rule
from scrapers.params import ApiParams, BaseParams, HostEntry, HttpUrl, Regex, Seconds
from scrapers.parsing import (
    Headers,
    ParseContext,
    ParseError,
    from_timestamp,
    load_json,
    make_record,
    require,
)

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response


STORY_TYPES = frozenset({"story", "poll"})


class HackerNewsParams(ApiParams):
    """The `params:` of a hackernews source (see docs/scrapers.md)."""

    base_url: HttpUrl = "https://hacker-news.firebaseio.com/v0"
    stories: Literal["topstories", "newstories", "beststories", "askstories", "showstories"] = Field(
        "topstories", alias="list")
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    text_posts: bool = True              # Ask HN / text posts become records
    follow_links: bool = True            # linked articles on allow_hosts become records
    allow_hosts: list[HostEntry] = Field(default_factory=list)
    allow_patterns: list[Regex] = Field(default_factory=list)
    deny_patterns: list[Regex] = Field(default_factory=list)
    min_score: Annotated[int, Field(ge=0)] = 0                   # points a story needs to be read at all
    # Points a text post needs to be a record: a post published to be paid for starts at 1 point.
    text_min_score: Annotated[int, Field(ge=0)] = 10
    item_url: str = "https://news.ycombinator.com/item?id={id}"   # URI of a text post
    delay: Seconds = 0.5

    def page_hosts(self) -> AllowList:
        if not self.follow_links:
            return AllowList(())
        return AllowList.build(self.allow_hosts, self.allow_patterns, self.deny_patterns)

    def request_hosts(self) -> AllowList:
        return AllowList.build([netloc_entry(self.base_url)]).merged(self.page_hosts())


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


class HackerNewsSpider(SpiderSteps):
    """The spider's callbacks: a story list, each item, text posts as records, linked articles on the allow-list."""

    params: HackerNewsParams

    async def start(self) -> AsyncIterator[Request]:
        yield self.api_request(list_url(self.params), self.parse_list, priority=10)

    def parse_list(self, response: Response) -> Any:
        ids = self.parse_inline(parse_id_list, response.body, response_headers(response))
        for rank, item_id in enumerate((ids or [])[: self.params.limit]):
            yield self.api_request(item_url(self.params, item_id), self.parse_item, priority=-rank)

    async def parse_item(self, response: Response) -> AsyncIterator[Any]:
        story = await self.run_parser(parse_item, response)
        if story is None:
            return
        if story.skipped:
            self.count(story.skipped)
        if story.score < self.params.min_score:
            return
        if story.record is not None:
            yield story.record
        if story.link and self.params.follow_links and self.pages.allows_page(story.link):
            yield self.page_request(story.link, self.parse_article, cb_kwargs={"hints": story.hints}, priority=-1)

    async def parse_article(self, response: Response, hints: PageHints) -> AsyncIterator[Any]:
        if not self.pages.allows_page(response.url):
            return
        for record in self.accept(await self.run_parser(parse_page, response, hints)):
            yield record


class HackerNews(SourceKind):
    """Hacker News stories: text posts as records, linked articles on the allow-list as web pages."""

    name = "hackernews"
    params = HackerNewsParams
    spider_steps = HackerNewsSpider
    constraints = ("min_points",)
    # HN's Firebase API states no rate limit; linked articles are web pages of their publishers, which deserve the
    # one request a second per host a polite crawler keeps (scrapers.settings.DEFAULT_DELAY).
    refetch_budget = 10
    # The API documents no rate limit and no 429 answer: one naming no wait is held the default.
    retry_after = settings.DEFAULT_RETRY_AFTER

    @classmethod
    def denied(cls, status: int, headers: dict[str, str], body: bytes) -> Denial | None:
        # Firebase answers a path the API does not serve (or a misspelt one) with 401 {"error": "Permission denied"};
        # a linked article's 401/403 is a web page's, counted as its status.
        if status == 401 and b"Permission denied" in body[:200]:
            return Denial(ACCESS_DENIED, "Hacker News' API answered 401 Permission denied: it serves only the story "
                          "lists and /item/<id>.json under /v0",
                          "check the source's base_url (https://hacker-news.firebaseio.com/v0) and list",
                          reasons.http_reason(401))
        return None

    @classmethod
    def violations(cls, params: BaseParams, record: Record) -> list[str]:
        assert isinstance(params, HackerNewsParams)
        if item_id_from_uri(params, record.uri) is None:
            return []  # a linked article: its host rules decide
        score = record.meta.get("score")
        needed = max(params.min_score, params.text_min_score)
        if not isinstance(score, int) or isinstance(score, bool) or score < needed:
            return ["min_points"]
        return []

    @classmethod
    def licence(cls, params: BaseParams, record: Record, declared: str | None,
                host_rule: tuple[str, str] | None) -> LicenceDecision:
        """A text post: metadata only. HN's terms (https://www.ycombinator.com/legal/, "Site Terms") grant no
        licence to redistribute what users post (their wording could not be re-read on 2026-12-06: see
        tests/data/scrapers/SOURCES.md); its API's README (github.com/HackerNews/API) states no content licence, and
        that repository's MIT licence covers its own files, not HN's items. A linked article is a web page of its
        publisher: the page rule."""
        assert isinstance(params, HackerNewsParams)
        if item_id_from_uri(params, record.uri) is not None:
            return metadata_only("kind:hackernews")
        return page_rule(record, declared, host_rule)

    @classmethod
    def coverage(cls, params: BaseParams) -> Callable[[str], bool]:
        assert isinstance(params, HackerNewsParams)
        pages = params.page_hosts()
        return lambda uri: item_id_from_uri(params, uri) is not None or pages.allows_page(uri)

    @classmethod
    async def refetch(cls, fetcher: Fetcher, ctx: ParseContext, uri: str) -> Record:
        params = ctx.params
        assert isinstance(params, HackerNewsParams)
        item_id = item_id_from_uri(params, uri)
        if item_id is None:
            return await fetch_page(fetcher, ctx, uri)
        answer = await fetcher.api(params, item_url(params, item_id), throttle=cls.throttle, denied=cls.denied)
        story = parse_item(ctx, answer.url, answer.body, answer.headers)
        if story.record is None:
            raise Stop(FetchOutcome.unavailable(story.skipped or reasons.NO_CONTENT))
        return story.record
