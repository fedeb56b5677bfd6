"""Statistics of published rows per domain: counted from Arrow batches, summed across releases for the card."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

# The dimensions counted per key (source kind, language, contributor hotkey); the card shows each.
DIMENSIONS = ("source", "lang", "contributor_hotkey")
UNKNOWN_LANG = "unknown"


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


@dataclass
class DomainStats:
    """Rows, bytes, time span, score sums and per-key counts of one domain (one release or a total)."""

    rows: int = 0
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
        self.text_bytes += pc.sum(pc.binary_length(batch.column("text"))).as_py() or 0
        self.quality_sum += pc.sum(batch.column("quality")).as_py() or 0.0
        self.value_sum += pc.sum(batch.column("value")).as_py() or 0.0
        published = pc.min_max(batch.column("published_at"))
        fetched = pc.min_max(batch.column("fetched_at"))
        self.first_published_at = _earliest(self.first_published_at, published["min"].as_py())
        self.last_published_at = _latest(self.last_published_at, published["max"].as_py())
        self.first_fetched_at = _earliest(self.first_fetched_at, fetched["min"].as_py())
        self.last_fetched_at = _latest(self.last_fetched_at, fetched["max"].as_py())
        for dim in DIMENSIONS:
            column = batch.column(dim)
            if dim == "lang":
                column = pc.fill_null(column, UNKNOWN_LANG)
            for item in pc.value_counts(column).to_pylist():
                self.counts[dim][item["values"]] += item["counts"]

    def merge(self, other: DomainStats) -> None:
        """Add `other` (e.g. one release) into this total."""
        self.rows += other.rows
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
