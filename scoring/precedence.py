"""Who was first: how the credit for content several miners delivered in the same step is split between them.

A validator sees a miner's records only when it visits it, so two miners that both hold a record at the visit tie,
whoever fetched it first. What a validator can observe is precedence: a record that miner A delivered while miner B,
visited too, had nothing of it, and that B delivers only later. A live copier (or a slower crawler of the same pages)
is always the later one, an honest miner never is; two independent miners are first about equally often.

`tie_shares` splits a tie in proportion to w_i = prod over the other tied miners j of (f_ij + p) / (f_ij + f_ji + 2p),
where f_ij counts the records i delivered before j and p is PRECEDENCE_PRIOR: with no evidence between two miners the
pair splits evenly (the design's rule), a miner that was never first against another gets almost nothing of their
ties, and a group of hotkeys serving one stream shares what a single miner would get (never more).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from scoring import constants as k


def pair_weight(first: int, later: int, prior: float = k.PRECEDENCE_PRIOR) -> float:
    """How much of a two-way tie goes to a miner that was first `first` times and later `later` times."""
    if first < 0 or later < 0:
        raise ValueError(f"precedence counts must be non-negative, got {first} and {later}")
    return (first + prior) / (first + later + 2 * prior)


def tie_shares(miners: Sequence[str], firsts: Callable[[str, str], int],
               prior: float = k.PRECEDENCE_PRIOR) -> dict[str, float]:
    """Each tied miner's share of one cluster's credit (sums to 1); `firsts(a, b)` counts records a delivered
    before b. Without any evidence the shares are equal."""
    unique = list(dict.fromkeys(miners))
    if len(unique) == 1:
        return {unique[0]: 1.0}
    logs = {}
    for a in unique:
        logs[a] = math.fsum(math.log(pair_weight(firsts(a, b), firsts(b, a), prior)) for b in unique if b != a)
    top = max(logs.values())
    weights = {a: math.exp(v - top) for a, v in logs.items()}
    total = math.fsum(weights.values())
    return {a: w / total for a, w in weights.items()}
