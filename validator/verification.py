"""Verification by re-fetch: a sample seeded by a block hash the miner could not know, fetched with the scrapers'
own code, compared by text similarity and by the claims that drive pay (title, published date, what the source says
about the item). A check ends in one of four outcomes (shared/DESIGN.md §5, "pay for evidence"):

- pass: the validator's own fetch and parse agree with the record;
- fail: the page is live and contradicts the record (other text, or a pay-relevant claim it does not support);
- unverified: nobody can check the record (gone, not of its source's shape, off the allow-list, disallowed by a
  readable robots.txt, changed beyond the pass band): not paid, counts against the miner's verified fraction;
- unknown: the validator's own trouble (timeouts, DNS, 5xx/429, a robots.txt that answered 5xx/429, its missing
  credentials, a scraper exception): ignored; a batch with too many of them is held.
"""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import logging
import random
import unicodedata
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import httpx

from schemas.domain import DomainCatalog
from schemas.errors import GleanError
from schemas.record import Record
from scoring import similarity as shingle_similarity
from scrapers import FetchOutcome, fetch_one, reasons, source_for
from scrapers.address import GuardedClient
from scrapers.kinds import kind_of
from validator import constants as K

log = logging.getLogger(__name__)

Outcome = Literal["pass", "fail", "unverified", "unknown"]
Fetcher = Callable[..., Awaitable[FetchOutcome]]

UNKNOWN: Outcome = "unknown"
UNVERIFIED: Outcome = "unverified"

# What a re-fetch that found no content means for the miner, by reason (scrapers/reasons.py). Every reason is
# mapped here and a test fails for one nobody mapped. Unknown only for trouble on our side or the network's; a
# reason the miner can cause by what it delivers (a URI that does not exist, is off the allow-list, is not of its
# source's shape) is unverified, or padding with such records would be free.
REASON_OUTCOMES: dict[str, Outcome] = {
    reasons.OK: UNKNOWN,                      # "ok" without a record would be our own inconsistency
    reasons.TIMEOUT: UNKNOWN,
    reasons.DNS: UNKNOWN,
    reasons.CONNECTION: UNKNOWN,
    reasons.NETWORK: UNKNOWN,
    reasons.DATA_LOSS: UNKNOWN,               # the connection broke mid-body
    reasons.SPIDER_ERROR: UNKNOWN,            # a bug in our scraper code
    reasons.ROBOTS_UNAVAILABLE: UNKNOWN,      # robots.txt answered 5xx/429 (cached): the host's trouble, for now
    reasons.TOO_LARGE: UNVERIFIED,            # the crawl has the same cap: an honest miner never delivers such a page
    reasons.BAD_ENCODING: UNVERIFIED,         # a body nobody can decode (the crawl could not have read it either)
    reasons.PRIVATE_ADDRESS: UNVERIFIED,      # the host resolves to a private address: no one outside can check it
    reasons.OFF_ALLOW_LIST: UNVERIFIED,
    reasons.REDIRECT_OFF_ALLOW_LIST: UNVERIFIED,
    reasons.TOO_MANY_REDIRECTS: UNVERIFIED,
    reasons.ROBOTS_DISALLOWED: UNVERIFIED,    # a readable robots.txt forbids the page: nobody may check it
    reasons.BAD_CONTENT_TYPE: UNVERIFIED,
    reasons.EMPTY: UNVERIFIED,
    reasons.INVALID_JSON: UNVERIFIED,
    reasons.INVALID_XML: UNVERIFIED,
    reasons.INVALID_FEED: UNVERIFIED,
    reasons.UNEXPECTED_SHAPE: UNVERIFIED,
    reasons.API_ERROR: UNVERIFIED,            # the API answered 2xx that it has no such item (throttling is a 429)
    reasons.NO_CONTENT: UNVERIFIED,
    reasons.TOO_SHORT: UNVERIFIED,
    reasons.INVALID_RECORD: UNVERIFIED,
    reasons.NOT_FOUND: UNVERIFIED,
    reasons.DELETED: UNVERIFIED,
    reasons.PARSE_ERROR: UNVERIFIED,
    "noindex": UNVERIFIED,                      # the page asks not to be indexed (scrapers/extract.py's skip reason)
}
# HTTP statuses that are the validator's trouble: its missing credentials, its own rate or time limits, the
# server's errors. Every other non-2xx answer (404, 410, 400, 451, ...) says the record cannot be checked.
UNKNOWN_STATUSES = frozenset({401, 403, 407, 408, 425, 429})


