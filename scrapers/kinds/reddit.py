"""The `reddit` kind: self posts of subreddits from Reddit's Data API (OAuth, application-only: a client id and
secret from the environment buy a bearer token at `token_url`; requests go to `base_url`, oauth.reddit.com). `by_id`
answers have the listings' Listing shape, so the re-fetch reads a post with the crawl's parser. Records' URIs are the
posts' permalinks on `site_url` (www.reddit.com).

Anyone can post to Reddit, so a post is a record only in a subreddit the source lists, with a score of at least
`min_score` (other people voted for it) and at least `min_age_hours` old (moderators and spam filters had time to
remove it); the crawl skips the rest, and a re-fetch finding the live post breaking a rule is not a pass.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlencode, urljoin, urlsplit

from pydantic import Field

from schemas import Record
from scrapers import reasons
from scrapers.allow import AllowList, host_port, netloc_entry
from scrapers.fetcher import Fetcher, FetchOutcome, Stop, record_at
from scrapers.kinds.base import ACCESS_DENIED, CREDENTIALS_REFUSED, ApiItemKind, Denial, SpiderSteps
from scrapers.licence import LicenceDecision, metadata_only
from scrapers.oauth import (
    FORM_TYPE,
    NO_CREDENTIALS,
    OAUTH_META,
    TOKEN_FORM,
    TOKENS,
    Credentials,
    CredentialsMissing,
    OAuthClient,
    TokenRefused,
    credentials_from_env,
    parse_token,
)
from scrapers.params import ApiParams, BaseParams, HttpUrl, Seconds
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


logger = logging.getLogger(__name__)
PAGE_SIZE = 100  # the most a listing returns per request
CLIENT_ID_ENV = "GLEAN_REDDIT_CLIENT_ID"
CLIENT_SECRET_ENV = "GLEAN_REDDIT_CLIENT_SECRET"
SETUP = "create a 'script' app at https://www.reddit.com/prefs/apps (its id is under the app's name)"
_ENV_NAME = r"^[A-Z_][A-Z0-9_]{0,63}$"
REMOVED = frozenset({"[removed]", "[deleted]"})
_POST_ID = re.compile(r"/comments/([a-z0-9]{1,12})(?:/|$)")
_SUBREDDIT = re.compile(r"^/r/([A-Za-z0-9_]{2,32})/comments/")


class RedditParams(ApiParams):
    """The `params:` of a reddit source (see docs/scrapers.md)."""

    base_url: HttpUrl = "https://oauth.reddit.com"                       # the Data API (bearer token)
    token_url: HttpUrl = "https://www.reddit.com/api/v1/access_token"   # the client credentials grant
    site_url: HttpUrl = "https://www.reddit.com"                         # where posts live: records' URIs
    # Names of the environment variables holding the app's credentials (never the credentials themselves).
    client_id_env: Annotated[str, Field(pattern=_ENV_NAME)] = CLIENT_ID_ENV
    client_secret_env: Annotated[str, Field(pattern=_ENV_NAME)] = CLIENT_SECRET_ENV
    subreddits: Annotated[list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{2,32}$")]], Field(min_length=1)]
    listing: Literal["hot", "new", "top", "rising"] = "hot"
    time: Literal["hour", "day", "week", "month", "year", "all"] = "day"   # for listing=top
    limit: Annotated[int, Field(ge=1, le=1000)] = 100                      # posts per subreddit
    include_nsfw: bool = False
    # A post someone publishes to be paid for starts at 1 point and is minutes old: a few votes from others and a
    # few hours' exposure to moderators and spam filters are what a self-published post lacks.
    min_score: int = 10
    min_age_hours: Annotated[float, Field(ge=0, le=24 * 365)] = 6.0
    # An OAuth client gets 100 queries a minute, averaged over a 10-minute window (X-Ratelimit-* headers say
    # what is left; the pacing middleware sleeps until the reset when none is): one a second stays well within.
    delay: Seconds = 1.0
    concurrency: Annotated[int, Field(ge=1, le=32)] = 1

    def request_hosts(self) -> AllowList:
        return AllowList.build([netloc_entry(self.base_url), netloc_entry(self.token_url)])

    def credentials(self) -> Credentials:
        """The app's credentials from the environment; CredentialsMissing says how to set them."""
        return credentials_from_env("Reddit's Data API", self.client_id_env, self.client_secret_env, SETUP)


def listing_url(params: RedditParams, subreddit: str, after: str | None = None, count: int = 0) -> str:
    query: dict[str, Any] = {"limit": max(1, min(PAGE_SIZE, params.limit - count)), "raw_json": 1}
    if params.listing == "top":
        query["t"] = params.time
    if after:
        query.update(after=after, count=count)
    return f"{params.base_url.rstrip('/')}/r/{subreddit}/{params.listing}?{urlencode(query)}"


