"""The first rungs of the validation ladder, cheapest first: the page envelope, each record's schema with its
recomputed hash and canonical URL, then licence, quality and relevance against the domain spec. Pure: bytes in,
candidates and rejection counts out (novelty and verification come after, across miners)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing import get_context
from typing import Any

from pydantic import ValidationError

from schemas.domain import DomainCatalog, DomainSpec
from schemas.protocol import RecordsRequest
from schemas.record import Record
from schemas.text import word_count
from scoring import assess_quality_many, assess_relevance, freshness, size_factor
from scrapers import claim_violation, source_for
from validator import constants as K
from validator import reasons as R
from validator.client import MinerError
from validator.delivery import delivery_key

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Candidate:
    """A record that passed schema, quality and relevance; novelty and verification decide the rest."""

    key: str  # validator.delivery: "<uid>:<seq>", unique within a step
    seq: int
    record: Record
    quality: float
    relevance: float
    freshness: float
    size: float
    desirability: float
    signals: dict[str, float]
    lang: str | None = None  # the language the language-id signal detected with confidence (never the miner's)

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "seq": self.seq, "record": self.record.model_dump(mode="json"),
                "quality": self.quality, "relevance": self.relevance, "freshness": self.freshness,
                "size": self.size, "desirability": self.desirability, "signals": self.signals, "lang": self.lang}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Candidate:
        return cls(key=data["key"], seq=data["seq"], record=Record.model_validate(data["record"]),
                   quality=data["quality"], relevance=data["relevance"], freshness=data["freshness"],
                   size=data["size"], desirability=data["desirability"], signals=dict(data["signals"]),
                   lang=data.get("lang"))  # batches held before the language was kept have none


@dataclass
class PageVerdict:
    """What one page gave: candidates, rejections by (domain, reason), the miner's cursor and whether more remain."""

    candidates: list[Candidate] = field(default_factory=list)
    rejected: Counter[tuple[str, str]] = field(default_factory=Counter)
    next_seq: int = 0
    more: bool = False
    received: int = 0


def parse_envelope(body: bytes, request: RecordsRequest) -> tuple[list[Any], int, bool]:
    """The page's items, `next_seq` and `more`; a malformed envelope refuses the whole answer (MinerError)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MinerError("records answer is not JSON", reason=R.MALFORMED_JSON) from None
    if not isinstance(data, dict) or set(data) != {"records", "next_seq", "more"}:
        raise MinerError("records answer does not have exactly records, next_seq, more", reason=R.BAD_SCHEMA)
    items, next_seq, more = data["records"], data["next_seq"], data["more"]
    if not isinstance(items, list) or not isinstance(more, bool) or type(next_seq) is not int:
        raise MinerError("records answer has fields of the wrong type", reason=R.BAD_SCHEMA)
    if len(items) > request.limit:
        raise MinerError(f"{len(items)} records for a limit of {request.limit}", reason=R.TOO_MANY_RECORDS)
    if next_seq < request.after_seq:
        raise MinerError(f"next_seq {next_seq} moves the cursor back from {request.after_seq}", reason=R.BAD_CURSOR)
    if more and next_seq == request.after_seq:
        raise MinerError("more=true without moving the cursor", reason=R.BAD_CURSOR)
    return items, next_seq, more


def _schema_reason(exc: ValidationError) -> str:
    """The reason of a record that failed its schema: the first of R.SCHEMA_REASONS among the errors' types."""
    failed = {error["type"] for error in exc.errors(include_url=False, include_context=False, include_input=False)}
    return next((reason for reason in R.SCHEMA_REASONS if reason in failed), R.SCHEMA)


def _license_reason(spec: DomainSpec, record: Record) -> str | None:
    policy = spec.license
    if policy.require and not record.license:
        return R.LICENSE_MISSING
    if policy.allowed is not None and record.license is not None and record.license not in policy.allowed:
        return R.LICENSE_NOT_ALLOWED
    return None


def _admit(raw: Any, spec: DomainSpec) -> tuple[Record | None, str | None]:
    """The cheap rungs: schema, domain, source, licence."""
    if not isinstance(raw, dict):
        return None, R.SCHEMA
    try:
        record = Record.model_validate(raw)
    except ValidationError as exc:
        return None, _schema_reason(exc)
    if record.domain != spec.id:
        return None, R.WRONG_DOMAIN
    if source_for(spec, record) is None:
        broken = claim_violation(spec, record)  # e.g. a subreddit the source does not list, a User: page
        return None, R.labelled(R.SOURCE_CONSTRAINT, broken) if broken else R.UNKNOWN_SOURCE
    reason = _license_reason(spec, record)
    if reason:
        return None, reason
    return record, None


def _judge_admitted(uid: int, admitted: list[tuple[int, Record]], spec: DomainSpec, now: datetime,
                    ) -> list[tuple[Candidate | None, str | None]]:
    """Quality (a whole page at a time: see `assess_quality_many`) and relevance of admitted records."""
    reports = assess_quality_many([record.text for _, record in admitted], spec.quality, list(spec.languages))
    out: list[tuple[Candidate | None, str | None]] = []
    for (seq, record), quality in zip(admitted, reports, strict=True):
        if not quality.passed:
            out.append((None, R.labelled(R.QUALITY, quality.reason)))
            continue
        relevance = assess_relevance(record.title, record.text, spec.relevance)
        if relevance.stuffing:
            out.append((None, R.KEYWORD_STUFFING))
            continue
        if not relevance.passed:
            out.append((None, R.labelled(R.RELEVANCE, relevance.reason)))
            continue
        signals = {s.name: float(s.value) for s in quality.signals}
        out.append((Candidate(
            key=delivery_key(uid, seq), seq=seq, record=record, quality=quality.score, relevance=relevance.score,
            freshness=freshness(record.published_at, record.fetched_at, spec.freshness_half_life_days, now),
            size=size_factor(word_count(record.text), spec.size_cap_words), desirability=spec.desirability,
            signals=signals, lang=quality.lang), None))
    return out


