"""Pay for evidence: how much of a miner's batch of one source is paid, from its recent verification checks.

A sampled record that the validator's own re-fetch confirms is a pass; one nobody can check (gone, not of the
source's shape, changed beyond the pass band) is unverified. The verified fraction is a one-sided 95% Wilson lower
bound over the miner's last EVIDENCE_WINDOW resolved checks of the source (this batch's included), so a lucky
sample of one batch proves little and records that cannot be checked never raise the pay of those that can:

    bound   = wilson_lower_bound(passes, checks)          # over the window
    paid    = 0                                   if bound < EVIDENCE_FLOOR
            = min(1, bound / EVIDENCE_FULL_PAY)   otherwise
    sample  = min(max(SAMPLE_MIN, ceil(sqrt(n))), budget, n)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from scoring import constants as k


def wilson_lower_bound(passes: int, checks: int, z: float = k.EVIDENCE_Z) -> float:
    """The Wilson score lower bound of a pass rate from `passes` of `checks` (0 with no checks). Five lines of
    closed-form math: no statistics library is worth its import here."""
    if not 0 <= passes <= checks:
        raise ValueError(f"passes must be in [0, checks], got {passes} of {checks}")
    if checks == 0:
        return 0.0
    p, n, z2 = passes / checks, checks, z * z
    centre = p + z2 / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, (centre - spread) / (1 + z2 / n))


def paid_fraction(passes: int, checks: int) -> float:
    """The share of a batch's value paid for a (miner, source) with this evidence: 0 below the floor."""
    bound = wilson_lower_bound(passes, checks)
    if bound < k.EVIDENCE_FLOOR:
        return 0.0
    return min(1.0, bound / k.EVIDENCE_FULL_PAY)


def sample_size(records: int, budget: int, minimum: int = k.SAMPLE_MIN) -> int:
    """Records of one (miner, source) batch to re-fetch: grows with the batch as its square root, never fewer
    than `minimum`, never more than the batch or the re-fetch `budget` left."""
    if records < 0 or budget < 0 or minimum < 1:
        raise ValueError(f"records and budget must be >= 0 and minimum >= 1, got {records}, {budget}, {minimum}")
    return min(max(minimum, math.isqrt(records - 1) + 1 if records else 0), budget, records)


def window_counts(new: Sequence[bool], prior: Sequence[bool], size: int = k.EVIDENCE_WINDOW) -> tuple[int, int]:
    """(passes, checks) over the newest `size` resolved checks: this batch's `new` ones and the `prior` ones
    (newest first) that still fit."""
    kept = list(new)[-size:] + list(prior)[: max(0, size - len(new))]
    return sum(kept), len(kept)
