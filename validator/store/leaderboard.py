"""The leaderboard: one row per miner, built from the miners' state, their rejections and their held batches."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from validator.store.miners import MinerState
from validator.store.rejections import reasons_by_miner


@dataclass(frozen=True)
class LeaderRow:
    uid: int
    hotkey: str
    accepted: int
    shared: int
    rejected: int
    top_reason: str | None
    top_reason_count: int
    credibility: float
    score: float
    weight: float
    value_total: float
    verify_pass: int
    verify_fail: int
    verify_unknown: int
    pending_records: int
    verify_unverified: int = 0  # sampled records nobody could check (gone, off the source's shape, changed)


def rank(miners: Mapping[int, MinerState], rejections: Mapping[tuple[int, str, str], int],
         pending: Mapping[int, int], weights: Mapping[int, float] | None = None) -> list[LeaderRow]:
    """One row per miner, best score first; `weight` is the normalised score unless `weights` are given."""
    if weights is None:
        total = sum(max(m.score, 0.0) for m in miners.values())
        weights = {uid: (max(m.score, 0.0) / total if total > 0 else 0.0) for uid, m in miners.items()}
    reasons = reasons_by_miner(rejections)
    rows = []
    for uid, m in miners.items():
        top = reasons.get(uid, Counter()).most_common(1)
        rows.append(LeaderRow(uid=uid, hotkey=m.hotkey, accepted=m.accepted, shared=m.shared, rejected=m.rejected,
                              top_reason=top[0][0] if top else None, top_reason_count=top[0][1] if top else 0,
                              credibility=m.credibility, score=m.score, weight=float(weights.get(uid, 0.0)),
                              value_total=m.value_total, verify_pass=m.verify_pass, verify_fail=m.verify_fail,
                              verify_unknown=m.verify_unknown, pending_records=pending.get(uid, 0),
                              verify_unverified=m.verify_unverified))
    return sorted(rows, key=lambda r: (-r.score, r.uid))
