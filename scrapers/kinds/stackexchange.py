"""The `stackexchange` kind (API 2.3): questions by tag (pages), then their accepted answers (`filter=withbody`) in
batches of up to 100; one record per question and accepted answer.

Anyone can ask, answer and accept their own answer, so a record is a question of the configured site (its URI on
the site's host, `site_url`), carrying one of the source's tags, with a score of at least `min_score` (others voted
for it); the crawl skips the rest, and a re-fetch finding the live question breaking a rule is not a pass.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlencode, urlsplit

from pydantic import Field

from schemas import Record, canonical_url
from scrapers import reasons, settings
from scrapers.allow import host_port
from scrapers.fetcher import Fetcher, FetchOutcome, Stop
from scrapers.htmltext import html_to_text
from scrapers.incremental import note_change
from scrapers.kinds.base import ACCESS_DENIED, CREDENTIALS_REFUSED, ApiItemKind, Denial, SpiderSteps, response_headers
from scrapers.licence import LicenceDecision, credit, under
from scrapers.pacing import QUOTA_EXHAUSTED, Throttle, default_throttle
from scrapers.params import ApiParams, BaseParams, HttpUrl
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


PAGE_SIZE = 100          # the API's maximum page size
BODY_FILTER = "withbody"  # built-in filter: the default fields plus `body`
_QUESTION_ID = re.compile(r"^/questions/(\d+)(?:/|$)")
ANSWER_HEADING = "Accepted answer:"
# When the network's licence of new posts changed (a post keeps the licence of its latest revision; the API's
# content_license says which, these dates stand in when the validator did not fetch the post).
SE_CC_BY_SA_3 = datetime(2011, 4, 8, tzinfo=UTC)
SE_CC_BY_SA_4 = datetime(2018, 5, 2, tzinfo=UTC)
# Sites whose questions are not served at https://<site>.stackexchange.com (the API's `api_site_parameter` -> host).
SITE_HOSTS = {
    "stackoverflow": "stackoverflow.com", "serverfault": "serverfault.com", "superuser": "superuser.com",
    "askubuntu": "askubuntu.com", "mathoverflow.net": "mathoverflow.net", "stackapps": "stackapps.com",
    "meta": "meta.stackexchange.com",
}


class StackExchangeParams(ApiParams):
    """The `params:` of a stackexchange source (see docs/scrapers.md)."""

    base_url: HttpUrl = "https://api.stackexchange.com/2.3"
    site: Annotated[str, Field(pattern=r"^[a-z0-9.\-]{2,64}$")] = "stackoverflow"
    tags: Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(min_length=1)]
    limit: Annotated[int, Field(ge=1, le=10_000)] = 100         # questions
    sort: Literal["activity", "votes", "creation", "hot", "week", "month"] = "activity"
    # A question someone asks, answers and accepts to be paid for has no votes from others.
    min_score: int = 3
    key: str | None = None               # optional app key (public, raises the daily quota)
    # Where the site serves its questions (records' URIs); default: the site's public host (SITE_HOSTS, a name
    # with a dot is a host, others are <site>.stackexchange.com). Only questions on this host are covered.
    site_url: HttpUrl | None = None

    def questions_at(self) -> tuple[str, int | None] | None:
        """(host, port) of the site's question pages."""
        if self.site_url:
            return host_port(self.site_url)
        host = SITE_HOSTS.get(self.site) or (self.site if "." in self.site else f"{self.site}.stackexchange.com")
        return host, None


@dataclass(frozen=True)
class QuestionPage:
    """Questions of one answer that have an accepted answer, whether more pages exist, the API's backoff, and how
    many answered questions were left out for a score below `min_score`."""

    questions: tuple[dict[str, Any], ...]
    has_more: bool
    backoff: int
    below_score: int = 0


def _query(params: StackExchangeParams, **extra: Any) -> str:
    query: dict[str, Any] = {"site": params.site, "filter": BODY_FILTER, **extra}
    if params.key:
        query["key"] = params.key
    return urlencode(query)


def questions_url(params: StackExchangeParams, tag: str, page: int, since: datetime | None = None) -> str:
    """A page of questions by tag; with `since` (an incremental crawl), those active since then, whatever the
    source's sort: the API's `min` bounds the sort field, and activity (a new answer, an edit) is what changed."""
    size = min(PAGE_SIZE, params.limit)
    if since is not None:
        return (f"{params.base_url.rstrip('/')}/questions?" + _query(
            params, tagged=tag, sort="activity", order="desc", min=int(since.timestamp()), pagesize=size, page=page))
    return (f"{params.base_url.rstrip('/')}/questions?"
            + _query(params, tagged=tag, sort=params.sort, order="desc", pagesize=size, page=page))


