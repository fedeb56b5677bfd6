"""Credibility: how far a miner's data can be trusted, learned from verification outcomes.

Only verified passes raise it (an EMA towards 1), a failure cuts it hard (a multiplicative penalty), and
"unverified" (nobody could check the record: gone, not of its source's shape) or "unknown" (the validator's own
trouble: timeout, 429, 5xx, DNS) changes nothing: what cannot be checked is simply not paid (scoring/evidence.py).
The validator applies one outcome per batch, not one per sampled record, so a big batch moves it no faster.
A new miner starts at INITIAL_CREDIBILITY, so a miner whose samples can never be verified never earns much.
"""

from __future__ import annotations

from collections.abc import Sequence

from scoring import constants as k

OUTCOMES = ("pass", "fail", "unverified", "unknown")


def update_credibility(c: float, outcomes: Sequence[str]) -> float:
    """Credibility after these verification outcomes, applied in order; stays in [0, 1]."""
    if not 0.0 <= c <= 1.0:
        raise ValueError(f"credibility must be in [0, 1], got {c}")
    for outcome in outcomes:
        if outcome == "pass":
            c += k.CREDIBILITY_ALPHA * (1.0 - c)
        elif outcome == "fail":
            c *= 1.0 - k.FAIL_PENALTY
        elif outcome not in ("unknown", "unverified"):
            raise ValueError(f"unknown verification outcome {outcome!r}; expected one of {OUTCOMES}")
    return min(1.0, max(0.0, c))
