"""A seeded simulation of the pay rule over several steps, with the validator's real sampling (validator.sampling),
check outcomes (validator.verification.judge on real records), batch verdict, bound (scoring.evidence) and
credibility/step score (scoring): what a miner is paid for a stream of batches, honest or padded. No network: the
"re-fetch" answer of each sampled record is built from what the page is (real, invented, spun, deleted).

Used by tests/validator/test_pay_rule.py and `python -m benchmarks pay`."""

from __future__ import annotations

import random
from dataclasses import dataclass

from schemas.record import Record
from scoring import step_score, update_credibility
from scoring.constants import EVIDENCE_WINDOW, INITIAL_CREDIBILITY, SAMPLE_MIN
from scoring.evidence import paid_fraction, window_counts
from scrapers import FetchOutcome, reasons
from validator.sampling import plan
from validator.verification import Check, batch_outcome, judge

SOURCE = "web"
UID, HOTKEY = 7, "5Fminer"
# What the validator's own trouble looks like to a check: each maps to unknown (validator.verification).
FAULTS = ("http_503", "http_500", "http_429", reasons.TIMEOUT, reasons.DNS, reasons.CONNECTION,
          reasons.ROBOTS_UNAVAILABLE, "http_401", "http_403")
WORDS = ("the module reads each file once and caches its compiled form so that later imports of the same name "
         "return the object already built while a changed source invalidates the cache by its timestamp or hash "
         "which keeps programs fast without surprising anyone who edits code during development").split()
HELD_RETRIES = 12  # a held batch is re-verified this many times at most (validator.constants.PENDING_MAX_ATTEMPTS)


@dataclass(frozen=True)
class Miner:
    """One miner's behaviour: `records` delivered per step, of which a share `padded` is padding made by
    `padding` ("invented": URLs that do not exist; "spin": a few words changed in a live page), a share `deleted`
    of its real pages gone by the time of the check, and a share `faults` of checks hitting validator trouble."""

    records: int
    padded: float = 0.0
    padding: str = "invented"
    deleted: float = 0.0
    faults: float = 0.0

    @property
    def real(self) -> int:
        """Real records per step (at least one: a padder always has something real to show)."""
        return max(1, self.records - round(self.records * self.padded))

    def honest_part(self) -> Miner:
        """The same miner serving only its real records."""
        return Miner(records=self.real, deleted=self.deleted, faults=self.faults)


def _text(rng: random.Random, words: int = 250) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)) + "."


def _spin(rng: random.Random, text: str, share: float = 0.06) -> str:
    words = text.split()
    for i in rng.sample(range(len(words)), max(1, int(len(words) * share))):
        words[i] = rng.choice(("quickly", "notably", "however", "indeed", "largely", "mostly"))
    return " ".join(words)


def _record(uri: str, text: str) -> Record:
    return Record.build(uri=uri, text=text, source=SOURCE, domain="python-language", title="A page")


def _check(miner: Miner, padded: bool, rng: random.Random, uri: str) -> Check:
    """The verdict of the validator's re-fetch of one sampled record, through the real `judge`."""
    if rng.random() < miner.faults:
        return judge(_record(uri, "x"), FetchOutcome.unavailable(rng.choice(FAULTS)))
    if padded and miner.padding == "invented":
        return judge(_record(uri, _text(rng)), FetchOutcome.gone(reasons.http_reason(404)))
    live = _record(uri, _text(rng))
    if padded:  # a spin of a live page, delivered as a page of its own
        return judge(_record(uri, _spin(rng, live.text)), FetchOutcome.content(live))
    if rng.random() < miner.deleted:
        return judge(live, FetchOutcome.gone(reasons.http_reason(410)))
    return judge(live, FetchOutcome.content(live))


def simulate(miner: Miner, steps: int, seed: int) -> float:
    """Total step score over `steps` steps (value 1 per record), held batches resolved as later steps would."""
    rng = random.Random(seed)
    history: list[bool] = []
    credibility, total = INITIAL_CREDIBILITY, 0.0
    for step in range(1, steps + 1):
        keys = [f"{UID}:{step}:{i:06d}" for i in range(miner.records)]
        padded = set(rng.sample(range(miner.records), miner.records - miner.real))
        chosen = plan({UID: {SOURCE: keys}}, f"0x{seed:x}{step:x}", step, SAMPLE_MIN, {UID: HOTKEY},
                      {UID: {SOURCE: history}})[UID]
        sample = sorted(keys.index(k) for k in chosen)
        for _attempt in range(HELD_RETRIES):  # the first check, then re-verifications of a held batch
            checks = [_check(miner, i in padded, rng, f"https://site.example/{keys[i]}") for i in sample]
            outcome = batch_outcome(checks)
            if outcome != "unknown":
                break
        else:
            continue  # expired: nothing paid, credibility untouched
        if outcome == "fail":
            credibility = update_credibility(credibility, ["fail"])
            continue
        flags = [c.outcome == "pass" for c in checks if c.outcome in ("pass", "unverified")]
        fraction = paid_fraction(*window_counts(flags, history))
        history = (list(reversed(flags)) + history)[:EVIDENCE_WINDOW]
        unpaid = sum(c.outcome == "unverified" for c in checks)
        verified = outcome == "pass" and fraction > 0
        credibility = update_credibility(credibility, ["pass" if verified else "unverified"])
        total += step_score(credibility, [fraction * (miner.records - unpaid)])
    return total


def padding_ratio(miner: Miner, steps: int, seed: int) -> float:
    """What the padder earns over what it would earn serving only its real records (same seed)."""
    honest = simulate(miner.honest_part(), steps, seed)
    return simulate(miner, steps, seed) / honest if honest > 0 else float("inf")
