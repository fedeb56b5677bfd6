"""The `arxiv` kind (Atom API): abstracts and metadata by category or query, newest first, page after page;
`id_list` answers have the same shape, so the re-fetch reads a paper with the crawl's parser."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

from lxml import etree
from pydantic import Field, model_validator

from schemas import Record, canonical_url
from scrapers import reasons
from scrapers.fetcher import Fetcher, record_at
from scrapers.kinds.base import ACCESS_DENIED, ApiItemKind, Denial, SpiderSteps
from scrapers.licence import ARXIV_ABSTRACT_MAX_CHARS, LicenceDecision, credit, is_free, metadata_only, under
from scrapers.params import ApiParams, BaseParams, HttpUrl, Seconds
from scrapers.parsing import (
    Headers,
    ParseContext,
    ParseError,
    content_type,
    from_timestamp,
    make_record,
)

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response


ATOM = "{http://www.w3.org/2005/Atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
ARXIV = "{http://arxiv.org/schemas/atom}"
_VERSION = re.compile(r"v\d+$")
_ID = re.compile(r"/abs/(.+)$")
_XML_TYPES = frozenset({"application/atom+xml", "application/xml", "text/xml"})


class ArxivParams(ApiParams):
    """The `params:` of an arxiv source (see docs/scrapers.md)."""

    base_url: HttpUrl = "https://export.arxiv.org/api/query"
    categories: list[Annotated[str, Field(pattern=r"^[a-zA-Z\-]+(\.[A-Za-z\-]+)?$")]] = Field(default_factory=list)
    query: str | None = None             # raw arXiv search_query, ANDed with the categories
    max_results: Annotated[int, Field(ge=1, le=30_000)] = 200
    page_size: Annotated[int, Field(ge=1, le=2000)] = 100
    abs_url: HttpUrl = "https://arxiv.org/abs/"    # URI prefix of a record (the abstract page)
    delay: Seconds = 3.0                 # arXiv API terms: one request every three seconds
    concurrency: Annotated[int, Field(ge=1, le=32)] = 1

    @model_validator(mode="after")
    def _has_categories_or_query(self) -> ArxivParams:
        if not self.categories and not self.query:
            raise ValueError("give `categories` (e.g. [cs.LG]) or a `query`")
        return self


@dataclass(frozen=True)
class ArxivPage:
    """Records of one answer, the total the query matches, and reasons for entries that gave none."""

    records: tuple[Record, ...]
    total: int
    skipped: tuple[str, ...] = ()


def search_query(params: ArxivParams) -> str:
    """`(cat:cs.LG OR cat:cs.CL) AND (<query>)` from the params."""
    parts = []
    if params.categories:
        cats = " OR ".join(f"cat:{c}" for c in params.categories)
        parts.append(f"({cats})" if len(params.categories) > 1 else cats)
    if params.query:
        parts.append(f"({params.query})" if params.categories else params.query)
    return " AND ".join(parts)


def query_url(params: ArxivParams, start: int) -> str:
    size = min(params.page_size, params.max_results - start)
    query = {"search_query": search_query(params), "start": start, "max_results": size,
             "sortBy": "submittedDate", "sortOrder": "descending"}
    return f"{params.base_url}?{urlencode(query)}"


def id_url(params: ArxivParams, arxiv_id: str) -> str:
    return f"{params.base_url}?{urlencode({'id_list': arxiv_id, 'max_results': 1})}"


def abs_uri(params: ArxivParams, arxiv_id: str) -> str:
    """The record URI of a paper: its abstract page, without version."""
    return canonical_url(params.abs_url + _VERSION.sub("", arxiv_id))


def id_from_uri(params: ArxivParams, uri: str) -> str | None:
    prefix = canonical_url(params.abs_url)
    uri = canonical_url(uri)
    if not uri.startswith(prefix):
        return None
    found = uri[len(prefix):]
    return _VERSION.sub("", found) or None


def _text(entry: etree._Element, tag: str) -> str:
    found = entry.find(tag)
    return " ".join((found.text or "").split()) if found is not None else ""


def _entry_record(ctx: ParseContext, entry: etree._Element) -> Record:
    params = ctx.params
    assert isinstance(params, ArxivParams)
    found = _ID.search(_text(entry, f"{ATOM}id"))
    if not found:
        raise ParseError(reasons.UNEXPECTED_SHAPE, "entry without an /abs/ id")
    arxiv_id = _VERSION.sub("", found.group(1))
    authors = [_text(a, f"{ATOM}name") for a in entry.findall(f"{ATOM}author")]
    categories = [c.get("term", "") for c in entry.findall(f"{ATOM}category")]
    primary = entry.find(f"{ARXIV}primary_category")
    return make_record(
        ctx, uri=abs_uri(params, arxiv_id), text=_text(entry, f"{ATOM}summary"), title=_text(entry, f"{ATOM}title"),
        published_at=from_timestamp(_text(entry, f"{ATOM}published")), labels=categories,
        meta={"author": ", ".join(a for a in authors if a)[:200], "arxiv_id": arxiv_id,
              "primary_category": primary.get("term") if primary is not None else None,
              "doi": _text(entry, f"{ARXIV}doi") or None},
    )


def parse_feed(ctx: ParseContext, url: str, body: bytes, headers: Headers) -> ArxivPage:
    """The records of an API answer; ParseError for non-Atom answers and the API's error entries."""
    kind = content_type(headers)
    if kind and kind not in _XML_TYPES:
        raise ParseError(reasons.BAD_CONTENT_TYPE, kind)
    if not body.strip():
        raise ParseError(reasons.EMPTY)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise ParseError(reasons.INVALID_XML, str(exc)[:120]) from None
    if root.tag != f"{ATOM}feed":
        raise ParseError(reasons.UNEXPECTED_SHAPE, f"root {root.tag}")
    entries = root.findall(f"{ATOM}entry")
    if len(entries) == 1 and "/api/errors" in _text(entries[0], f"{ATOM}id"):
        raise ParseError(reasons.API_ERROR, _text(entries[0], f"{ATOM}summary")[:120])
    total_text = _text(root, f"{OPENSEARCH}totalResults")
    total = int(total_text) if total_text.isdigit() else len(entries)
    records, skipped = [], []
    for entry in entries:
        try:
            records.append(_entry_record(ctx, entry))
        except ParseError as exc:
            skipped.append(exc.reason)
    return ArxivPage(records=tuple(records), total=total, skipped=tuple(skipped))


