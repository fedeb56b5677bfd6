"""The `wikipedia` kind (MediaWiki API): list article titles (category members, recent changes, search), then one
plain-text extract each.

Every article is read with the same request (`article_url`) in the crawl and in `fetch_one`, so both get the
same extract. Records' URIs are the wiki's article URLs on the API's host (`https://en.wikipedia.org/wiki/Physics`).

Only articles (namespace 0) are records: anyone can write a User: or Draft: page, so a title with a namespace
prefix is not covered, and the `ns` of the API's answer (the wiki's own word, in any language) must be 0.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import quote, unquote, urlencode, urlsplit

from pydantic import Field, model_validator

from schemas import Record
from scrapers import reasons, settings
from scrapers.allow import host_port
from scrapers.fetcher import Fetcher
from scrapers.kinds.base import USER_AGENT_REFUSED, ApiItemKind, Denial, SpiderSteps, denial_of, response_headers
from scrapers.licence import LicenceDecision, credit, mediawiki_history, metadata_only, spdx, under
from scrapers.pacing import Throttle, header_seconds
from scrapers.params import ApiParams, BaseParams, HttpUrl
from scrapers.parsing import (
    Headers,
    ParseContext,
    Parsed,
    ParseError,
    from_timestamp,
    load_json,
    make_record,
    require,
)

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response


PAGE_SIZE = 50  # list members per API call (the API allows up to 500 for bots, 50 for everyone else)
MAXLAG = 5      # seconds; the API answers "maxlag" instead of adding load to lagged replicas
MAXLAG_CODE = "maxlag"
RATELIMITED_CODE = "ratelimited"  # the API's own rate limit ("You've exceeded your rate limit")
USER_AGENT_POLICY = "https://foundation.wikimedia.org/wiki/Policy:Wikimedia_Foundation_User-Agent_Policy"

# Sections that are lists of links or citations, not prose.
BOILERPLATE_SECTIONS = frozenset({
    "see also", "references", "notes", "notes and references", "external links", "further reading",
    "bibliography", "sources", "citations", "footnotes", "works cited", "references and notes",
})
_HEADING = re.compile(r"^(={2,6})\s*(.*?)\s*\1$")

_LIST = {"category": "categorymembers", "recentchanges": "recentchanges", "search": "search"}

ARTICLE_NAMESPACE = 0
# Canonical names and aliases of the namespaces other than articles (MediaWiki's built-in ones and Wikipedia's), as
# title prefixes: a title starting with one names no article. Localised wikis use other names, and a redirect may
# lead elsewhere; the `ns` of the API's answer catches those on every crawl and re-fetch.
NAMESPACE_PREFIXES = frozenset({
    "talk", "user", "user talk", "wikipedia", "wikipedia talk", "project", "project talk", "wp", "wt", "file",
    "file talk", "image", "image talk", "mediawiki", "mediawiki talk", "template", "template talk", "help",
    "help talk", "category", "category talk", "portal", "portal talk", "draft", "draft talk", "timedtext",
    "timedtext talk", "module", "module talk", "special", "media", "book", "book talk", "education program",
    "gadget", "gadget talk", "gadget definition", "topic", "event", "event talk",
})  # not the pseudo-namespaces (MOS:, T:, H:): those are article titles ("T: The New York Times Style Magazine")


class WikipediaParams(ApiParams):
    """The `params:` of a wikipedia source (see docs/scrapers.md)."""

    base_url: HttpUrl = "https://en.wikipedia.org/w/api.php"
    mode: Literal["category", "recentchanges", "search"] = "category"
    category: str | None = None          # mode=category: "Category:Physics"
    query: str | None = None             # mode=search
    limit: Annotated[int, Field(ge=1, le=10_000)] = 100
    article_path: str = "/wiki/"         # where the wiki serves articles (records' URIs)
    license: str = "CC-BY-SA-4.0"
    concurrency: Annotated[int, Field(ge=1, le=32)] = 1   # Wikimedia API etiquette: requests in series

    @model_validator(mode="after")
    def _mode_has_its_field(self) -> WikipediaParams:
        if self.mode == "category" and not self.category:
            raise ValueError("mode 'category' needs `category` (e.g. 'Category:Physics')")
        if self.mode == "search" and not self.query:
            raise ValueError("mode 'search' needs `query`")
        return self


def listing_url(params: WikipediaParams, cont: dict[str, str] | None = None) -> str:
    """One page of article titles for the configured mode; `cont` is the API's `continue` object."""
    query: dict[str, Any] = {"action": "query", "format": "json", "formatversion": "2", "maxlag": MAXLAG,
                             "list": _LIST[params.mode]}
    if params.mode == "category":
        query.update(cmtitle=params.category, cmtype="page", cmnamespace="0", cmlimit=PAGE_SIZE)
    elif params.mode == "recentchanges":
        query.update(rcnamespace="0", rctype="new|edit", rcshow="!bot|!redirect", rcprop="title|ids|timestamp",
                     rclimit=PAGE_SIZE)
    else:
        query.update(srsearch=params.query, srnamespace="0", srlimit=PAGE_SIZE, srprop="")
    query.update(cont or {})
    return f"{params.base_url}?{urlencode(query)}"