def judge_record(uid: int, seq: int, raw: Any, spec: DomainSpec, now: datetime,
                 ) -> tuple[Candidate | None, str | None]:
    """One record through schema, source, licence, quality and relevance: a candidate or a rejection reason."""
    record, reason = _admit(raw, spec)
    if record is None:
        return None, reason
    return _judge_admitted(uid, [(seq, record)], spec, now)[0]


def judge_page(uid: int, body: bytes, request: RecordsRequest, catalog: DomainCatalog, now: datetime) -> PageVerdict:
    """Parse one page and run every record through the cheap rungs (pure: bytes in, verdict out). Each rung runs
    over the whole page before the next; a record's verdict is the same as `judge_record`'s."""
    items, next_seq, more = parse_envelope(body, request)
    spec = catalog.get(request.domain) if request.domain else None
    verdict = PageVerdict(next_seq=next_seq, more=more, received=len(items))
    domain = request.domain or "*"
    seen_seqs: set[int] = set()
    admitted: list[tuple[int, Record]] = []
    for item in items:
        seq = item.get("seq") if isinstance(item, dict) else None
        if type(seq) is not int or not isinstance(item, dict) or set(item) != {"seq", "record"}:
            verdict.rejected[(domain, R.SCHEMA)] += 1
            continue
        if seq <= request.after_seq or seq > next_seq or seq in seen_seqs:
            verdict.rejected[(domain, R.BAD_SEQ)] += 1
            continue
        seen_seqs.add(seq)
        if spec is None:
            verdict.rejected[(domain, R.UNCURATED_DOMAIN)] += 1
            continue
        record, reason = _admit(item["record"], spec)
        if record is None:
            verdict.rejected[(domain, reason or R.SCHEMA)] += 1
            continue
        admitted.append((seq, record))
    if spec is not None and admitted:
        for candidate, reason in _judge_admitted(uid, admitted, spec, now):
            if candidate is None:
                verdict.rejected[(domain, reason or R.SCHEMA)] += 1
            else:
                verdict.candidates.append(candidate)
    return verdict


# --- running the ladder off the event loop ---------------------------------------------------------------------

_WORKER_CATALOG: DomainCatalog | None = None


def _start_worker(catalog: DomainCatalog, parent: int) -> None:
    global _WORKER_CATALOG
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    _WORKER_CATALOG = catalog
    threading.Thread(target=_exit_with_parent, args=(parent,), name="parent-watch", daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """A SIGKILLed validator cannot stop its workers: each one leaves as soon as its parent is gone."""
    while os.getppid() == parent:
        time.sleep(K.WORKER_PARENT_CHECK_SECONDS)
    os._exit(0)


def _judge_in_worker(uid: int, body: bytes, request: RecordsRequest, now: datetime) -> PageVerdict:
    assert _WORKER_CATALOG is not None
    return judge_page(uid, body, request, _WORKER_CATALOG, now)


def _ready() -> int:
    return os.getpid()


class Ladder:
    """Runs `judge_page` in worker processes (one per core by default: the ladder is CPU-bound and the GIL would
    serialise it) or, with `processes=0`, in a thread of the validator's process."""

    def __init__(self, catalog: DomainCatalog, processes: int | None = None) -> None:
        self.catalog = catalog
        self.processes = (os.cpu_count() or 1) if processes is None else processes
        self._pool: ProcessPoolExecutor | None = None

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.processes, mp_context=get_context("spawn"),
                                             initializer=_start_worker, initargs=(self.catalog, os.getpid()))
        return self._pool

    def use_catalog(self, catalog: DomainCatalog) -> None:
        """Judge with `catalog` from now on; running workers hold the old one, so new workers start when needed."""
        same = list(catalog) == list(self.catalog)
        self.catalog = catalog
        if self._pool is not None and not same:
            self._pool.shutdown(wait=False)  # pages in flight finish on the old workers
            self._pool = None

    async def start(self) -> None:
        """Start the workers now (spawning and importing take a second), so the first step does not pay for it."""
        if self.processes > 0:
            pool = self._ensure_pool()
            loop = asyncio.get_running_loop()
            await asyncio.gather(*(loop.run_in_executor(pool, _ready) for _ in range(self.processes)))

    async def judge(self, uid: int, body: bytes, request: RecordsRequest, now: datetime) -> PageVerdict:
        if self.processes == 0:
            return await asyncio.to_thread(judge_page, uid, body, request, self.catalog, now)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._ensure_pool(), _judge_in_worker, uid, body, request, now)
        except BrokenProcessPool:
            log.error("a ladder worker process died; starting new workers")
            self._pool = None
            raise

    def pids(self) -> list[int]:
        """Process ids of the running workers (for resource accounting)."""
        return sorted(getattr(self._pool, "_processes", None) or {}) if self._pool is not None else []

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