def question_url(params: StackExchangeParams, question_id: int) -> str:
    return f"{params.base_url.rstrip('/')}/questions/{question_id}?" + _query(params)


def answers_url(params: StackExchangeParams, answer_ids: list[int]) -> str:
    ids = ";".join(str(i) for i in answer_ids)
    return f"{params.base_url.rstrip('/')}/answers/{ids}?" + _query(params, pagesize=PAGE_SIZE)


def question_id_from_uri(uri: str) -> int | None:
    found = _QUESTION_ID.match(urlsplit(uri).path)
    return int(found.group(1)) if found else None


def _licence_by_date(published: datetime | None) -> str:
    if published is not None and published < SE_CC_BY_SA_3:
        return "CC-BY-SA-2.5"
    if published is not None and published < SE_CC_BY_SA_4:
        return "CC-BY-SA-3.0"
    return "CC-BY-SA-4.0"


def question_uri(question: dict[str, Any]) -> str:
    """`https://stackoverflow.com/questions/123` (the slug changes with the title, so it is left out)."""
    link = urlsplit(str(question.get("link") or ""))
    if not link.scheme or not link.netloc:
        raise ParseError(reasons.UNEXPECTED_SHAPE, "question without link")
    return canonical_url(f"{link.scheme}://{link.netloc}/questions/{question['question_id']}")


def _items(body: bytes, headers: Headers) -> tuple[list[Any], dict[str, Any]]:
    data = require(load_json(body, headers), dict, "answer")
    if "error_id" in data:
        raise ParseError(reasons.API_ERROR, f"{data.get('error_name')}: {str(data.get('error_message'))[:100]}")
    return require(data.get("items", []), list, "items"), data


def _answered(question: Any) -> bool:
    return (isinstance(question, dict) and isinstance(question.get("question_id"), int)
            and isinstance(question.get("accepted_answer_id"), int) and isinstance(question.get("score"), int))


def parse_questions(body: bytes, headers: Headers, min_score: int | None = None) -> QuestionPage:
    """Questions with an accepted answer (and at least `min_score`), `has_more` and the API's `backoff`."""
    items, data = _items(body, headers)
    answered = [q for q in items if _answered(q)]
    questions = tuple(q for q in answered if min_score is None or q["score"] >= min_score)
    backoff = data.get("backoff") if isinstance(data.get("backoff"), int) else 0
    return QuestionPage(questions=questions, has_more=bool(data.get("has_more")), backoff=backoff,
                        below_score=len(answered) - len(questions))


def parse_answers(body: bytes, headers: Headers) -> dict[int, dict[str, Any]]:
    """Answers of an `/answers/{ids}` answer by answer id."""
    items, _data = _items(body, headers)
    return {a["answer_id"]: a for a in items if isinstance(a, dict) and isinstance(a.get("answer_id"), int)}


def _license(value: Any) -> str | None:
    return str(value).strip().replace(" ", "-") if value else None   # "CC BY-SA 4.0" -> "CC-BY-SA-4.0"


def qa_record(ctx: ParseContext, question: dict[str, Any], answer: dict[str, Any]) -> Record:
    """The record of a question and its accepted answer: question text, a heading, the answer text."""
    if answer.get("question_id") != question.get("question_id"):
        raise ParseError(reasons.UNEXPECTED_SHAPE, "answer of another question")
    question_text = html_to_text(str(question.get("body") or ""))
    answer_text = html_to_text(str(answer.get("body") or ""))
    if not question_text or not answer_text:
        raise ParseError(reasons.NO_CONTENT, "question or answer without body")
    owner = question.get("owner") if isinstance(question.get("owner"), dict) else {}
    return make_record(
        ctx, uri=question_uri(question), text=f"{question_text}\n\n{ANSWER_HEADING}\n\n{answer_text}",
        title=html.unescape(str(question.get("title") or "")),
        published_at=from_timestamp(question.get("creation_date")),
        license=_license(question.get("content_license")),
        labels=[str(t) for t in question.get("tags", []) if isinstance(t, str)],
        meta={"author": html.unescape(str(owner.get("display_name") or ""))[:100], "score": question.get("score"),
              "answer_score": answer.get("score"), "question_id": question.get("question_id"),
              "answer_id": answer.get("answer_id")},
    )


