"""The reward: per-record value, per-step miner score, score EMA and normalised weights.

    value(r) = quality * relevance * novelty * freshness * desirability(domain) * size
    step score s_m = c_m ** CREDIBILITY_EXPONENT * sum of value(r) over the miner's records of the step
    miner score = EMA of step scores;  weights = scores / sum(scores)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from scoring import constants as k


def size_factor(words: int, cap: int) -> float:
    """min(words, cap) / cap: length pays, but only up to the domain's cap."""
    if cap <= 0:
        raise ValueError(f"size cap must be positive, got {cap}")
    return min(max(words, 0), cap) / cap


def _unit(name: str, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return value


def record_value(quality: float, relevance: float, novelty: float, freshness: float, desirability: float,
                 size: float) -> float:
    """The value one accepted record earns its miner (before credibility)."""
    if not 0.0 < desirability <= 10.0:
        raise ValueError(f"desirability must be in (0, 10], got {desirability}")
    return (_unit("quality", quality) * _unit("relevance", relevance) * _unit("novelty", novelty)
            * _unit("freshness", freshness) * desirability * _unit("size", size))


def step_score(credibility: float, values: Iterable[float]) -> float:
    """c ** 2.5 * sum(values): credibility weighs more than volume."""
    total = 0.0
    for value in values:
        if value < 0 or not math.isfinite(value):
            raise ValueError(f"record values must be finite and non-negative, got {value}")
        total += value
    return _unit("credibility", credibility) ** k.CREDIBILITY_EXPONENT * total


def ema(previous: float, new: float, alpha: float) -> float:
    """Exponential moving average: (1 - alpha) * previous + alpha * new."""
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")
    return (1.0 - alpha) * previous + alpha * new


def normalize_weights(scores: Mapping[int, float]) -> dict[int, float]:
    """Scores scaled to sum to 1, for every uid given. Negative or non-finite scores count as 0. When no uid has
    a positive score the result is empty: there is nothing to reward, and the caller decides what to set."""
    clean = {uid: (s if math.isfinite(s) and s > 0 else 0.0) for uid, s in scores.items()}
    total = math.fsum(clean.values())
    if total <= 0:
        return {}
    return {uid: s / total for uid, s in clean.items()}
