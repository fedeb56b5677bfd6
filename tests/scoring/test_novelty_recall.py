"""Recall and false duplicates of the novelty index on planted pairs of real text, on both backends: of pairs at
shingle Jaccard >= 0.8 at least 99.5% are found, of pairs at <= 0.7 at most 0.1% are called duplicates.

Each prose document of the offline corpus is indexed; edited copies (words substituted, deleted, inserted, or a
span replaced) aimed at a Jaccard drawn uniformly in [0.8, 0.98] or [0.35, 0.7] are probed, one copy of each
document per step, and judged by their true Jaccard (`scoring.minhash.similarity`), not by the aim."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import pytest

from schemas import hash_text, normalize_text
from scoring import constants as k
from scoring.minhash import signature, similarity
from scoring.novelty import Delivery

COPIES = 3            # copies per document on each side of the band
SEED = 19


def _rate(jaccard: float) -> float:
    """Share of words to edit so that word 5-gram shingles keep about `jaccard` (each edit breaks 5 shingles)."""
    return 1 - (2 * jaccard / (1 + jaccard)) ** (1 / k.SHINGLE)


def _edit(words: list[str], aim: float, vocab: Sequence[str], rng: random.Random) -> list[str]:
    rate = _rate(aim)
    kind = rng.choice(["substitute", "delete", "insert", "span"])
    if kind == "substitute":
        return [rng.choice(vocab) if rng.random() < rate else w for w in words]
    if kind == "delete":
        return [w for w in words if rng.random() >= rate]
    if kind == "insert":
        return [x for w in words for x in ([w, rng.choice(vocab)] if rng.random() < rate else [w])]
    span = round(len(words) * (1 - aim) / (1 + aim))
    at = rng.randrange(len(words) - span + 1)
    return words[:at] + [rng.choice(vocab) for _ in range(span)] + words[at + span:]


@pytest.fixture(scope="module")
def planted(prose) -> list[list[tuple[str, str, float]]]:
    """Steps of (original id, copy, true Jaccard): each step holds at most one copy of each document."""
    rng = random.Random(SEED)
    vocab = sorted({w for d in prose for w in d.text.split() if w.isalpha()})
    steps = []
    for round_ in range(2 * COPIES):
        low, high = (0.8, 0.98) if round_ % 2 == 0 else (0.35, 0.7)
        step = []
        for doc in prose:
            copy = normalize_text(" ".join(_edit(doc.text.split(), rng.uniform(low, high), vocab, rng)))
            step.append((doc.id, copy, similarity(doc.text, copy)))
        steps.append(step)
    return steps


@pytest.fixture(scope="module")
def verdicts(new_index: Callable[[], object], prose, planted):
    """(original id, copy, true Jaccard, verdict) of every planted copy, accepted texts looked up by key."""
    index = new_index()
    texts = {d.id: d.text for d in prose}
    index.add_many([(d.id, hash_text(d.text), signature(d.text)) for d in prose])
    found = []
    for uid, step in enumerate(planted):
        deliveries = [Delivery(f"c{uid}:{i}", uid, hash_text(copy), copy) for i, (_, copy, _) in enumerate(step)]
        judged = index.assess_step(deliveries, lambda keys: {key: texts[key] for key in keys if key in texts})
        found += [(*pair, verdict) for pair, verdict in zip(step, judged, strict=True)]
    return found, texts


def test_planted_pairs_cover_both_sides_of_the_band(verdicts) -> None:
    found, _ = verdicts
    assert sum(j >= 0.8 for _, _, j, _ in found) >= 1_000
    assert sum(j <= 0.7 for _, _, j, _ in found) >= 1_000
    assert sum(0.8 <= j < 0.85 for _, _, j, _ in found) >= 100     # the hard end of the similar side


def test_pairs_at_jaccard_08_or_more_are_found(verdicts) -> None:
    found, _ = verdicts
    similar = [v for _, _, j, v in found if j >= k.NEAR_DUP_JACCARD]
    missed = [(j, v.key) for _, _, j, v in found if j >= k.NEAR_DUP_JACCARD and v.kind is None]
    assert sum(v.kind is not None and v.novelty == 0 for v in similar) / len(similar) >= 0.995, missed


def test_pairs_at_jaccard_07_or_less_are_rarely_duplicates(verdicts) -> None:
    found, texts = verdicts
    dissimilar = [(copy, v) for _, copy, j, v in found if j <= 0.7]
    # a copy may truly be near another indexed document (licences share text): only a match it is not near counts
    false = [v for copy, v in dissimilar if v.duplicate_of in texts and similarity(texts[v.duplicate_of], copy) <= 0.7]
    assert len(false) <= 0.001 * len(dissimilar), false
