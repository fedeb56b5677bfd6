"""Credibility: how far a miner's data can be trusted, learned from verification outcomes.

Only verified passes raise it (an EMA towards 1), a failure cuts it hard (a multiplicative penalty), and an
"unknown" outcome (the validator could not check: timeout, 429, 5xx, DNS, a page that is gone) changes nothing.
A new miner starts at INITIAL_CREDIBILITY, so a miner whose samples can never be verified never earns much.
"""

from __future__ import annotations

from collections.abc import Sequence

from scoring import constants as k

OUTCOMES = ("pass", "fail", "unknown")


def update_credibility(c: float, outcomes: Sequence[str]) -> float:
    """Credibility after these verification outcomes, applied in order; stays in [0, 1]."""
    if not 0.0 <= c <= 1.0:
        raise ValueError(f"credibility must be in [0, 1], got {c}")
    for outcome in outcomes:
        if outcome == "pass":
            c += k.CREDIBILITY_ALPHA * (1.0 - c)
        elif outcome == "fail":
            c *= 1.0 - k.FAIL_PENALTY
        elif outcome != "unknown":
            raise ValueError(f"unknown verification outcome {outcome!r}; expected one of {OUTCOMES}")
    return min(1.0, max(0.0, c))
