"""A StackExchange API 2.3 (`/api/2.3/...`) over the language and stdlib articles.

Every article is a question whose accepted answer is the article's text: the question quotes the
article's first paragraph and asks for an explanation; the accepted answer is the rest of the article;
a second, lower-scored answer gives its last paragraph. Routes, in the real wrapper
(`items`, `has_more`, `quota_max`, `quota_remaining`) and with the real field names:
`/questions`, `/questions/{ids}`, `/questions/{ids}/answers`, `/answers/{ids}`, `/search`,
`/search/advanced`. Parameters: `site` (required), `tagged` (';'-separated, all must match), `sort`
(activity, creation, votes; hot/week/month act as activity), `order`, `min`/`max`, `fromdate`/`todate`,
`page`, `pagesize`, `filter` (`default`, `withbody`, or any custom '!…' filter, which we treat as
body + answers). Errors are HTTP 400 with `error_id`, `error_message`, `error_name`.
Question pages (HTML) live at `/questions/{id}/{slug}`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from html import escape
from typing import Any

from glean.sampleweb.constants import (
    ANSWER_ID_OFFSET,
    SE_DEFAULT_PAGESIZE,
    SE_LICENSE,
    SE_MAX_IDS,
    SE_MAX_PAGESIZE,
    SE_QUOTA_MAX,
    SE_TAGS,
)
from glean.sampleweb.corpus import Article, slugify
from glean.sampleweb.reply import Reply
from glean.sampleweb.site import body_html
from glean.sampleweb.state import Snapshot

_QUESTION_TITLES = {
    "language": ("How does {t} work in Python?", "What does the language reference say about {t}?",
                 "Can someone explain {t}?"),
    "stdlib": ("What is {t} for?", "How do I use {t}?", "Where is {t} documented?"),
}
_ASKS = ("I am reading the documentation and I am not sure I understand this part:",
         "The documentation starts with the passage below, and I would like the full picture:",
         "I found this in the docs and want to understand the details:")
_CLOSING = "Could someone explain how this works in practice, ideally with an example?"
_FIRST_ANSWER_DELAY = timedelta(hours=1)
_SECOND_ANSWER_DELAY = timedelta(hours=3)


class SeError(Exception):
    """An API error: HTTP 400 with the real error body."""

    def __init__(self, message: str, name: str = "bad_parameter", error_id: int = 400) -> None:
        super().__init__(message)
        self.message, self.name, self.error_id = message, name, error_id


def _epoch(moment: datetime | None) -> int:
    return int(moment.timestamp()) if moment else 0


def _se_escape(text: str) -> str:
    """Titles come HTML-encoded from the real API, with ' as &#39; and \" as &quot;."""
    return escape(text, quote=False).replace('"', "&quot;").replace("'", "&#39;")


def _topic(article: Article) -> str:
    title = article.title
    return title[0].lower() + title[1:] if title.startswith("The ") else title


def question_title(article: Article) -> str:
    templates = _QUESTION_TITLES[article.area]
    return templates[article.page_id % len(templates)].format(t=_topic(article))


def question_link(article: Article, base_url: str) -> str:
    return f"{base_url}/questions/{article.page_id}/{slugify(question_title(article))}"


def qa_articles(snap: Snapshot) -> list[Article]:
    return [a for a in snap.articles.values() if a.area in SE_TAGS]


def _first_paragraph_index(article: Article) -> int:
    return next((i for i, b in enumerate(article.blocks) if b.kind == "p"), 0)


def question_body(article: Article) -> str:
    ask = _ASKS[article.page_id % len(_ASKS)]
    first = article.blocks[_first_paragraph_index(article)] if article.blocks else None
    quote = f"<blockquote>\n<p>{escape(first.text)}</p>\n</blockquote>\n" if first is not None else ""
    return f"<p>{escape(ask)}</p>\n{quote}<p>{escape(_CLOSING)}</p>\n"


def accepted_body(article: Article) -> str:
    skip = _first_paragraph_index(article)
    rest = article.blocks[:skip] + article.blocks[skip + 1:]
    return body_html(rest) + "\n"


def second_body(article: Article) -> str:
    paragraphs = [b for b in article.blocks if b.kind == "p"]
    last = paragraphs[-1].text if paragraphs else article.title
    return f"<p>In short:</p>\n<blockquote>\n<p>{escape(last)}</p>\n</blockquote>\n"


def _owner(seed: int, base_url: str) -> dict[str, Any]:
    user_id = 1000 + seed % 97
    name = f"pydoc-reader-{user_id}"
    return {"account_id": 50_000 + user_id, "reputation": 100 + (seed * 37) % 9000, "user_id": user_id,
            "user_type": "registered", "profile_image": f"{base_url}/users/{user_id}/avatar.png",
            "display_name": name, "link": f"{base_url}/users/{user_id}/{name}"}


def _tags(article: Article) -> list[str]:
    own = slugify(article.slug)[:25]
    return sorted({"python", SE_TAGS[article.area], own})


