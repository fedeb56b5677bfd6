"""Which of a step's novel records are re-fetched: per (miner, source) max(sample_size, ceil(sqrt(n))) records, chosen
with a seed the miner could not know, within each source kind's re-fetch budget per step shared by all miners of the
step (the validator stays polite to the sources it checks). Contested records (new versions of accepted pages and
rivals: validator/versions.py) come first within VERSION_BUDGET_SHARE of each budget, the random sample takes the
rest, and contested records still unplanned take what the random sample left."""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence

from scoring.evidence import sample_size
from scrapers.kinds import KINDS
from validator import constants as K
from validator.verification import choose_sample, sample_seed


def refetch_budget(source: str) -> int:
    """Re-fetches per step the kind `source` allows over all miners (its `refetch_budget`, else the default)."""
    kind = KINDS.get(source)
    budget = getattr(kind, "refetch_budget", None) if kind is not None else None
    return K.VERIFY_REFETCH_BUDGET if budget is None else int(budget)


def share_budget(demands: Mapping[int, int], budget: int, priority: Mapping[int, int]) -> dict[int, int]:
    """Split `budget` over miners wanting `demands[uid]` checks, max-min fair: the smallest demands are met first
    and what they leave goes to the rest. When there is not one check for everyone, miners with a lower `priority`
    value (less evidence so far) come first."""
    order = sorted(demands, key=lambda uid: (priority.get(uid, 0), demands[uid], uid))
    given: dict[int, int] = {}
    left = budget
    for i, uid in enumerate(order):
        fair = -(-left // (len(order) - i)) if left > 0 else 0  # ceil: the remainder goes to the earlier ones
        given[uid] = min(demands[uid], fair, left)
        left -= given[uid]
    return given


def plan(groups: Mapping[int, Mapping[str, Sequence[str]]], seed_hash: str, step: int, minimum: int,
         hotkeys: Mapping[int, str], evidence: Mapping[int, Mapping[str, Sequence[bool]]],
         spent: Mapping[str, int] | None = None) -> dict[int, list[str]]:
    """uid -> the keys to re-fetch, from each miner's keys by source (`groups`), their evidence so far and the
    step's seed, within what is left of each kind's budget after `spent` re-fetches."""
    chosen: dict[int, list[str]] = defaultdict(list)
    by_source: dict[str, dict[int, int]] = defaultdict(dict)
    for uid, sources in groups.items():
        for source, keys in sources.items():
            by_source[source][uid] = sample_size(len(keys), len(keys), minimum)
    for source, demands in sorted(by_source.items()):
        priority = {uid: len(evidence.get(uid, {}).get(source, ())) for uid in demands}
        left = max(0, refetch_budget(source) - (spent or {}).get(source, 0))
        for uid, size in share_budget(demands, left, priority).items():
            keys = list(groups[uid][source])
            seed = hashlib.sha256(sample_seed(seed_hash, hotkeys[uid], step) + source.encode()).digest()
            chosen[uid].extend(keys[i] for i in choose_sample(keys, size, seed))
    return dict(chosen)


def plan_forced(wanted: Mapping[int, Mapping[str, Sequence[str]]], used: Mapping[str, int],
                share: float = 1.0) -> dict[int, list[str]]:
    """uid -> the contested keys (validator/versions.py) to re-fetch beyond the random sample: per source, at most
    `share` of the kind's budget and what `used` re-fetches left of it, shared max-min fair over the miners, each
    miner's keys in the order given."""
    chosen: dict[int, list[str]] = defaultdict(list)
    by_source: dict[str, dict[int, int]] = defaultdict(dict)
    for uid, sources in wanted.items():
        for source, keys in sources.items():
            by_source[source][uid] = len(keys)
    for source, demands in sorted(by_source.items()):
        budget = refetch_budget(source)
        left = max(0, min(math.ceil(budget * share), budget - used.get(source, 0)))
        for uid, size in share_budget(demands, left, {}).items():
            chosen[uid].extend(list(wanted[uid][source])[:size])
    return dict(chosen)


def used_budget(chosen: Mapping[int, Sequence[str]], groups: Mapping[int, Mapping[str, Sequence[str]]],
                ) -> dict[str, int]:
    """source -> re-fetches the random sample `chosen` takes of its budget."""
    used: dict[str, int] = defaultdict(int)
    for uid, keys in chosen.items():
        picked = set(keys)
        for source, members in groups.get(uid, {}).items():
            used[source] += sum(1 for key in members if key in picked)
    return dict(used)
