"""Shared fixtures of the scoring tests: the offline corpus and datatrove's verdicts on it (the test oracle)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.scoring.backends import BACKENDS, index_factory
from tests.scoring.corpus import Doc, build_corpus

FAMILIES = ("gopher_quality", "gopher_repetition", "c4", "fineweb")


@dataclass(frozen=True)
class Oracle:
    """datatrove's verdict per filter family, and its word tokens, for one document."""

    verdicts: dict[str, bool]
    tokens: list[str]


def datatrove_filters() -> dict[str, object]:
    filters = pytest.importorskip("datatrove.pipeline.filters")
    return {
        "gopher_quality": filters.GopherQualityFilter(),
        "gopher_repetition": filters.GopherRepetitionFilter(),
        "c4": filters.C4QualityFilter(),
        "fineweb": filters.FineWebQualityFilter(),
    }


def datatrove_verdicts(text: str, filters: dict[str, object]) -> dict[str, bool]:
    from datatrove.data import Document

    # A fresh Document per filter: C4QualityFilter rewrites doc.text.
    return {name: f.filter(Document(text=text, id="doc")) is True for name, f in filters.items()}


@pytest.fixture(scope="session")
def corpus() -> tuple[Doc, ...]:
    return build_corpus()


@pytest.fixture(scope="session")
def oracle(corpus: tuple[Doc, ...]) -> dict[str, Oracle]:
    """datatrove 0.10.1 run once over the corpus (the slowest part of the suite)."""
    filters = datatrove_filters()
    from datatrove.utils.text import split_into_words

    return {d.id: Oracle(datatrove_verdicts(d.text, filters), split_into_words(d.text)) for d in corpus}


@pytest.fixture(scope="module")
def prose(corpus: tuple[Doc, ...]) -> list[Doc]:
    """The corpus's good prose of at least 150 words: what the novelty tests index and copy."""
    return [d for d in corpus if d.good and len(d.text.split()) >= 150]


@pytest.fixture(scope="module", params=BACKENDS)
def new_index(request: pytest.FixtureRequest):
    """Empty novelty indexes of each backend: the tests using it run against the in-memory and the PostgreSQL one."""
    yield from index_factory(request)