def _score(article: Article) -> int:
    return 5 + (article.page_id * 7919) % 300


def question_of_answer(answer_id: int) -> int:
    """The question id an answer id belongs to (answer ids are derived from question ids)."""
    return (answer_id - ANSWER_ID_OFFSET) // 2


def answers_of(article: Article, base_url: str, with_body: bool) -> list[dict[str, Any]]:
    """The two answers of an article's question, accepted first."""
    accepted_id = ANSWER_ID_OFFSET + article.page_id * 2
    published = article.published_at or article.modified_at
    out = []
    for answer_id, delay, accepted, body in (
        (accepted_id, _FIRST_ANSWER_DELAY, True, accepted_body(article)),
        (accepted_id + 1, _SECOND_ANSWER_DELAY, False, second_body(article)),
    ):
        created = _epoch(published + delay) if published else 0
        item: dict[str, Any] = {
            "owner": _owner(answer_id, base_url), "is_accepted": accepted,
            "score": _score(article) // (1 if accepted else 4), "last_activity_date": created,
            "creation_date": created, "answer_id": answer_id, "question_id": article.page_id,
            "content_license": SE_LICENSE,
        }
        if accepted and article.revision > 1:  # edits change the article, i.e. the accepted answer
            item["last_edit_date"] = item["last_activity_date"] = max(created, _epoch(article.modified_at))
        if with_body:
            item["body"] = body
        out.append(item)
    return out


def question_item(article: Article, base_url: str, *, with_body: bool, with_answers: bool) -> dict[str, Any]:
    answers = answers_of(article, base_url, with_body)
    item: dict[str, Any] = {
        "tags": _tags(article), "owner": _owner(article.page_id, base_url), "is_answered": True,
        "view_count": 100 + (article.page_id * 104_729) % 50_000, "accepted_answer_id": answers[0]["answer_id"],
        "answer_count": len(answers), "score": _score(article),
        "last_activity_date": max(a["last_activity_date"] for a in answers),
        "creation_date": _epoch(article.published_at), "question_id": article.page_id,
        "content_license": SE_LICENSE, "link": question_link(article, base_url),
        "title": _se_escape(question_title(article)),
    }
    if article.revision > 1:
        item["last_edit_date"] = item["last_activity_date"]
    if with_body:
        item["body"] = question_body(article)
    if with_answers:
        item["answers"] = answers
    return item


# --- request handling ---------------------------------------------------------------------------------

def _filter(params: Mapping[str, str]) -> tuple[bool, bool]:
    """(with_body, with_answers) for the `filter` parameter."""
    name = params.get("filter", "default")
    if name in ("default", ""):
        return False, False
    if name == "withbody":
        return True, False
    if name.startswith("!"):
        return True, True
    raise SeError("filter", "bad_parameter")


def _int(params: Mapping[str, str], name: str, default: int | None = None) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)  # type: ignore[arg-type]
    except ValueError:
        raise SeError(name) from None


def _ids(raw: str, limit: int = SE_MAX_IDS) -> list[int]:
    parts = [p for p in raw.split(";") if p]
    if not parts or len(parts) > limit or not all(p.isdigit() for p in parts):
        raise SeError("ids")
    return [int(p) for p in parts]


_SORT_FIELDS: dict[str, Callable[[dict[str, Any]], int]] = {
    "activity": lambda q: q["last_activity_date"],
    "creation": lambda q: q["creation_date"],
    "votes": lambda q: q["score"],
}


def _sorted(items: list[dict[str, Any]], params: Mapping[str, str]) -> list[dict[str, Any]]:
    sort = params.get("sort", "activity")
    if sort in ("hot", "week", "month", "relevance"):
        sort = "activity"
    if sort not in _SORT_FIELDS:
        raise SeError("sort")
    key = _SORT_FIELDS[sort]
    order = params.get("order", "desc")
    if order not in ("asc", "desc"):
        raise SeError("order")
    low, high = _int(params, "min"), _int(params, "max")
    chosen = [i for i in items if (low is None or key(i) >= low) and (high is None or key(i) <= high)]
    since, until = _int(params, "fromdate"), _int(params, "todate")
    chosen = [i for i in chosen if (since is None or i["creation_date"] >= since)
              and (until is None or i["creation_date"] <= until)]
    # ties broken by id (an answer's own id before its question id), so every page order is stable
    return sorted(chosen, key=lambda i: (key(i), i.get("answer_id", 0), i["question_id"]), reverse=order == "desc")