def _api_error(data: dict[str, Any]) -> None:
    error = data.get("error")
    if isinstance(error, dict):
        raise ParseError(reasons.API_ERROR, f"{error.get('code')}: {str(error.get('info'))[:100]}")


def parse_listing(params: WikipediaParams, body: bytes, headers: Headers) -> tuple[list[str], dict[str, str] | None]:
    """(article titles in API order, the `continue` object for the next page or None)."""
    data = require(load_json(body, headers), dict, "listing")
    _api_error(data)
    members = require(require(data.get("query", {}), dict, "query").get(_LIST[params.mode], []), list, "members")
    titles = [str(m["title"]) for m in members if isinstance(m, dict) and m.get("title") and m.get("ns", 0) == 0]
    cont = data.get("continue")
    if not isinstance(cont, dict):
        return titles, None
    return titles, {str(k): str(v) for k, v in cont.items()}


def article_url(params: WikipediaParams, title: str) -> str:
    """The API request for one article's plain text, language, last revision and canonical title."""
    query = {
        "action": "query", "format": "json", "formatversion": "2", "maxlag": MAXLAG, "redirects": "1",
        "prop": "extracts|info|revisions", "explaintext": "1", "exsectionformat": "wiki",
        "rvprop": "ids|timestamp", "titles": title,
    }
    return f"{params.base_url}?{urlencode(query)}"


def article_uri(params: WikipediaParams, title: str) -> str:
    """The article's URL on the wiki that serves the API."""
    parts = urlsplit(params.base_url)
    path = quote(title.replace(" ", "_"), safe="()',!*:;@$+-._~")
    return f"{parts.scheme}://{parts.netloc}{params.article_path}{path}"


def title_from_uri(params: WikipediaParams, uri: str) -> str | None:
    """The article title an article URL names, None if the URL is not an article of this wiki."""
    parts = urlsplit(uri)
    if host_port(uri) != host_port(params.base_url) or not parts.path.startswith(params.article_path):
        return None
    title = unquote(parts.path[len(params.article_path):]).replace("_", " ").strip()
    return title or None


def prose(extract: str) -> str:
    """The extract without list-like sections (references, links) and with headings as plain lines."""
    kept: list[str] = []
    skip_level = 0
    for line in extract.split("\n"):
        heading = _HEADING.match(line.strip())
        if heading:
            level = len(heading.group(1))
            if skip_level and level > skip_level:
                continue
            skip_level = level if heading.group(2).strip().lower() in BOILERPLATE_SECTIONS else 0
            if not skip_level:
                kept.extend(["", heading.group(2)])
            continue
        if not skip_level:
            kept.append(line)
    return "\n".join(kept)


def parse_article(ctx: ParseContext, url: str, body: bytes, headers: Headers) -> Parsed:
    """The record of one article answer of `article_url`; ParseError(not_found) when the page does not exist."""
    params = ctx.params
    assert isinstance(params, WikipediaParams)
    data = require(load_json(body, headers), dict, "answer")
    _api_error(data)
    pages = require(require(data.get("query", {}), dict, "query").get("pages", []), list, "pages")
    if not pages or not isinstance(pages[0], dict):
        raise ParseError(reasons.NOT_FOUND, "no page in the answer")
    page = pages[0]
    if page.get("missing") or page.get("invalid"):
        raise ParseError(reasons.NOT_FOUND, str(page.get("title", "")))
    title = str(page.get("title") or "")
    extract = page.get("extract")
    if not title or not isinstance(extract, str):
        raise ParseError(reasons.UNEXPECTED_SHAPE, "page without title or extract")
    revisions = page.get("revisions") or [{}]
    revision = revisions[0] if isinstance(revisions[0], dict) else {}
    record = make_record(
        ctx, uri=article_uri(params, title), text=prose(extract), title=title,
        published_at=from_timestamp(revision.get("timestamp")), lang=page.get("pagelanguage"),
        license=params.license,
        meta={"pageid": page.get("pageid"), "revid": revision.get("revid"), "namespace": page.get("ns")},
    )
    return Parsed(records=(record,))


class WikipediaSpider(SpiderSteps):
    """The spider's callbacks: list titles (category, recent changes or search), then one extract request
    per article."""

    params: WikipediaParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.titles: set[str] = set()

    async def start(self) -> AsyncIterator[Request]:
        yield self.api_request(listing_url(self.params), self.parse_listing, priority=10)

    def parse_listing(self, response: Response) -> Any:
        found = self.parse_inline(parse_listing, self.params, response.body, response_headers(response))
        if found is None:
            return
        titles, cont = found
        for title in titles:
            if len(self.titles) >= self.params.limit:
                return
            if title not in self.titles:
                self.titles.add(title)
                yield self.api_request(article_url(self.params, title), self.parse_article)
        if cont and self.budget_left():
            yield self.api_request(listing_url(self.params, cont), self.parse_listing, priority=10)

    async def parse_article(self, response: Response) -> AsyncIterator[Any]:
        for record in self.accept(await self.run_parser(parse_article, response)):
            yield record