@dataclass(frozen=True)
class Check:
    """The verdict on one sampled record."""

    uri: str
    outcome: Outcome
    reason: str
    similarity: float | None = None
    declared_license: str | None = None  # the licence the page declared when the validator fetched it


def sample_seed(block_hash: str, miner_hotkey: str, step: int) -> bytes:
    """The seed of one miner's sample: a block hash produced after the miner answered, bound to miner and step."""
    return hashlib.sha256(f"glean-sample|{block_hash}|{miner_hotkey}|{step}".encode()).digest()


def choose_sample(keys: Sequence[str], size: int, seed: bytes) -> list[int]:
    """Indexes of `size` of `keys`, reproducible from the seed and independent of the order they arrived in."""
    order = sorted(range(len(keys)), key=lambda i: keys[i])
    rng = random.Random(int.from_bytes(seed, "big"))
    return sorted(rng.sample(order, min(size, len(order))))


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two texts' word shingles over their identity forms: the one definition novelty
    uses too (scoring.similarity), so the pass band and the near-duplicate threshold speak of the same number."""
    return shingle_similarity(a, b)


def fetch_outcome(fetched: FetchOutcome) -> Outcome:
    """The outcome of a re-fetch that found no content: gone is unverified, the rest by REASON_OUTCOMES."""
    if fetched.status == "gone":
        return UNVERIFIED
    reason = fetched.reason
    if reason.startswith("http_") and reason[5:].isdigit():
        status = int(reason[5:])
        return UNKNOWN if status in UNKNOWN_STATUSES or status >= 500 else UNVERIFIED
    if reasons.is_constraint(reason):
        return UNVERIFIED  # the live item is not one its source covers (a subreddit, a score, a namespace)
    outcome = REASON_OUTCOMES.get(reason)
    if outcome is None:
        log.warning("re-fetch reason nobody mapped reason=%s status=%s: counted unknown", reason, fetched.status)
        return UNKNOWN
    return outcome


def judge(delivered: Record, fetched: FetchOutcome) -> Check:
    """Compare what the miner delivered with what the validator fetched now: text, then the claims that pay."""
    if fetched.status != "content" or fetched.record is None:
        return Check(delivered.uri, fetch_outcome(fetched), f"{fetched.status}:{fetched.reason}")
    declared = fetched.record.license
    text = _judge_text(delivered, fetched.record)
    if text.outcome != "pass":
        return replace(text, declared_license=declared)
    field = contradicted_claim(delivered, fetched.record)
    if field is None:
        return replace(text, declared_license=declared)
    if text.reason != "same_hash":  # the page changed since the miner fetched it: its new title or date proves no lie
        return Check(delivered.uri, UNVERIFIED, f"changed_claim:{field}", text.similarity, declared)
    return Check(delivered.uri, "fail", f"claim:{field}", text.similarity, declared)


def _judge_text(delivered: Record, fetched: Record) -> Check:
    if fetched.content_hash == delivered.content_hash:
        return Check(delivered.uri, "pass", "same_hash", 1.0)
    sim = similarity(delivered.text, fetched.text)
    if sim >= K.VERIFY_PASS_SIMILARITY:
        return Check(delivered.uri, "pass", "similar", sim)
    if sim < K.VERIFY_FAIL_SIMILARITY:
        return Check(delivered.uri, "fail", "different_text", sim)
    return Check(delivered.uri, UNVERIFIED, "changed_page", sim)


def contradicted_claim(delivered: Record, fetched: Record) -> str | None:
    """The first pay-relevant claim of the delivered record that the validator's own parse of the page does not
    support (`title`, `published_at`, or a key of the kind's claims), or None."""
    if not _titles_agree(delivered.title, fetched.title):
        return "title"
    if not _dates_agree(delivered, fetched):
        return "published_at"
    try:
        kind = kind_of(delivered.source)
    except GleanError:
        return None  # the ladder rejects records of unknown kinds before sampling
    claimed, found = kind.claims(delivered), kind.claims(fetched)
    for key, value in claimed.items():
        if key not in found or found[key] != value:
            return key
    return None


def _title_form(title: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", title).casefold().split())


def _titles_agree(delivered: str, fetched: str) -> bool:
    """Equal after NFKC, case folding and whitespace; else close enough that a small edit of a live headline
    passes while keywords stuffed into it do not (difflib's ratio: 2*matches / total characters)."""
    a, b = _title_form(delivered), _title_form(fetched)
    if a == b or not a:
        return True  # no title claimed: nothing to pay for
    return bool(b) and difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= K.VERIFY_TITLE_SIMILARITY


def _dates_agree(delivered: Record, fetched: Record) -> bool:
    """A published date the page does not state, or one further than the tolerance from the page's own, drives
    freshness with nothing behind it; no date claimed claims nothing."""
    if delivered.published_at is None:
        return True
    if fetched.published_at is None:
        return False
    return abs((delivered.published_at - fetched.published_at).total_seconds()) <= K.VERIFY_PUBLISHED_TOLERANCE


class Verifier:
    """Re-fetches samples with bounded concurrency and per-fetch bounds; errors on our side are "unknown"."""

    def __init__(self, catalog: DomainCatalog, *, fetch: Fetcher = fetch_one,
                 concurrency: int = K.VERIFY_CONCURRENCY, allow_private: bool = False) -> None:
        self.catalog = catalog
        self.fetch = fetch
        self._gate = asyncio.Semaphore(concurrency)
        # Local mode only (the LocalChain): re-fetches may reach loopback/private addresses; never on a real network.
        self.allow_private = allow_private
        self._http: httpx.AsyncClient | None = None  # one pool (and one TLS context) for every re-fetch
        # (domain, uri) -> what the last re-fetch of a page found since `forget`: one fetch of a page judges every
        # text of it delivered in the step (validator/step.py), so a rival the budget did not reach is still compared
        # with the live page its rival's re-fetch saw.
        self.live: dict[tuple[str, str], FetchOutcome] = {}

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:  # every connection to a checked, pinned address (scrapers.address)
            self._http = GuardedClient(allow_private=self.allow_private, timeout=K.FETCH_TIMEOUT,
                                       limits=httpx.Limits(max_connections=K.VERIFY_CONCURRENCY * 4))
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def check(self, record: Record) -> Check:
        spec = self.catalog.get(record.domain)
        source = source_for(spec, record)
        if source is None:  # the ladder rejects these before sampling; be safe anyway
            return Check(record.uri, "fail", "unknown_source")
        async with self._gate:
            try:
                fetched = await self.fetch(spec, source, record.uri, timeout=K.FETCH_TIMEOUT,
                                           max_bytes=K.FETCH_MAX_BYTES, client=self._client(),
                                           allow_private=self.allow_private)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a scraper bug on our side must not cost the miner
                log.warning("re-fetch raised uri=%s error=%r", record.uri, exc)
                return Check(record.uri, "unknown", f"error:{type(exc).__name__}")
        if fetched.status == "content" and fetched.record is not None:
            self.live[(record.domain, record.uri)] = fetched
        return judge(record, fetched)

    def judged_by_seen(self, record: Record) -> Check | None:
        """The check of `record` against what a re-fetch of its page found since `forget` (no new fetch), or None."""
        fetched = self.live.get((record.domain, record.uri))
        return None if fetched is None else judge(record, fetched)

    def forget(self) -> None:
        """Drop the pages seen (at the start of each step: a later step must see the page as it is then)."""
        self.live = {}

    async def check_all(self, records: Sequence[Record], timeout: float) -> list[Check]:
        """Checks in the order given; whatever is not done within `timeout` is "unknown"."""
        tasks = [asyncio.ensure_future(self.check(r)) for r in records]
        if not tasks:
            return []
        done, pending = await asyncio.wait(tasks, timeout=max(timeout, 0.0))
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        return [t.result() if t in done and not t.cancelled() and t.exception() is None
                else Check(r.uri, "unknown", "validator_timeout") for t, r in zip(tasks, records, strict=True)]


def batch_outcome(checks: Sequence[Check]) -> Outcome | None:
    """The verdict of a batch's sample: one fail fails it; nothing resolved, or more than VERIFY_MAX_UNKNOWN_SHARE
    unknown, holds it ("unknown"); otherwise "pass" when a check passed, else "unverified"."""
    if not checks:
        return None
    counts = Counter(c.outcome for c in checks)
    if counts["fail"]:
        return "fail"
    if counts[UNKNOWN] == len(checks) or counts[UNKNOWN] > K.VERIFY_MAX_UNKNOWN_SHARE * len(checks):
        return UNKNOWN
    return "pass" if counts["pass"] else UNVERIFIED
