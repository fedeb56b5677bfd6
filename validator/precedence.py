"""Precedence between miners as this validator observed it, and the split of ties it drives (scoring.precedence).

Evidence that miner A was first to a record and miner B later: B delivers a duplicate of a record accepted from A,
and B was either visited in full (every domain drained) in or after the step that accepted A's record, or joined the
subnet after it. A miner the validator failed to visit, or could not visit to the end, gives no evidence against it:
a miner that was down does not lose ties to whoever copied it meanwhile.

The counts and each miner's last fully drained step live in the validator's state (`validator_state`, key
"precedence"), saved after each step's commits; losing one step's evidence to a crash only delays what it teaches.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from schemas.times import as_utc
from scoring import NoveltyVerdict
from scoring.precedence import tie_shares
from validator.delivery import DeliveryKey, accepted_id_of, is_delivery
from validator.store import ValidatorStore

log = logging.getLogger(__name__)

STATE_KEY = "precedence"


def late_duplicates(deliveries: Iterable[tuple[str, str]], verdicts: Mapping[str, NoveltyVerdict],
                    ) -> list[tuple[str, int]]:
    """(hotkey, accepted_id) of each delivery (hotkey, key) that duplicates a record accepted before this step."""
    late = []
    for hotkey, key in deliveries:
        verdict = verdicts.get(key)
        if verdict is None or verdict.novelty != 0 or not verdict.duplicate_of:
            continue
        origin = accepted_id_of(verdict.duplicate_of)  # None: a duplicate of another delivery of this step
        if origin is not None:
            late.append((hotkey, origin))
    return late


class Precedence:
    """Pairwise "who was first" counts by hotkey (a uid that changes hands starts afresh under its new hotkey)."""

    def __init__(self, store: ValidatorStore) -> None:
        self.store = store
        self.firsts: Counter[tuple[str, str]] = Counter()
        self.drained: dict[str, int] = {}  # hotkey -> last step whose visit drained every domain
        self._loaded = False

    def load(self) -> None:
        if self._loaded:
            return
        data = self.store.get_state(STATE_KEY, {}) or {}
        self.firsts = Counter({(a, b): int(n) for a, b, n in data.get("firsts", [])})
        self.drained = {k: int(v) for k, v in data.get("drained", {}).items()}
        self._loaded = True

    def count(self, first: str, later: str) -> int:
        return self.firsts.get((first, later), 0)

    def split_ties(self, verdicts: Mapping[str, NoveltyVerdict], hotkeys: Mapping[int, str],
                   ) -> dict[str, NoveltyVerdict]:
        """The verdicts with every multi-miner cluster's credit split by precedence; the miner with the largest share
        delivers the cluster's representative (so a copier's version is never the one kept)."""
        out = dict(verdicts)
        for leader, members in new_clusters(verdicts).items():
            miner = {key: hotkeys[DeliveryKey.parse(key).uid] for key in members}
            if len(set(miner.values())) < 2:
                continue
            shares = tie_shares(list(miner.values()), self.count)
            best = max(members, key=lambda key: (shares[miner[key]], key == leader))
            kind = verdicts[best].kind or verdicts[leader].kind
            for key in members:
                if key == best:
                    out[key] = replace(verdicts[key], novelty=shares[miner[key]], keep=True, duplicate_of=None,
                                       kind=None)
                else:
                    out[key] = replace(verdicts[key], novelty=shares[miner[key]], keep=False, duplicate_of=best,
                                       kind=verdicts[key].kind or kind)
        return out

    def observe(self, late: Sequence[tuple[str, int]]) -> int:
        """Count the evidence in this step's late duplicates (before its ties are split: a copier's first delivery
        can hold both copies of accepted records and copies tying with the original). Returns the evidence added."""
        return self._observe(late)

    def finish(self, step: int, drained: Iterable[str], miners: Iterable[str]) -> None:
        """Remember who was drained this step, forget hotkeys no longer on the subnet, save."""
        for hotkey in drained:
            self.drained[hotkey] = step
        current = set(miners)
        self.firsts = Counter({pair: n for pair, n in self.firsts.items() if pair[0] in current and pair[1] in current})
        self.drained = {k: v for k, v in self.drained.items() if k in current}
        self.store.set_state(STATE_KEY, {"firsts": [[a, b, n] for (a, b), n in sorted(self.firsts.items())],
                                         "drained": self.drained})

    def _observe(self, late: Sequence[tuple[str, int]]) -> int:
        if not late:
            return 0
        evidence = self.store.precedence_evidence(sorted({accepted_id for _, accepted_id in late}))
        joined = evidence.joined
        added = 0
        for hotkey, accepted_id in late:
            row = evidence.origins.get(accepted_id)
            if row is None or row.miner_hotkey == hotkey:
                continue
            seen_after = self.drained.get(hotkey, 0) >= row.step
            came_after = hotkey in joined and as_utc(joined[hotkey]) > as_utc(row.accepted_at)
            if seen_after or came_after:
                self.firsts[(row.miner_hotkey, hotkey)] += 1
                added += 1
        if added:
            log.info("precedence evidence added=%d pairs=%d", added, len(self.firsts))
        return added


def new_clusters(verdicts: Mapping[str, NoveltyVerdict]) -> dict[str, list[str]]:
    """Representative key -> the keys of its cluster among a step's deliveries (the representative first, then the
    deliveries credited as duplicates of it)."""
    clusters: dict[str, list[str]] = {}
    for key, verdict in verdicts.items():
        if verdict.keep:
            clusters.setdefault(key, []).insert(0, key)
        elif verdict.novelty > 0 and verdict.duplicate_of and is_delivery(verdict.duplicate_of):
            clusters.setdefault(verdict.duplicate_of, []).append(key)
    return clusters
