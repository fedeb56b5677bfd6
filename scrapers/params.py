"""The `params:` each source kind accepts, validated with a readable error that names the field."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from schemas import DomainSpec, DomainSpecError, SourceSpec
from scrapers import settings
from scrapers.allow import AllowList, host_port, netloc_entry


def _http_url(value: str) -> str:
    if host_port(value) is None:
        raise ValueError(f"{value!r} is not an absolute http(s) URL")
    return value


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"{value!r} is not a valid regular expression ({exc})") from None
    return value


def _host_entry(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?", value.strip()):
        raise ValueError(f"{value!r} is not a host or host:port")
    return value.strip().lower()


HttpUrl = Annotated[str, AfterValidator(_http_url)]
Regex = Annotated[str, AfterValidator(_regex)]
HostEntry = Annotated[str, AfterValidator(_host_entry)]
Seconds = Annotated[float, Field(ge=0, le=600)]


class BaseParams(BaseModel):
    """Politeness and limits every kind shares; each kind sets its own defaults for the API it talks to."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    delay: Seconds = settings.DEFAULT_DELAY
    concurrency: Annotated[int, Field(ge=1, le=32)] = settings.DEFAULT_CONCURRENCY
    autothrottle: bool = True
    timeout: Annotated[float, Field(gt=0, le=600)] = settings.DEFAULT_TIMEOUT
    retries: Annotated[int, Field(ge=0, le=10)] = settings.DEFAULT_RETRIES
    max_bytes: Annotated[int, Field(ge=1024, le=100 * 1024 * 1024)] = settings.MAX_BYTES

    def request_hosts(self) -> AllowList:
        """Every host this source may contact."""
        raise NotImplementedError

    def page_hosts(self) -> AllowList:
        """Hosts (and patterns) of the web pages this source extracts; empty for pure API kinds."""
        return AllowList(())


class ApiParams(BaseParams):
    """A kind that talks to a documented public API at `base_url`."""

    base_url: HttpUrl
    # robots.txt governs crawlers of web pages; documented APIs publish their own rules (rate limits, user
    # agent) that each API kind honours through its defaults. Web pages (web, feed articles, HN links) always
    # obey robots.txt; `obey_robots: true` makes an API kind obey it for the API too.
    obey_robots: bool = False

    def request_hosts(self) -> AllowList:
        return AllowList.build([netloc_entry(self.base_url)])


class WebParams(BaseParams):
    seeds: Annotated[list[HttpUrl], Field(min_length=1)]
    allow_hosts: list[HostEntry] = Field(default_factory=list)  # default: the hosts of the seeds
    allow_patterns: list[Regex] = Field(default_factory=list)   # a page URL must match one (if any are given)
    deny_patterns: list[Regex] = Field(default_factory=list)    # and must match none
    max_depth: Annotated[int, Field(ge=0, le=20)] = 3
    sitemaps: bool = True                                       # read the Sitemap: lines of robots.txt
    sitemap_urls: list[HttpUrl] = Field(default_factory=list)

    def page_hosts(self) -> AllowList:
        hosts = self.allow_hosts or [netloc_entry(s) for s in self.seeds]
        return AllowList.build(hosts, self.allow_patterns, self.deny_patterns)

    def request_hosts(self) -> AllowList:
        return self.page_hosts()


class FeedParams(BaseParams):
    feeds: Annotated[list[HttpUrl], Field(min_length=1)]
    allow_hosts: list[HostEntry] = Field(default_factory=list)  # article hosts; default: the hosts of the feeds
    allow_patterns: list[Regex] = Field(default_factory=list)
    deny_patterns: list[Regex] = Field(default_factory=list)
    max_entries: Annotated[int, Field(ge=1, le=10_000)] = 100   # per feed

    def page_hosts(self) -> AllowList:
        hosts = self.allow_hosts or [netloc_entry(f) for f in self.feeds]
        return AllowList.build(hosts, self.allow_patterns, self.deny_patterns)

    def request_hosts(self) -> AllowList:
        return self.page_hosts().merged(AllowList.build(netloc_entry(f) for f in self.feeds))


class WikipediaParams(ApiParams):
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



class HackerNewsParams(ApiParams):
    base_url: HttpUrl = "https://hacker-news.firebaseio.com/v0"
    stories: Literal["topstories", "newstories", "beststories", "askstories", "showstories"] = Field(
        "topstories", alias="list")
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    text_posts: bool = True              # Ask HN / text posts become records
    follow_links: bool = True            # linked articles on allow_hosts become records
    allow_hosts: list[HostEntry] = Field(default_factory=list)
    allow_patterns: list[Regex] = Field(default_factory=list)
    deny_patterns: list[Regex] = Field(default_factory=list)
    min_score: Annotated[int, Field(ge=0)] = 0
    item_url: str = "https://news.ycombinator.com/item?id={id}"   # URI of a text post
    delay: Seconds = 0.5

    def page_hosts(self) -> AllowList:
        if not self.follow_links:
            return AllowList(())
        return AllowList.build(self.allow_hosts, self.allow_patterns, self.deny_patterns)

    def request_hosts(self) -> AllowList:
        return AllowList.build([netloc_entry(self.base_url)]).merged(self.page_hosts())


class RedditParams(ApiParams):
    base_url: HttpUrl = "https://www.reddit.com"
    subreddits: Annotated[list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{2,32}$")]], Field(min_length=1)]
    listing: Literal["hot", "new", "top", "rising"] = "hot"
    time: Literal["hour", "day", "week", "month", "year", "all"] = "day"   # for listing=top
    limit: Annotated[int, Field(ge=1, le=1000)] = 100                      # posts per subreddit
    include_nsfw: bool = False
    min_score: int = 0
    delay: Seconds = 2.0                 # unauthenticated clients get a few requests a minute
    concurrency: Annotated[int, Field(ge=1, le=32)] = 1


class ArxivParams(ApiParams):
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


class StackExchangeParams(ApiParams):
    base_url: HttpUrl = "https://api.stackexchange.com/2.3"
    site: Annotated[str, Field(pattern=r"^[a-z0-9.\-]{2,64}$")] = "stackoverflow"
    tags: Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(min_length=1)]
    limit: Annotated[int, Field(ge=1, le=10_000)] = 100         # questions
    sort: Literal["activity", "votes", "creation", "hot", "week", "month"] = "activity"
    min_score: int = 0
    key: str | None = None               # optional app key (public, raises the daily quota)


PARAMS: dict[str, type[BaseParams]] = {
    "web": WebParams,
    "feed": FeedParams,
    "wikipedia": WikipediaParams,
    "hackernews": HackerNewsParams,
    "reddit": RedditParams,
    "arxiv": ArxivParams,
    "stackexchange": StackExchangeParams,
}


def _accepted(model: type[BaseParams]) -> list[str]:
    return sorted(info.alias or name for name, info in model.model_fields.items())


def load_params(source: SourceSpec, domain_id: str = "?") -> BaseParams:
    """The validated params of a source; DomainSpecError names the domain, the source and the field."""
    model = PARAMS[source.kind]
    try:
        return model.model_validate(source.params)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(["params", *(str(p) for p in first["loc"])])
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise DomainSpecError(
            f"domain {domain_id!r}, source {source.source_id!r} ({source.kind}): {field}: {first['msg']}{more}",
            hint=f"fix that field; {source.kind} accepts: {', '.join(_accepted(model))}",
        ) from None


def check_domain(domain: DomainSpec) -> None:
    """Validate the params of every source of a domain (call at start-up; raises DomainSpecError)."""
    for source in domain.sources:
        load_params(source, domain.id)
