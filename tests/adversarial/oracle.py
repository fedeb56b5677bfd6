"""An independent, exact near-duplicate check: word 5-gram shingles of the case-folded text and exact Jaccard
similarity for every pair of documents that shares a shingle (pairs that share none have Jaccard 0). No MinHash, no
LSH, nothing from scoring/: what the suite uses to check the validator's novelty index did not let a duplicate in."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence

WORD = re.compile(r"\w+")
SHINGLE = 5


def shingles(text: str, n: int = SHINGLE) -> frozenset[tuple[str, ...]]:
    """Word n-grams of the case-folded text (a text shorter than n words is one shingle)."""
    words = WORD.findall(text.casefold())
    if len(words) < n:
        return frozenset([tuple(words)])
    return frozenset(tuple(words[i:i + n]) for i in range(len(words) - n + 1))


def jaccard(a: frozenset, b: frozenset) -> float:
    if not a and not b:
        return 1.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def similar_pairs(texts: Sequence[str], threshold: float) -> list[tuple[int, int, float]]:
    """(i, j, Jaccard) for every pair i < j of `texts` at or above `threshold`, computed exactly."""
    sets = [shingles(t) for t in texts]
    postings: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, s in enumerate(sets):
        for gram in s:
            postings[gram].append(i)
    shared: Counter[tuple[int, int]] = Counter()
    for docs in postings.values():
        for x, i in enumerate(docs):
            for j in docs[x + 1:]:
                shared[(i, j)] += 1
    found = []
    for (i, j), inter in shared.items():
        similarity = inter / (len(sets[i]) + len(sets[j]) - inter)
        if similarity >= threshold:
            found.append((i, j, similarity))
    return sorted(found)


def best_match(text: str, corpus: Sequence[frozenset]) -> float:
    """The highest exact Jaccard between `text` and any shingle set of `corpus` (0.0 for an empty corpus)."""
    mine = shingles(text)
    return max((jaccard(mine, other) for other in corpus), default=0.0)
