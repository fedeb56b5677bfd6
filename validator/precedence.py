"""Precedence between miners as this validator observed it, and the split of ties it drives (scoring.precedence).

Evidence that miner A was first to a record and miner B later: B delivers a duplicate of a record accepted from A,
and B was either visited in full (every domain drained) in or after the step that accepted A's record, or joined the
subnet after it. A miner the validator failed to visit, or could not visit to the end, gives no evidence against it:
a miner that was down does not lose ties to whoever copied it meanwhile.

The counts and each miner's last fully drained step live in the validator's state (`validator_state`, key
"precedence"), saved after each step's commits; losing one step's evidence to a crash only delays what it teaches.

First deliveries (`FirstDeliveries`) settle what the counts cannot: a content is its earliest deliverer's. A miner
whose batch waits for evidence (or is held) has delivered its records all the same; the step it first delivered each
content is kept (validator/store/deliveries.py) until that delivery is decided. A tie's members delivered first in a
later step than another member get none of its credit, and a record whose content another miner, not judged beside
it, delivered in an earlier step waits for that delivery to be decided (FIRST_DELIVERY_STEPS at most).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

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
                   first: Mapping[str, Delivered] | None = None) -> dict[str, NoveltyVerdict]:
        """The verdicts with every multi-miner cluster's credit split by precedence; the miner with the largest share
        delivers the cluster's representative (so a copier's version is never the one kept). `first`: each key's
        content hash and the step its miner first delivered it (a key missing was delivered now): a member whose
        exact content another member delivered in an earlier step gets nothing of the cluster."""
        out = dict(verdicts)
        for leader, members in new_clusters(verdicts).items():
            miner = {key: hotkeys[DeliveryKey.parse(key).uid] for key in members}
            if len(set(miner.values())) < 2:
                continue
            on_time = [miner[key] for key in members if not later_copy(key, members, first)]
            shares = dict.fromkeys(miner.values(), 0.0) | tie_shares(on_time, self.count)
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


@dataclass(frozen=True)
class Delivered:
    """A delivery's content hash and the step its miner first delivered that content (`FirstDeliveries.of`)."""

    content_hash: str
    step: int


def later_copy(key: str, others: Iterable[str], first: Mapping[str, Delivered] | None) -> bool:
    """True when one of `others` is a delivery of the same exact content first delivered in an earlier step than
    `key`'s (near copies are left to precedence and, for a page's versions, to the text closest to the live page:
    a near copy can be ahead of the original by a step, its re-fetch tells them apart)."""
    mine = first.get(key) if first else None
    if mine is None:
        return False
    return any((theirs := first.get(other)) is not None and theirs.content_hash == mine.content_hash
               and theirs.step < mine.step for other in others)


@dataclass
class FirstDeliveries:
    """The undecided first deliveries of a step's contents (validator/store/deliveries.py), read once: who delivered
    each content in an earlier step, in a batch that waited or was held."""

    step: int
    rows: Mapping[tuple[str, str], int]  # (hotkey, content_hash) -> the step it first delivered the content
    _by_hash: dict[str, list[tuple[str, int]]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        for (hotkey, content_hash), step in self.rows.items():
            self._by_hash.setdefault(content_hash, []).append((hotkey, step))

    @classmethod
    def load(cls, store: ValidatorStore, step: int, hashes: Iterable[str], window: int) -> FirstDeliveries:
        return cls(step, store.first_deliveries(list(hashes), step - window))

    def of(self, hotkey: str, content_hash: str, default: int | None = None) -> Delivered:
        """The content and the step the miner first delivered it (`default`, else this step, when it never waited)."""
        return Delivered(content_hash, self.rows.get((hotkey, content_hash), self.step if default is None else default))

    def earlier_elsewhere(self, hotkey: str, delivered: Delivered,
                          judged: Collection[tuple[str, str]] = ()) -> str | None:
        """The hotkey of another miner that delivered the content in a step before `delivered.step` and whose
        delivery is still undecided, leaving out the deliveries `judged` beside it ((hotkey, content_hash): their
        ties split them)."""
        for other, step in self._by_hash.get(delivered.content_hash, ()):
            if other != hotkey and step < delivered.step and (other, delivered.content_hash) not in judged:
                return other
        return None

    def waiting_for(self, deliveries: Iterable[tuple[int, str, Delivered]],
                    judged: Collection[tuple[str, str]]) -> dict[int, str]:
        """uid -> the hotkey of another miner that delivered the exact content of one of the uid's `deliveries` (uid,
        hotkey, what and when) in an earlier step, is still undecided and not `judged` beside it: the uid's batch
        waits for that delivery to be decided (FIRST_DELIVERY_STEPS at most)."""
        found: dict[int, str] = {}
        for uid, hotkey, delivered in deliveries:
            if uid not in found and (other := self.earlier_elsewhere(hotkey, delivered, judged)):
                found[uid] = other
        return found


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
