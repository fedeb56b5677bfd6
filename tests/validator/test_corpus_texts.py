"""The validator settles an unsure near match by the accepted text: a copy the 128-slot estimate would wrongly call
a duplicate (true Jaccard under 0.8) is new, and one it would wrongly let through (0.8 or more) is a duplicate, on
both novelty backends."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from schemas import hash_text, normalize_text
from schemas.record import Record
from scoring import Delivery, NoveltyIndex, signature
from scoring import constants as k
from scoring.minhash import pack_digests, packed_jaccard, parse_signature, similarity
from tests.scoring.backends import BACKENDS, fresh_database
from tests.scoring.corpus import build_corpus
from validator.corpus import Corpus
from validator.store import Accepted, MinerCommit, ValidatorStore


def _estimate(a: str, b: str) -> float:
    pa, pb = (pack_digests(parse_signature(signature(t))[1][None, :]) for t in (a, b))
    return float(packed_jaccard(pa[0], pb)[0])


def _find(want: Callable[[float, float], bool]) -> tuple[str, str]:
    """(original, copy with a few words substituted) of real prose whose (true Jaccard, estimate) `want` accepts."""
    prose = [d.text for d in build_corpus() if d.good and len(d.text.split()) >= 150]
    rng = random.Random(1)
    vocab = sorted({w for text in prose[:50] for w in text.split() if w.isalpha()})
    for text in prose[:60]:
        words = text.split()
        for _ in range(40):
            rate = rng.uniform(0.015, 0.03)
            copy = normalize_text(" ".join(rng.choice(vocab) if rng.random() < rate else w for w in words))
            if want(similarity(text, copy), _estimate(text, copy)):
                return text, copy
    raise AssertionError("no such pair in the corpus")


@pytest.fixture(params=BACKENDS)
def corpus_of(request: pytest.FixtureRequest, tmp_path: Path):
    """A Corpus of the backend `request.param` over a fresh store, holding the texts it is given as accepted."""
    if request.param == "memory":
        url = f"sqlite:///{tmp_path / 'v.sqlite'}"
    else:
        url = fresh_database(request.getfixturevalue("postgres_url"))
    store = ValidatorStore.open(url)
    store.sync_miners({1: "hk"}, 0.1)

    def make(*texts: str) -> Corpus:
        records = [Record.build(uri=f"https://example.org/{i}", text=t, source="web", domain="d1")
                   for i, t in enumerate(texts)]
        accepted = [Accepted(record=r, quality=1, relevance=1, novelty=1, freshness=1, size=1, desirability=1,
                             value=1, signals={}, minhash=signature(r.text)) for r in records]
        corpus = Corpus(store, tmp_path / "novelty.snapshot", backend=request.param)
        corpus.open()
        corpus.add(store.commit_miner(MinerCommit(uid=1, hotkey="hk", step=1, validator_hotkey="v", credibility=0.1,
                                                  score=0, step_score=0, accepted=accepted)))
        return corpus

    yield make
    store.close()


def _verdict(corpus: Corpus, text: str):
    record = Record.build(uri="https://example.org/copy", text=text, source="web", domain="d1")
    [verdict] = corpus.assess([Delivery("9:1", 9, record.content_hash, record.text)])
    return verdict


def _estimate_alone(original: str, copy: str) -> str | None:
    """How the index judges the copy on the estimate alone (no accepted texts to look up)."""
    index = NoveltyIndex.rebuild([("0", hash_text(original), signature(original))])
    [verdict] = index.assess_step([Delivery("x", 9, hash_text(copy), copy)])
    return verdict.kind


def test_a_copy_under_08_that_the_estimate_would_refuse_is_new(corpus_of) -> None:
    original, copy = _find(lambda j, est: j < k.NEAR_DUP_JACCARD and k.VERIFY_JACCARD <= est < k.NEAR_UNSURE_HIGH)
    assert _estimate_alone(original, copy) == "near"
    assert _verdict(corpus_of(original), copy).kind is None


def test_a_copy_at_08_or_more_that_the_estimate_would_let_through_is_a_duplicate(corpus_of) -> None:
    original, copy = _find(lambda j, est: j >= k.NEAR_DUP_JACCARD and k.NEAR_UNSURE_LOW <= est < k.VERIFY_JACCARD)
    assert _estimate_alone(original, copy) is None
    verdict = _verdict(corpus_of(original), copy)
    assert (verdict.kind, verdict.novelty) == ("near", 0.0)
