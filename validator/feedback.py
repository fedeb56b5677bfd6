"""What this validator did with one miner's records, as the miner may ask for it (`GET /v1/feedback`): accepted,
rejected by reason, its checks by outcome, the newest URIs nobody could check, and per source the verified-fraction
bound its batches are paid by (scoring.evidence over the store's evidence window)."""

from __future__ import annotations

from collections import Counter

from schemas.request import Feedback, SourceEvidence
from scoring.evidence import paid_fraction
from validator.store import ValidatorStore


def feedback(store: ValidatorStore, validator_hotkey: str, hotkey: str) -> Feedback:
    """The feedback of the miner whose uid holds `hotkey` now (all zeros when this validator never pulled it)."""
    miner = next((m for m in store.miners().values() if m.hotkey == hotkey), None)
    if miner is None:
        return Feedback(validator=validator_hotkey, uid=None, hotkey=hotkey)
    rejected: Counter[str] = Counter()
    for (_uid, _domain, reason), count in store.rejections(miner.uid).items():
        rejected[reason] += count
    sources = [SourceEvidence(source=source, checks=len(checks), passed=sum(checks),
                              bound=round(paid_fraction(sum(checks), len(checks)), 6))
               for source, checks in sorted(store.evidence([miner.uid]).get(miner.uid, {}).items())]
    return Feedback(validator=validator_hotkey, uid=miner.uid, hotkey=hotkey, accepted=miner.accepted,
                    rejected=dict(rejected.most_common()),
                    verification={"pass": miner.verify_pass, "fail": miner.verify_fail,
                                  "unverified": miner.verify_unverified, "unknown": miner.verify_unknown},
                    unverified_uris=store.unverified_uris(miner.uid, hotkey), sources=sources)