THROTTLE_VIOLATION = 502  # the API's error_id when we asked too often (an HTTP 400 answer)
# error_ids (https://api.stackexchange.com/docs/error-handling; every error is an HTTP 400 answer) that say our
# credentials are missing or bad: access_token_required, invalid_access_token, key_required, access_token_compromised.
CREDENTIAL_ERRORS = frozenset({401, 402, 405, 406})
ACCESS_DENIED_ERROR = 403   # access_denied: a token lacking a permission
BAD_PARAMETER = 400         # bad_parameter; its message names the parameter ("key" for an app key it does not know)
KEY_HINT = ("check the source's `key` (a Stack Apps key, https://stackapps.com/apps/oauth/register) or remove it; "
            "without one the daily quota is 300 requests")
_AVAILABLE_IN = re.compile(r"available in (\d+) seconds")


class StackExchangeSpider(SpiderSteps):
    """The spider's callbacks: questions per tag (pages), then their accepted answers in batches of up to 100."""

    params: StackExchangeParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.question_ids: set[int] = set()

    async def start(self) -> AsyncIterator[Request]:
        for tag in self.params.tags:
            yield self._questions(tag, 1)

    def _questions(self, tag: str, page: int) -> Request:
        return self.api_request(questions_url(self.params, tag, page, self.job.since), self.parse_questions,
                                cb_kwargs={"tag": tag, "page": page}, priority=10)

    async def parse_questions(self, response: Response, tag: str, page: int) -> AsyncIterator[Any]:
        found = self.parse_inline(parse_questions, response.body, response_headers(response),
                                  self.params.min_score)
        if found is None:
            return
        if found.below_score:  # skipped before asking for their answers (the pipeline would drop them anyway)
            self.count(reasons.constraint("min_score"), found.below_score)
        fresh = {}
        for question in found.questions:
            note_change(self, _activity(question))
            if len(self.question_ids) >= self.params.limit:
                break
            if question["question_id"] not in self.question_ids:
                self.question_ids.add(question["question_id"])
                fresh[question["accepted_answer_id"]] = question
        if fresh:
            yield self.api_request(answers_url(self.params, sorted(fresh)), self.parse_answers,
                                   cb_kwargs={"questions": fresh})
        if found.has_more and len(self.question_ids) < self.params.limit and self.budget_left():
            yield self._questions(tag, page + 1)

    def parse_answers(self, response: Response, questions: dict[int, dict[str, Any]]) -> Any:
        answers = self.parse_inline(parse_answers, response.body, response_headers(response))
        if answers is None:
            return
        for answer_id, question in questions.items():
            answer = answers.get(answer_id)
            if answer is None:
                self.count("answer_missing")
                continue
            try:
                yield qa_record(self.ctx, question, answer)
            except ParseError as exc:
                self.count(exc.reason)


def _activity(question: dict[str, Any]) -> datetime | None:
    stamp = question.get("last_activity_date")
    return datetime.fromtimestamp(stamp, UTC) if isinstance(stamp, int) else None


