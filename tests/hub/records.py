"""Accepted records for hub tests and the benchmark: valid, varied, and cheap to build in bulk."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from schemas.accepted import AcceptedRecord
from schemas.record import Record
from schemas.text import content_hash

BASE_TIME = datetime(2025, 1, 1, tzinfo=UTC)
WORDS = ("model training gradient dataset benchmark transformer attention python package release "
         "library news report science wiki article neural network inference embedding").split()


def text_of(i: int, approx_bytes: int = 400) -> str:
    """Deterministic pseudo-prose of about `approx_bytes`, unique per `i`."""
    rng = random.Random(i)
    words = [f"doc{i}"]
    size = 0
    while size < approx_bytes:
        word = rng.choice(WORDS)
        words.append(word)
        size += len(word) + 1
    return " ".join(words)


def accepted(i: int, *, domain: str = "ml-research", source: str = "arxiv", lang: str | None = "en",
             quality: float = 0.8, miner: str = "5Miner0", published_days: int | None = None,
             approx_bytes: int = 400, validate: bool = True, licence: str | None = "CC0-1.0",
             text_allowed: bool | None = True, attribution: str | None = None,
             claimed_license: str | None = None, detected_lang: str | None = "same") -> AcceptedRecord:
    """The accepted record with id `i`; `published_days` after BASE_TIME (None: no publication time); `licence`,
    `text_allowed` and `attribution` the validator's licence decision (a free licence by default: its text is
    published; text_allowed None: no decision recorded), `claimed_license` the miner's word; `detected_lang` the
    validator's language id ("same": what the miner claimed as `lang`)."""
    text = text_of(i, approx_bytes)
    published = None if published_days is None else BASE_TIME + timedelta(days=published_days)
    fields = dict(uri=f"https://example.org/{domain}/doc/{i}", source=source, domain=domain, title=f"Document {i}",
                  text=text, content_hash=content_hash(text), fetched_at=BASE_TIME + timedelta(days=60, seconds=i),
                  published_at=published, lang=lang, license=claimed_license)
    record = Record(**fields) if validate else Record.model_construct(**fields, labels=[], meta={})
    values = dict(accepted_id=i, record=record, quality=quality, relevance=0.5, novelty=1.0,
                  value=quality * 0.5, signals={"words": float(len(text.split())), "stop_word_ratio": 0.3},
                  miner_uid=int(miner[-1]) if miner[-1].isdigit() else 0, miner_hotkey=miner,
                  validator_hotkey="5Validator", step=1, accepted_at=BASE_TIME + timedelta(days=61, seconds=i),
                  licence=licence, text_allowed=text_allowed, attribution=attribution,
                  detected_lang=lang if detected_lang == "same" else detected_lang)
    return AcceptedRecord(**values) if validate else AcceptedRecord.model_construct(**values)


class AcceptedStore:
    """An in-memory accepted store with the `fetch_after(after, limit)` the publisher reads; counts calls."""

    def __init__(self, records: list[AcceptedRecord] | None = None) -> None:
        self.records: list[AcceptedRecord] = sorted(records or [], key=lambda r: r.accepted_id)
        self.calls = 0

    def add(self, records: list[AcceptedRecord]) -> None:
        self.records = sorted(self.records + records, key=lambda r: r.accepted_id)

    def fetch_after(self, after: int, limit: int) -> list[AcceptedRecord]:
        self.calls += 1
        out = [r for r in self.records if r.accepted_id > after]
        return out[:limit]