class StackExchangeApi:
    """Answers /api/2.3/... requests; counts the quota down like the real service (reset on restart)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._used = 0

    def _wrap(self, items: list[dict[str, Any]], params: Mapping[str, str]) -> Reply:
        page = _int(params, "page", 1) or 1
        size = _int(params, "pagesize", SE_DEFAULT_PAGESIZE)
        if page < 1:
            raise SeError("page")
        if size is None or not 0 <= size <= SE_MAX_PAGESIZE:
            raise SeError("pagesize")
        window = items[(page - 1) * size: page * size]
        with self._lock:
            self._used += 1
            remaining = max(0, SE_QUOTA_MAX - self._used)
        return Reply.json({"items": window, "has_more": page * size < len(items), "quota_max": SE_QUOTA_MAX,
                           "quota_remaining": remaining})

    def handle(self, route: str, params: Mapping[str, str], snap: Snapshot, base_url: str) -> Reply:
        """`route` is the path after /api/2.3 (e.g. "/questions/10001;10002/answers")."""
        try:
            if not params.get("site"):
                raise SeError("site is required")
            with_body, with_answers = _filter(params)
            return self._wrap(self._items(route, params, snap, base_url, with_body, with_answers), params)
        except SeError as exc:
            return Reply.json({"error_id": exc.error_id, "error_message": exc.message, "error_name": exc.name},
                              status=400)

    def _items(self, route: str, params: Mapping[str, str], snap: Snapshot, base_url: str,
               with_body: bool, with_answers: bool) -> list[dict[str, Any]]:
        parts = [p for p in route.split("/") if p]
        articles = qa_articles(snap)
        by_id = {a.page_id: a for a in articles}

        def questions(chosen: list[Article]) -> list[dict[str, Any]]:
            return _sorted([question_item(a, base_url, with_body=with_body, with_answers=with_answers)
                            for a in chosen], params)

        if parts == ["questions"]:
            return questions(_tagged(articles, params.get("tagged")))
        if len(parts) == 2 and parts[0] == "questions":
            return questions([by_id[i] for i in _ids(parts[1]) if i in by_id])
        if len(parts) == 3 and parts[0] == "questions" and parts[2] == "answers":
            chosen = [by_id[i] for i in _ids(parts[1]) if i in by_id]
            return _sorted([ans for a in chosen for ans in answers_of(a, base_url, with_body)], params)
        if len(parts) == 2 and parts[0] == "answers":
            wanted = set(_ids(parts[1]))
            owners = [by_id[q] for q in sorted({question_of_answer(i) for i in wanted}) if q in by_id]
            found = [ans for a in owners for ans in answers_of(a, base_url, with_body) if ans["answer_id"] in wanted]
            return _sorted(found, params)
        if parts in (["search"], ["search", "advanced"]):
            return questions(_search(articles, params, advanced=len(parts) == 2))
        raise SeError("no method found with this name", "no_method", 404)


def _tagged(articles: list[Article], tagged: str | None) -> list[Article]:
    wanted = {t.strip().lower() for t in (tagged or "").split(";") if t.strip()}
    return [a for a in articles if wanted <= set(_tags(a))]


def _search(articles: list[Article], params: Mapping[str, str], *, advanced: bool) -> list[Article]:
    if not advanced and not (params.get("intitle") or params.get("tagged")):
        raise SeError("one of tagged or intitle must be set")
    chosen = _tagged(articles, params.get("tagged"))
    if params.get("intitle"):
        needle = params["intitle"].lower()
        chosen = [a for a in chosen if needle in question_title(a).lower()]
    if advanced and params.get("q"):
        words = params["q"].lower().split()
        chosen = [a for a in chosen if all(w in (a.title + " " + a.plain_text()).lower() for w in words)]
    return chosen


def question_page(article: Article, base_url: str) -> Reply:
    """The question page in the layout of a Q&A site: question, then answers, accepted first."""
    title = escape(question_title(article))
    answers = answers_of(article, base_url, with_body=True)
    answer_html = "".join(
        f'<div id="answer-{a["answer_id"]}" class="answer{" accepted-answer" if a["is_accepted"] else ""}" '
        f'data-answerid="{a["answer_id"]}"><div class="votecell">{a["score"]}</div>'
        f'<div class="s-prose js-post-body" itemprop="text">{a["body"]}</div></div>' for a in answers)
    page = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{title} - Python Q&amp;A</title>\n"
            f'<link rel="canonical" href="{escape(question_link(article, base_url))}">\n</head>\n<body>\n'
            '<header class="top-bar"><a href="/questions">Questions</a> <a href="/tags">Tags</a> '
            '<a href="/users">Users</a></header>\n'
            f'<div id="content"><div id="question-header"><h1 itemprop="name">{title}</h1></div>\n'
            f'<div id="question" class="question" data-questionid="{article.page_id}">'
            f'<div class="s-prose js-post-body" itemprop="text">{question_body(article)}</div>'
            f'<div class="post-taglist">{" ".join(_tags(article))}</div></div>\n'
            f'<div id="answers"><h2>{len(answers)} Answers</h2>{answer_html}</div></div>\n'
            "<footer><p>The text is from the Python documentation, © Python Software Foundation, "
            f"licensed under the PSF License ({SE_LICENSE}).</p></footer>\n</body>\n</html>\n")
    return Reply.html(page)