class StackExchange(ApiItemKind):
    """Stack Exchange questions by tag with their accepted answers, one record per pair."""

    name = "stackexchange"
    params = StackExchangeParams
    spider_steps = StackExchangeSpider

    constraints = ("host", "tags", "min_score")
    # The API allows 30 requests a second from one address, but 10,000 a day with an app key (300 without): over
    # 1,440 one-minute steps that is ~7 requests a step, and one re-fetch makes two (question, accepted answer).
    refetch_budget = 3

    @classmethod
    def licence(cls, params: BaseParams, record: Record, declared: str | None,
                host_rule: tuple[str, str] | None) -> LicenceDecision:
        """The post's `content_license` when the validator fetched it, else CC BY-SA by the question's date (the
        network's schedule: 2.5, 3.0 from 2011-04-08, 4.0 from 2018-05-02), with the credit the network's Terms of
        Service (section 3, https://stackoverflow.com/legal/terms-of-service/public) ask for: the source, a link to
        the question, the author's name (the answers' authors are named on the linked page)."""
        licence = declared or _licence_by_date(record.published_at)
        author = str(record.meta.get("author") or "")[:100]
        return under(licence, "kind:stackexchange",
                     credit(licence, title=record.title, uri=record.uri, author=author, via="Stack Exchange"))

    @classmethod
    def throttle(cls, status: int, headers: dict[str, str], body: bytes) -> Throttle | None:
        # Every answer carries `quota_remaining` (a daily quota per IP, or per app key) and sometimes `backoff`
        # (seconds before calling the same method again); throttle_violation (error_id 502) refuses a request
        # and says when more are available. The pacer holds the API's host for all of them.
        data = _wrapper(body)
        if data is None:
            return default_throttle(status, headers, body)
        backoff = data.get("backoff") if isinstance(data.get("backoff"), int) else 0
        if data.get("error_id") == THROTTLE_VIOLATION:
            found = _AVAILABLE_IN.search(str(data.get("error_message") or ""))
            wait = float(found.group(1)) if found else float(backoff or settings.DEFAULT_RETRY_AFTER)
            if wait > settings.MAX_THROTTLE_WAIT:  # the day's quota is gone: nothing more today
                return Throttle(wait, QUOTA_EXHAUSTED, refused=True, stop=True)
            return Throttle(wait, "throttle_violation", refused=True)
        if data.get("quota_remaining") == 0:
            return Throttle(float(backoff), QUOTA_EXHAUSTED, stop=True)
        if backoff > 0:
            return Throttle(float(backoff), "backoff")
        return default_throttle(status, headers, body)

    @classmethod
    def denied(cls, status: int, headers: dict[str, str], body: bytes) -> Denial | None:
        data = _wrapper(body)
        error = data.get("error_id") if data else None
        said = f"{data.get('error_name')}: {str(data.get('error_message'))[:120]}" if data else ""
        if error in CREDENTIAL_ERRORS or (error == BAD_PARAMETER and "key" in said.split(":", 1)[1]):
            return Denial(CREDENTIALS_REFUSED, f"the Stack Exchange API refused our credentials ({said})", KEY_HINT,
                          reasons.http_reason(401))
        if error == ACCESS_DENIED_ERROR:
            return Denial(ACCESS_DENIED, f"the Stack Exchange API denied access ({said})", KEY_HINT)
        return None if error is not None else super().denied(status, headers, body)

    @classmethod
    def item_id(cls, params: BaseParams, uri: str) -> int | None:
        assert isinstance(params, StackExchangeParams)
        return question_id_from_uri(uri) if host_port(uri) == params.questions_at() else None

    @classmethod
    def violations(cls, params: BaseParams, record: Record) -> list[str]:
        assert isinstance(params, StackExchangeParams)
        broken = []
        if host_port(record.uri) != params.questions_at():
            broken.append("host")
        if not {t.casefold() for t in record.labels} & {t.casefold() for t in params.tags}:
            broken.append("tags")
        score = record.meta.get("score")
        if not isinstance(score, int) or isinstance(score, bool) or score < params.min_score:
            broken.append("min_score")
        return broken

    @classmethod
    def claims(cls, record: Record) -> dict[str, object]:
        # The site (the URI's host) never changes. Tags are edited by others now and then and scores move with every
        # vote: both are constraints re-checked on the live question (one of the source's tags, >= min_score).
        found = host_port(record.uri)
        return {"site": found[0]} if found else {}

    @classmethod
    async def fetch_item(cls, fetcher: Fetcher, ctx: ParseContext, uri: str, item: int) -> Record:
        params = ctx.params
        assert isinstance(params, StackExchangeParams)
        answer = await fetcher.api(params, question_url(params, item), throttle=cls.throttle, denied=cls.denied)
        questions = parse_questions(answer.body, answer.headers).questions
        if not questions:
            raise Stop(FetchOutcome.gone(reasons.NOT_FOUND))
        question = questions[0]
        answer = await fetcher.api(params, answers_url(params, [question["accepted_answer_id"]]),
                                   throttle=cls.throttle, denied=cls.denied)
        accepted = parse_answers(answer.body, answer.headers).get(question["accepted_answer_id"])
        if accepted is None:
            raise Stop(FetchOutcome.gone(reasons.NOT_FOUND))
        record = qa_record(ctx, question, accepted)
        if record.uri != uri:
            raise Stop(FetchOutcome.gone(reasons.NOT_FOUND))
        return record


def _wrapper(body: bytes) -> dict[str, Any] | None:
    """The API's common wrapper object (items, quota, backoff, error fields), or None when the body is no JSON."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
