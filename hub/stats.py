"""Statistics of published rows per domain: counted from Arrow batches, summed across releases for the card."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

# The dimensions counted per key; the card shows each. `lang` is the validator's language id (never the miner's
# claim); `day` is the date `glean pull --since` filters on (claimed publication date, else the claimed fetch date);
# `quality_bin` is the lower edge of a tenth of [0, 1].
DIMENSIONS = ("source", "lang", "license", "contributor_hotkey", "day", "quality_bin", "text_status")
# `text_status` of a row: what its `text` holds (the card's licence lines).
TEXT_FREE = "redistributable"        # the licence allows it: the text is published
TEXT_METADATA_ONLY = "metadata_only"  # it does not: empty text
TEXT_RESTRICTED = "restricted"      # it does not, but the operator published it (`[hub] publish_restricted_text`)
UNKNOWN = "unknown"
UNKNOWN_LANG = UNKNOWN
QUALITY_BINS = 10


def _keys(batch: pa.RecordBatch | pa.Table, dim: str) -> pa.Array:
    """The key of every row for one dimension (nulls read as `unknown`)."""
    if dim == "day":
        when = pc.coalesce(batch.column("claimed_published_at"), batch.column("claimed_fetched_at"))
        return pc.strftime(when, format="%Y-%m-%d")
    if dim == "quality_bin":
        tenth = pc.min_element_wise(pc.floor(pc.multiply(batch.column("quality"), QUALITY_BINS)), QUALITY_BINS - 1)
        return pc.cast(pc.cast(tenth, pa.int64()), pa.string())
    if dim == "text_status":
        empty = pc.equal(pc.binary_length(batch.column("text")), 0)
        return pc.if_else(batch.column("text_allowed"), TEXT_FREE, pc.if_else(empty, TEXT_METADATA_ONLY,
                                                                               TEXT_RESTRICTED))
    return pc.fill_null(batch.column(dim), UNKNOWN)


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


@dataclass
class DomainStats:
    """Rows, bytes, time span, score sums and per-key counts of one domain (one release or a total)."""

    rows: int = 0
    words: int = 0
    pii_replacements: int = 0
    withheld: int = 0  # rows of the range left out by a takedown (not in the files)
    text_bytes: int = 0
    file_bytes: int = 0
    shards: int = 0
    quality_sum: float = 0.0
    value_sum: float = 0.0
    first_published_at: datetime | None = None
    last_published_at: datetime | None = None
    first_fetched_at: datetime | None = None
    last_fetched_at: datetime | None = None
    counts: dict[str, Counter[str]] = field(default_factory=lambda: {d: Counter() for d in DIMENSIONS})

    @property
    def mean_quality(self) -> float:
        return self.quality_sum / self.rows if self.rows else 0.0

    def add_batch(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Count one batch of published rows (the columns of `hub.columns.SCHEMA`)."""
        if batch.num_rows == 0:
            return
        self.rows += batch.num_rows
        self.words += pc.sum(batch.column("words")).as_py() or 0
        self.pii_replacements += pc.sum(batch.column("pii_replacements")).as_py() or 0
        self.text_bytes += pc.sum(pc.binary_length(batch.column("text"))).as_py() or 0
        self.quality_sum += pc.sum(batch.column("quality")).as_py() or 0.0
        self.value_sum += pc.sum(batch.column("value")).as_py() or 0.0
        published = pc.min_max(batch.column("claimed_published_at"))
        fetched = pc.min_max(batch.column("claimed_fetched_at"))
        self.first_published_at = _earliest(self.first_published_at, published["min"].as_py())
        self.last_published_at = _latest(self.last_published_at, published["max"].as_py())
        self.first_fetched_at = _earliest(self.first_fetched_at, fetched["min"].as_py())
        self.last_fetched_at = _latest(self.last_fetched_at, fetched["max"].as_py())
        for dim in DIMENSIONS:
            for item in pc.value_counts(_keys(batch, dim)).to_pylist():
                self.counts[dim][item["values"]] += item["counts"]

    def merge(self, other: DomainStats) -> None:
        """Add `other` (e.g. one release) into this total."""
        self.rows += other.rows
        self.words += other.words
        self.pii_replacements += other.pii_replacements
        self.withheld += other.withheld
        self.text_bytes += other.text_bytes
        self.file_bytes += other.file_bytes
        self.shards += other.shards
        self.quality_sum += other.quality_sum
        self.value_sum += other.value_sum
        self.first_published_at = _earliest(self.first_published_at, other.first_published_at)
        self.last_published_at = _latest(self.last_published_at, other.last_published_at)
        self.first_fetched_at = _earliest(self.first_fetched_at, other.first_fetched_at)
        self.last_fetched_at = _latest(self.last_fetched_at, other.last_fetched_at)
        for dim in DIMENSIONS:
            self.counts[dim].update(other.counts[dim])


def merge_totals(*parts: dict[str, DomainStats]) -> dict[str, DomainStats]:
    """Per-domain sums of several {domain: stats} mappings (e.g. the recorded history plus a new release)."""
    total: dict[str, DomainStats] = {}
    for part in parts:
        for domain, stats in part.items():
            total.setdefault(domain, DomainStats()).merge(stats)
    return total
