"""AcceptedRecord: a record a validator accepted, with its signals and provenance (what the hub publishes)."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict

from schemas.record import Record


class Signal(NamedTuple):
    """One named measurement with the threshold that judged it (datatrove style). A named tuple, not a model:
    the quality rules make ~30 per document on the validator's hot path and their values are typed already;
    what is stored and published is `AcceptedRecord.signals` (name -> value)."""

    name: str
    value: float
    threshold: float | None = None
    passed: bool = True


class AcceptedRecord(BaseModel):
    """`accepted_id` is the validator's monotonic id: publishing keeps a watermark on it. The fields after
    `accepted_at` are what the validator established itself (null on rows accepted before it recorded them): the
    language its language id detected, its re-fetch of the row when sampled ("pass", "unknown_then_pass"; None: not
    sampled) and its licence decision (scrapers.licence.decide; never the miner's `record.license`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    accepted_id: int
    record: Record
    quality: float
    relevance: float
    novelty: float
    value: float
    signals: dict[str, float]
    miner_uid: int
    miner_hotkey: str
    validator_hotkey: str
    step: int
    accepted_at: datetime
    detected_lang: str | None = None
    verification: str | None = None
    licence: str | None = None
    text_allowed: bool | None = None
    attribution: str | None = None
    licence_basis: str | None = None
