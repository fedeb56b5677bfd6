"""A toy source kind written the documented way (docs/scrapers.md): one module, one SourceKind subclass.

The toy reads a "notes" service: `<base_url>/notes.txt` lists note paths one per line, each note is plain text
whose first line is its title. It is registered by the tests with `scrapers.kinds.register(Toy)`; the crawl process
imports it by its import path (`tests.scrapers.toy_kind:Toy`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urljoin

from pydantic import Field

from schemas import Record, canonical_url
from scrapers import reasons
from scrapers.fetcher import Fetcher, record_at
from scrapers.kinds.base import SourceKind, SpiderSteps, response_headers
from scrapers.params import ApiParams, BaseParams, HttpUrl
from scrapers.parsing import Headers, ParseContext, Parsed, ParseError, content_type, make_record

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response

TOY_NAME = "notes"


class ToyParams(ApiParams):
    """The toy's `params:`: where the notes service is and how many notes to read."""

    base_url: HttpUrl
    limit: Annotated[int, Field(ge=1, le=100)] = 10


# -- pure parsers: the crawl and fetch_one both use them ---------------------------------------------------------
def index_url(params: ToyParams) -> str:
    return urljoin(params.base_url, "notes.txt")


def parse_index(body: bytes, headers: Headers) -> list[str]:
    """Note paths of the index, in order."""
    if content_type(headers) != "text/plain":
        raise ParseError(reasons.BAD_CONTENT_TYPE, content_type(headers))
    return [line.strip() for line in body.decode("utf-8").splitlines() if line.strip()]


def parse_note(ctx: ParseContext, url: str, body: bytes, headers: Headers) -> Parsed:
    """The record of one note: first line the title, the rest the text."""
    if content_type(headers) != "text/plain":
        raise ParseError(reasons.BAD_CONTENT_TYPE, content_type(headers))
    title, _, text = body.decode("utf-8").partition("\n")
    record = make_record(ctx, uri=canonical_url(url), text=text, title=title.strip(), meta={"toy": True})
    return Parsed(records=(record,))


# -- the spider's callbacks (no Scrapy import: SourceKind.spider() mixes them into SourceSpider) -------------------
class ToySpider(SpiderSteps):
    params: ToyParams

    async def start(self) -> AsyncIterator[Request]:
        yield self.api_request(index_url(self.params), self.parse_index)

    def parse_index(self, response: Response) -> Any:
        paths = self.parse_inline(parse_index, response.body, response_headers(response))
        for path in (paths or [])[: self.params.limit]:
            yield self.api_request(urljoin(self.params.base_url, path), self.parse_note)

    async def parse_note(self, response: Response) -> AsyncIterator[Any]:
        for record in self.accept(await self.run_parser(parse_note, response)):
            yield record


# -- the kind: what the registry holds ---------------------------------------------------------------------------
class Toy(SourceKind):
    """Plain-text notes listed by an index."""

    name = TOY_NAME
    params = ToyParams
    spider_steps = ToySpider

    @classmethod
    def coverage(cls, params: BaseParams) -> Callable[[str], bool]:
        assert isinstance(params, ToyParams)
        prefix = urljoin(params.base_url, "notes/")
        return lambda uri: uri.startswith(prefix)

    @classmethod
    async def refetch(cls, fetcher: Fetcher, ctx: ParseContext, uri: str) -> Record:
        assert isinstance(ctx.params, ToyParams)
        answer = await fetcher.api(ctx.params, uri)
        return record_at(parse_note(ctx, answer.url, answer.body, answer.headers).records, uri)