class ArxivSpider(SpiderSteps):
    """The spider's callbacks: the category/query search, newest first, page after page up to max_results."""

    params: ArxivParams

    async def start(self) -> AsyncIterator[Request]:
        yield self.api_request(query_url(self.params, 0), self.parse_results, cb_kwargs={"start": 0})

    async def parse_results(self, response: Response, start: int) -> AsyncIterator[Any]:
        page = await self.run_parser(parse_feed, response)
        if page is None:
            return
        for reason in page.skipped:
            self.count(reason)
        for record in page.records:
            yield record
        following = start + self.params.page_size
        if page.records and following < min(page.total, self.params.max_results) and self.budget_left():
            yield self.api_request(query_url(self.params, following), self.parse_results,
                                   cb_kwargs={"start": following})


class Arxiv(ApiItemKind):
    """arXiv abstracts and metadata by category or query."""

    name = "arxiv"
    params = ArxivParams
    spider_steps = ArxivSpider
    constraints = ("categories",)
    # arXiv's API terms: no more than one request every three seconds, on one connection. One re-fetch is one
    # request; the verification share of a 60 s step (~18 s) holds six of them, one kept for slack.
    refetch_budget = 5

    @classmethod
    def denied(cls, status: int, headers: dict[str, str], body: bytes) -> Denial | None:
        # arXiv refuses clients that break its API terms (too fast, several connections) with a 403.
        if status not in (401, 403):
            return None
        return Denial(ACCESS_DENIED, f"arXiv's API answered HTTP {status}: it refuses this client",
                      "keep to arXiv's API terms (https://info.arxiv.org/help/api/tou.html): one request every 3 s on "
                      "one connection (the source's delay and concurrency) and a user agent with contact "
                      "(miner.user_agent)", reasons.http_reason(status))

    @classmethod
    def violations(cls, params: BaseParams, record: Record) -> list[str]:
        assert isinstance(params, ArxivParams)
        if params.categories and not any(in_category(label, params.categories) for label in record.labels):
            return ["categories"]  # a paper of another field under a source of these categories
        return []

    @classmethod
    def claims(cls, record: Record) -> dict[str, object]:
        # The primary category is chosen at submission and kept across versions; a DOI may be added later, so it
        # is no claim.
        primary = record.meta.get("primary_category")
        return {"primary_category": primary} if primary else {}

    @classmethod
    def licence(cls, params: BaseParams, record: Record, declared: str | None,
                host_rule: tuple[str, str] | None) -> LicenceDecision:
        """A record is the paper's abstract: "descriptive metadata" (title, abstract, authors, ...) that arXiv's API
        terms (https://info.arxiv.org/help/api/tou.html) put under CC0 1.0. Longer text is no abstract (arXiv caps
        them): it is the paper's, which may be redistributed only under the free licence the paper declares
        (CC BY / CC BY-SA / CC0), never under arXiv's non-exclusive licence (distribution by arXiv only)."""
        title = record.title
        if len(record.text) <= ARXIV_ABSTRACT_MAX_CHARS:
            return under("CC0-1.0", "kind:arxiv:abstract",
                         credit("CC0-1.0", title=title, uri=record.uri, via="arXiv metadata"))
        if declared is not None and is_free(declared):
            return under(declared, "kind:arxiv:paper", credit(declared, title=title, uri=record.uri, via="arXiv"))
        return metadata_only("kind:arxiv:paper", declared)

    @classmethod
    def item_id(cls, params: BaseParams, uri: str) -> str | None:
        assert isinstance(params, ArxivParams)
        return id_from_uri(params, uri)

    @classmethod
    async def fetch_item(cls, fetcher: Fetcher, ctx: ParseContext, uri: str, item: str) -> Record:
        assert isinstance(ctx.params, ArxivParams)
        answer = await fetcher.api(ctx.params, id_url(ctx.params, item), throttle=cls.throttle, denied=cls.denied)
        return record_at(parse_feed(ctx, answer.url, answer.body, answer.headers).records, uri)


def in_category(label: str, categories: list[str]) -> bool:
    """Whether an entry's category `label` is one of `categories` or inside one of them (`math.CO` in `math`)."""
    label = label.casefold()
    return any(label == c.casefold() or label.startswith(c.casefold() + ".") for c in categories)
