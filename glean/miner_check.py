"""`glean miner check`: what a validator would reject in this miner's store, and why, before any validator says so.

Each domain's newest records go through the validator's own ladder (`validator.ladder.judge_record`: schema and
recomputed hash, source, licence, quality, relevance) and then through novelty as one validator step would see them
(`scoring.NoveltyIndex.assess_step`: the same or nearly the same text held twice earns once). Two things only a
validator can know stay out: duplicates of what other miners got accepted, and the re-fetch of a sample.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from miner.store import Store
from schemas.domain import DomainCatalog
from schemas.record import Record, utcnow
from scoring.novelty import Delivery, NoveltyIndex
from validator import reasons as R
from validator.ladder import Candidate, judge_record
from validator.outcome import novelty_reason

EXAMPLES_PER_REASON = 3
PAGE_RECORDS = 1_000  # records read from the store at a time
PAGE_BYTES = 64 * 1024 * 1024
CHECK_UID = 0  # the check judges one miner: its uid only labels delivery keys

# What to do about a reason, by its stem (the part before ":"); the README's scoring section explains each rule.
ADVICE = {
    R.SCHEMA: "records must validate as glean builds them (Record.build): normalised text, its hash, a canonical URL",
    R.UNCURATED_DOMAIN: "no validator curates this domain: crawl a domain of `glean domains list`",
    R.WRONG_DOMAIN: "the record names another domain than the one it is stored under",
    R.UNKNOWN_SOURCE: "its URL is not covered by any source of the domain spec: crawl only the spec's sources",
    R.SOURCE_CONSTRAINT: "what the record says about the item breaks its source's rules (a subreddit it does not "
                         "list, too few points, too young, not an article, none of its tags): docs/scrapers.md",
    R.LICENSE_MISSING: "the domain requires a licence the page does not declare",
    R.LICENSE_NOT_ALLOWED: "the page's licence is not one the domain allows",
    R.KEYWORD_STUFFING: "one term repeated far more than prose does: validators pay nothing for stuffed text",
    R.QUALITY: "the text fails a quality rule (docs/scoring.md lists each rule and its threshold)",
    R.RELEVANCE: "off-topic for the domain: below its relevance minimum (see its keywords and phrases)",
    R.DUPLICATE_IN_BATCH: "the same or nearly the same text is held more than once: only the first earns",
}
for name in R.SCHEMA_REASONS:
    ADVICE.setdefault(name, ADVICE[R.SCHEMA])


def advice(reason: str) -> str:
    """What a miner can do about records rejected for `reason`."""
    return ADVICE.get(reason) or ADVICE.get(reason.split(":", 1)[0], "see docs/scoring.md")


@dataclass
class DomainCheck:
    """One domain of the store as a validator would judge it (verification and other miners aside)."""

    domain: str
    checked: int = 0
    would_accept: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)  # reason -> a few URIs

    def reject(self, reason: str, uri: str) -> None:
        self.rejected[reason] += 1
        shown = self.examples.setdefault(reason, [])
        if len(shown) < EXAMPLES_PER_REASON:
            shown.append(uri)


def newest_records(store: Store, domain: str, limit: int) -> list[tuple[int, Record]]:
    """The newest `limit` records of `domain`, oldest first (the order a validator pulls them in)."""
    found: deque[tuple[int, bytes]] = deque(maxlen=limit)
    cursor = 0
    while True:
        page = store.page(cursor, limit=PAGE_RECORDS, max_bytes=PAGE_BYTES, domain=domain)
        found.extend(page.items)
        if not page.more or not page.items:
            break
        cursor = page.next_seq
    return [(seq, Record.model_validate_json(raw)) for seq, raw in found]


def check_records(domain: str, records: Iterable[tuple[int, Record]], catalog: DomainCatalog, *,
                  now: datetime | None = None) -> DomainCheck:
    """Judge one domain's records as one validator step would: the ladder, then novelty among them."""
    result = DomainCheck(domain)
    now = now or utcnow()
    spec = catalog.get(domain) if domain in catalog else None
    seen: set[str] = set()
    candidates: list[Candidate] = []
    for seq, record in records:
        result.checked += 1
        if spec is None:
            result.reject(R.UNCURATED_DOMAIN, record.uri)
            continue
        candidate, reason = judge_record(CHECK_UID, seq, record.model_dump(mode="json"), spec, now)
        if candidate is None:
            result.reject(reason or R.SCHEMA, record.uri)
        elif record.content_hash in seen:  # as the validator's pull does for a record delivered twice in a step
            result.reject(R.DUPLICATE_IN_BATCH, record.uri)
        else:
            seen.add(record.content_hash)
            candidates.append(candidate)
    _novelty(result, candidates)
    return result


def _novelty(result: DomainCheck, candidates: Sequence[Candidate]) -> None:
    deliveries = [Delivery(key=c.key, miner_uid=CHECK_UID, content_hash=c.record.content_hash, text=c.record.text)
                  for c in candidates]
    verdicts = {v.key: v for v in NoveltyIndex().assess_step(deliveries)} if deliveries else {}
    for c in candidates:
        reason = novelty_reason(verdicts[c.key])
        if reason:
            result.reject(reason, c.record.uri)
        else:
            result.would_accept += 1


def check_store(store: Store, catalog: DomainCatalog, *, domains: Sequence[str] | None = None, limit: int,
                now: datetime | None = None, on_domain: Callable[[str], None] | None = None) -> list[DomainCheck]:
    """Every domain the store holds (or those named), its newest `limit` records each, judged as a validator would."""
    held = sorted({b.domain for b in store.buckets()})
    wanted = [d for d in held if domains is None or d in domains]
    results = []
    for domain in wanted:
        if on_domain is not None:
            on_domain(domain)
        results.append(check_records(domain, newest_records(store, domain, limit), catalog, now=now))
    return results

