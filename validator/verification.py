"""Verification by re-fetch: a sample seeded by a block hash the miner could not know, fetched with the scrapers'
own code, compared by text similarity. Outcomes are pass, fail or unknown; unknown never counts against a miner."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import httpx

from schemas.domain import DomainCatalog
from schemas.record import Record
from scoring import similarity as shingle_similarity
from scrapers import FetchOutcome, fetch_one, source_for
from scrapers.address import GuardedClient
from validator import constants as K

log = logging.getLogger(__name__)

Outcome = Literal["pass", "fail", "unknown"]
Fetcher = Callable[..., Awaitable[FetchOutcome]]


@dataclass(frozen=True)
class Check:
    """The verdict on one sampled record."""

    uri: str
    outcome: Outcome
    reason: str
    similarity: float | None = None


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


def judge(delivered: Record, fetched: FetchOutcome) -> Check:
    """Compare what the miner delivered with what the validator fetched now."""
    if fetched.status != "content" or fetched.record is None:
        return Check(delivered.uri, "unknown", f"{fetched.status}:{fetched.reason}")
    if fetched.record.content_hash == delivered.content_hash:
        return Check(delivered.uri, "pass", "same_hash", 1.0)
    sim = similarity(delivered.text, fetched.record.text)
    if sim >= K.VERIFY_PASS_SIMILARITY:
        return Check(delivered.uri, "pass", "similar", sim)
    if sim < K.VERIFY_FAIL_SIMILARITY:
        return Check(delivered.uri, "fail", "different_text", sim)
    return Check(delivered.uri, "unknown", "changed_page", sim)


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
        return judge(record, fetched)

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
    """One failed check fails the batch; otherwise one pass passes it; all unknown leaves it unknown."""
    outcomes = {c.outcome for c in checks}
    if not outcomes:
        return None
    if "fail" in outcomes:
        return "fail"
    return "pass" if "pass" in outcomes else "unknown"