class Wikipedia(ApiItemKind):
    """MediaWiki articles (category, recent changes or search) as plain-text extracts."""

    name = "wikipedia"
    params = WikipediaParams
    spider_steps = WikipediaSpider
    constraints = ("namespace",)
    # Wikimedia's API etiquette sets no fixed read rate but asks for requests in series, not in parallel, and
    # honours `maxlag`; one re-fetch is one request, and 20 in series fit the verification share of a 60 s step.
    refetch_budget = 20

    @classmethod
    def throttle(cls, status: int, headers: dict[str, str], body: bytes) -> Throttle | None:
        # A lagged wiki answers 200 with {"error": {"code": "maxlag"}}, `MediaWiki-API-Error: maxlag` and
        # Retry-After (older versions: 503): wait that long (at least 5 s, its manual asks) and ask again. The
        # API's own rate limit answers {"error": {"code": "ratelimited"}}: the same.
        code = headers.get("mediawiki-api-error") or api_error_code(body)
        if code in (MAXLAG_CODE, RATELIMITED_CODE):
            wait = header_seconds(headers.get("retry-after"))
            return Throttle(settings.DEFAULT_RETRY_AFTER if wait is None else wait, code, refused=True)
        return super().throttle(status, headers, body)

    @classmethod
    def denied(cls, status: int, headers: dict[str, str], body: bytes) -> Denial | None:
        # Wikimedia's edge answers 403 to a missing or generic user agent ("Please set a user-agent and respect our
        # robot policy"); another 403 (a blocked address) is plain access denied.
        text = body[:2048].lower()
        if status == 403 and (b"user-agent" in text or b"user agent" in text or b"robot policy" in text):
            return Denial(USER_AGENT_REFUSED, "the wiki refused our user agent (HTTP 403)",
                          "set a descriptive user agent with contact (miner.user_agent), e.g. 'glean/1.0 "
                          f"(https://your.site; you@your.site)', as {USER_AGENT_POLICY} asks")
        return denial_of(cls.name, status)

    @classmethod
    def licence(cls, params: BaseParams, record: Record, declared: str | None,
                host_rule: tuple[str, str] | None) -> LicenceDecision:
        """The wiki's licence (`license:` of the source, CC BY-SA 4.0 for Wikipedia's text since 2023: its Terms of
        Use, https://foundation.wikimedia.org/wiki/Policy:Terms_of_Use, section 7) with the credit it asks for:
        the title, the article's URL and its page history, which lists the authors (`<uri>?action=history`)."""
        assert isinstance(params, WikipediaParams)
        licence = spdx(params.license)
        if licence is None:
            return metadata_only("kind:wikipedia")
        title = title_from_uri(params, record.uri) or ""
        return under(licence, "kind:wikipedia",
                     credit(licence, title=title, uri=record.uri, authors_at=mediawiki_history(record.uri)))

    @classmethod
    def item_id(cls, params: BaseParams, uri: str) -> str | None:
        assert isinstance(params, WikipediaParams)
        title = title_from_uri(params, uri)
        return title if title is not None and is_article_title(title) else None

    @classmethod
    def violations(cls, params: BaseParams, record: Record) -> list[str]:
        namespace = record.meta.get("namespace")
        if namespace != ARTICLE_NAMESPACE or isinstance(namespace, bool) or not is_article_title(record.title):
            return ["namespace"]
        return []

    @classmethod
    def claims(cls, record: Record) -> dict[str, object]:
        # The namespace and the page id stay with a page (a move keeps its id); the revision id changes with every
        # edit, so it is no claim (the text comparison judges edits).
        return {key: record.meta[key] for key in ("namespace", "pageid") if key in record.meta}

    @classmethod
    async def fetch_item(cls, fetcher: Fetcher, ctx: ParseContext, uri: str, item: str) -> Record:
        assert isinstance(ctx.params, WikipediaParams)
        answer = await fetcher.api(ctx.params, article_url(ctx.params, item), throttle=cls.throttle,
                                   denied=cls.denied)
        return parse_article(ctx, answer.url, answer.body, answer.headers).records[0]


def is_article_title(title: str) -> bool:
    """False when `title` starts with the prefix of a namespace other than articles (`User:`, `Draft talk:`)."""
    prefix, sep, _rest = title.partition(":")
    return not sep or " ".join(prefix.replace("_", " ").split()).casefold() not in NAMESPACE_PREFIXES


def api_error_code(body: bytes) -> str | None:
    """The code of a maxlag or ratelimited error answer, else None (checked cheaply first: most answers are
    articles)."""
    head = body[:2048]
    if b'"maxlag"' not in head and b'"ratelimited"' not in head:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    error = data.get("error") if isinstance(data, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if code in (MAXLAG_CODE, RATELIMITED_CODE) else None