def post_url(params: RedditParams, post_id: str) -> str:
    """The API request for one post (a Listing with that post as its only child)."""
    return f"{params.base_url.rstrip('/')}/by_id/t3_{post_id}?raw_json=1"


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
    score = post.get("score") if isinstance(post.get("score"), int) else None
    permalink = str(post.get("permalink") or "")
    if not permalink.startswith("/r/"):
        raise ParseError(reasons.UNEXPECTED_SHAPE, "post without permalink")
    return make_record(
        ctx, uri=urljoin(params.site_url, permalink), text=text, title=str(post.get("title") or ""),
        published_at=from_timestamp(post.get("created_utc")), labels=[f"r/{post.get('subreddit', '')}"],
        meta={"author": str(post.get("author") or "")[:100], "score": score, "subreddit": post.get("subreddit"),
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


class RedditSpider(SpiderSteps):
    """The spider's callbacks: the configured listing of each subreddit, page after page, self posts as records."""

    params: RedditParams

    async def start(self) -> AsyncIterator[Request]:
        try:
            self.oauth = OAuthClient(self.params.token_url, self.params.credentials())
        except CredentialsMissing as exc:  # the parent checks first (check_ready); this is the child's own guard
            logger.error("reddit source cannot run: %s", exc)
            self.count(NO_CREDENTIALS)
            return
        for subreddit in self.params.subreddits:
            yield self._listing(listing_url(self.params, subreddit), subreddit, 0)

    def _listing(self, url: str, subreddit: str, seen: int) -> Request:
        return self.api_request(url, self.parse_listing, cb_kwargs={"subreddit": subreddit, "seen": seen},
                                meta={OAUTH_META: self.oauth})

    async def parse_listing(self, response: Response, subreddit: str, seen: int) -> AsyncIterator[Any]:
        found = await self.run_parser(parse_listing, response)
        if found is None:
            return
        parsed, after, posts = found
        for record in self.accept(parsed):
            yield record
        seen += posts
        if after and posts and seen < self.params.limit and self.budget_left():
            yield self._listing(listing_url(self.params, subreddit, after, seen), subreddit, seen)


class Reddit(ApiItemKind):
    """Self posts of subreddits from Reddit's Data API (application-only OAuth)."""

    name = "reddit"
    params = RedditParams
    spider_steps = RedditSpider
    constraints = ("subreddit", "min_score", "min_age")
    # Reddit's Data API allows an OAuth client 100 queries a minute (10-minute average); the validator's client is
    # one app for all its work, one re-fetch is one `by_id` request (a token request about once a day), so a 60 s
    # step keeps to a small share and leaves room for other validators' checks of the same posts.
    refetch_budget = 8

    @classmethod
    def denied(cls, status: int, headers: dict[str, str], body: bytes) -> Denial | None:
        # 401: the bearer token was refused even after a new one (OAuthMiddleware / _authorized ask once more);
        # 403 with a `reason`: a private or quarantined subreddit; any other 403: a request Reddit blocks.
        if status == 401:
            return Denial(CREDENTIALS_REFUSED, "Reddit's Data API refused our bearer token (HTTP 401)",
                          f"check {CLIENT_ID_ENV} and {CLIENT_SECRET_ENV} (a 'script' app's id and secret, "
                          "https://www.reddit.com/prefs/apps) and that the app is not revoked",
                          reasons.http_reason(401))
        if status != 403:
            return None
        why = _error_reason(body)
        if why:
            return Denial(ACCESS_DENIED, f"Reddit refused a subreddit: it is {why} (HTTP 403)",
                          "remove it from the source's subreddits")
        return Denial(ACCESS_DENIED, "Reddit blocked the request (HTTP 403)",
                      f"requests need a bearer token ({CLIENT_ID_ENV}, {CLIENT_SECRET_ENV}) and a descriptive user "
                      "agent (miner.user_agent; Reddit's API rules ask for '<platform>:<app id>:<version> (by "
                      "/u/<username>)')")

    @classmethod
    def item_id(cls, params: BaseParams, uri: str) -> str | None:
        assert isinstance(params, RedditParams)
        return post_id_from_uri(uri) if host_port(uri) == host_port(params.site_url) else None

    @classmethod
    def licence(cls, params: BaseParams, record: Record, declared: str | None,
                host_rule: tuple[str, str] | None) -> LicenceDecision:
        """Metadata only: Reddit's Data API Terms (https://www.redditinc.com/policies/data-api-terms, section 2.4)
        grant no right to use User Content "for training a machine learning or AI model, without the express
        permission of rightsholders"; a dataset row's text would be exactly that."""
        return metadata_only("kind:reddit")

    @classmethod
    def check_ready(cls, params: BaseParams) -> None:
        assert isinstance(params, RedditParams)
        params.credentials()

    @classmethod
    def violations(cls, params: BaseParams, record: Record) -> list[str]:
        assert isinstance(params, RedditParams)
        broken = []
        subreddit = subreddit_of(record)
        if subreddit is None or subreddit not in {s.casefold() for s in params.subreddits}:
            broken.append("subreddit")
        score = record.meta.get("score")
        if not isinstance(score, int) or isinstance(score, bool) or score < params.min_score:
            broken.append("min_score")
        published = record.published_at
        if published is None or record.fetched_at - published < timedelta(hours=params.min_age_hours):
            broken.append("min_age")
        return broken

    @classmethod
    def claims(cls, record: Record) -> dict[str, object]:
        # The subreddit never changes; the score does (votes keep coming), so it is a constraint re-checked on the
        # live post (>= min_score), never compared with the number the miner saw.
        subreddit = subreddit_of(record)
        return {"subreddit": subreddit} if subreddit else {}

    @classmethod
    async def fetch_item(cls, fetcher: Fetcher, ctx: ParseContext, uri: str, item: str) -> Record:
        assert isinstance(ctx.params, RedditParams)
        answer = await _authorized(fetcher, ctx.params, post_url(ctx.params, item), cls)
        parsed, _after, _posts = parse_listing(ctx, answer.url, answer.body, answer.headers)
        if not parsed.records and reasons.DELETED in parsed.skipped:
            raise Stop(FetchOutcome.gone(reasons.DELETED))
        live = [r for r in parsed.records if r.meta.get("reddit_id") == item]
        if live:  # a post in another subreddit under a URI naming a listed one is refused as such, not "gone"
            cls.check(ctx.params, live[0])
        return record_at(live, uri)


def subreddit_of(record: Record) -> str | None:
    """The subreddit a post record names (its permalink URI; its `subreddit` meta must agree), case-folded."""
    found = _SUBREDDIT.match(urlsplit(record.uri).path)
    if not found:
        return None
    named = found.group(1).casefold()
    claimed = record.meta.get("subreddit")
    if claimed is not None and str(claimed).casefold() != named:
        return None
    return named


async def _authorized(fetcher: Fetcher, params: RedditParams, url: str, kind: type[Reddit]) -> Any:
    """The API's 2xx answer for `url` with a bearer token (cached; a 401 answer drops it and asks once more with a
    new one). Missing or refused credentials are the validator's own trouble: Stop(unavailable(NO_CREDENTIALS))."""
    try:
        client = OAuthClient(params.token_url, params.credentials())
    except CredentialsMissing as exc:
        logger.warning("reddit re-fetch cannot run: %s", exc)
        raise Stop(FetchOutcome.unavailable(NO_CREDENTIALS)) from None
    for attempt in range(2):
        token = TOKENS.get(client.key) or await _new_token(fetcher, params, client)
        # a first 401 is an expired token, asked again with a new one: a refusal only the second time
        denied = kind.denied if attempt else _beyond_401(kind)
        try:
            return await fetcher.api(params, url, headers={"Authorization": f"bearer {token}"},
                                     throttle=kind.throttle, denied=denied)
        except Stop as stop:
            if stop.outcome.reason != reasons.http_reason(401) or attempt:
                raise
            TOKENS.drop(client.key)  # expired or revoked early
    raise AssertionError("unreachable")


def _beyond_401(kind: type[Reddit]) -> Any:
    """`kind.denied` for every answer but a 401."""
    return lambda status, headers, body: None if status == 401 else kind.denied(status, headers, body)


def _error_reason(body: bytes) -> str | None:
    """The `reason` of a Reddit error answer ({"reason": "private", "message": "Forbidden", "error": 403})."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    why = data.get("reason") if isinstance(data, dict) else None
    return str(why)[:40] if why else None


async def _new_token(fetcher: Fetcher, params: RedditParams, client: OAuthClient) -> str:
    answer = await fetcher.post(params.token_url, params.request_hosts(), TOKEN_FORM,
                                {"Authorization": client.credentials.basic(), "Content-Type": FORM_TYPE})
    try:
        token, lifetime = parse_token(answer.status, answer.body)
    except TokenRefused as exc:
        logger.error("reddit re-fetch: OAuth token refused: %s", exc)
        raise Stop(FetchOutcome.unavailable(NO_CREDENTIALS)) from None
    TOKENS.put(client.key, token, lifetime)
    return token
