"""Scoring: the pure core that decides who earns — quality signals, relevance, the near-duplicate novelty index,
freshness, credibility and the reward. No I/O but the novelty snapshot file; every constant in
`scoring.constants`. See docs/scoring.md ("How miners are scored").
"""

from scoring import _build

_build.check()  # before the modules that need the compiled parts

# ruff: noqa: E402
from scoring.credibility import update_credibility
from scoring.freshness import freshness
from scoring.identity import identity
from scoring.minhash import estimated_jaccard, signature, similarity
from scoring.novelty import Delivery, NoveltyIndex, NoveltyVerdict
from scoring.quality import QualityReport, assess_quality, assess_quality_many
from scoring.relevance import RelevanceReport, assess_relevance
from scoring.reward import ema, normalize_weights, record_value, size_factor, step_score

__all__ = [
    "Delivery", "NoveltyIndex", "NoveltyVerdict", "QualityReport", "RelevanceReport", "assess_quality",
    "assess_quality_many", "assess_relevance", "ema", "estimated_jaccard", "freshness", "normalize_weights",
    "identity", "record_value", "signature", "similarity", "size_factor", "step_score", "update_credibility",
]
