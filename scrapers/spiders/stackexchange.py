"""Stack Exchange spider: questions per tag (pages), then their accepted answers in batches of up to 100."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from scrapy import Request
from scrapy.http import Response

from scrapers.params import StackExchangeParams
from scrapers.sources import stackexchange
from scrapers.sources.base import ParseError
from scrapers.spiders.base import SourceSpider, response_headers

MAX_BACKOFF = 120.0  # seconds; the API's `backoff` asks us to wait before the next call of the same method


class StackExchangeSpider(SourceSpider):
    kind = "stackexchange"
    params: StackExchangeParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.question_ids: set[int] = set()

    async def start(self) -> AsyncIterator[Request]:
        for tag in self.params.tags:
            yield self._questions(tag, 1)

    def _questions(self, tag: str, page: int) -> Request:
        return self.api_request(stackexchange.questions_url(self.params, tag, page), self.parse_questions,
                                cb_kwargs={"tag": tag, "page": page}, priority=10)

    async def parse_questions(self, response: Response, tag: str, page: int) -> AsyncIterator[Any]:
        found = self.parse_inline(stackexchange.parse_questions, response.body, response_headers(response),
                                  self.params.min_score)
        if found is None:
            return
        if found.backoff:
            await asyncio.sleep(min(found.backoff, MAX_BACKOFF))
        fresh = {}
        for question in found.questions:
            if len(self.question_ids) >= self.params.limit:
                break
            if question["question_id"] not in self.question_ids:
                self.question_ids.add(question["question_id"])
                fresh[question["accepted_answer_id"]] = question
        if fresh:
            yield self.api_request(stackexchange.answers_url(self.params, sorted(fresh)), self.parse_answers,
                                   cb_kwargs={"questions": fresh})
        if found.has_more and len(self.question_ids) < self.params.limit and self.budget_left():
            yield self._questions(tag, page + 1)

    def parse_answers(self, response: Response, questions: dict[int, dict[str, Any]]) -> Any:
        answers = self.parse_inline(stackexchange.parse_answers, response.body, response_headers(response))
        if answers is None:
            return
        for answer_id, question in questions.items():
            answer = answers.get(answer_id)
            if answer is None:
                self.count("answer_missing")
                continue
            try:
                yield stackexchange.qa_record(self.ctx, question, answer)
            except ParseError as exc:
                self.count(exc.reason)
