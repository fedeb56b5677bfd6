"""The published columns: one Arrow schema, its `datasets` feature YAML, and records -> Arrow batches."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from schemas.accepted import AcceptedRecord

TIMESTAMP = pa.timestamp("us", tz="UTC")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
SIGNAL = pa.struct([("name", pa.string()), ("value", pa.float64())])

# Signals are a list of {name, value}: `datasets` has no map feature, and a struct of fixed fields would
# break a config's schema the day scoring adds a signal.
SCHEMA = pa.schema([
    pa.field("text", pa.string(), nullable=False),
    pa.field("title", pa.string(), nullable=False),
    pa.field("url", pa.string(), nullable=False),
    pa.field("domain", pa.string(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("lang", pa.string()),
    pa.field("license", pa.string()),
    pa.field("published_at", TIMESTAMP),
    pa.field("fetched_at", TIMESTAMP, nullable=False),
    pa.field("content_hash", pa.string(), nullable=False),
    pa.field("quality", pa.float64(), nullable=False),
    pa.field("relevance", pa.float64(), nullable=False),
    pa.field("novelty", pa.float64(), nullable=False),
    pa.field("value", pa.float64(), nullable=False),
    pa.field("signals", pa.list_(SIGNAL), nullable=False),
    pa.field("contributor_hotkey", pa.string(), nullable=False),
    pa.field("accepted_at", TIMESTAMP, nullable=False),
    pa.field("release", pa.string(), nullable=False),
])

# The system allocator for everything hub builds: on the 2-core VMs we measured, mimalloc (pyarrow's default)
# hands freed pages back to the kernel at once, so every batch faults fresh memory in again (~25% of a
# release's CPU went to the kernel); glibc keeps and reuses them.
MEMORY_POOL = pa.system_memory_pool()

# Low-cardinality columns get dictionary pages; unique ones (text, url, hash) would only waste time on it.
DICTIONARY_COLUMNS = ["domain", "source", "lang", "license", "contributor_hotkey", "release"]
# Min/max statistics only where a reader can prune row groups with them.
STATISTICS_COLUMNS = ["domain", "source", "lang", "published_at", "fetched_at", "quality", "accepted_at",
                      "release"]

_YAML_DTYPES = {pa.string(): "string", pa.float64(): "float64", TIMESTAMP: "timestamp[us, tz=UTC]"}


def _feature_yaml(field: pa.Field) -> dict:
    if pa.types.is_list(field.type):
        return {"name": field.name, "list": [_feature_yaml(f) for f in field.type.value_type]}
    return {"name": field.name, "dtype": _YAML_DTYPES[field.type]}


def features_yaml() -> list[dict]:
    """`dataset_info.features` of the card, as `datasets.Features._to_yaml_list()` would write it."""
    return [_feature_yaml(f) for f in SCHEMA]


def _micros(value: datetime | None) -> int | None:
    # Exact integer microseconds since the epoch; cheaper than pyarrow converting aware datetimes.
    return None if value is None else (value - _EPOCH) // _MICROSECOND


def to_batch(records: Sequence[AcceptedRecord], release: str) -> pa.RecordBatch:
    """Columns of `records` (all of one domain or not) with the release name stamped on each row."""
    n = len(records)
    cols: dict[str, list] = {name: [] for name in SCHEMA.names if name not in ("signals", "release")}
    offsets = [0]
    sig_names: list[str] = []
    sig_values: list[float] = []
    for acc in records:
        rec = acc.record
        cols["text"].append(rec.text)
        cols["title"].append(rec.title)
        cols["url"].append(rec.uri)
        cols["domain"].append(rec.domain)
        cols["source"].append(rec.source)
        cols["lang"].append(rec.lang)
        cols["license"].append(rec.license)
        cols["published_at"].append(_micros(rec.published_at))
        cols["fetched_at"].append(_micros(rec.fetched_at))
        cols["content_hash"].append(rec.content_hash)
        cols["quality"].append(acc.quality)
        cols["relevance"].append(acc.relevance)
        cols["novelty"].append(acc.novelty)
        cols["value"].append(acc.value)
        cols["contributor_hotkey"].append(acc.miner_hotkey)
        cols["accepted_at"].append(_micros(acc.accepted_at))
        for name in sorted(acc.signals):  # sorted: the same record always gives the same bytes
            sig_names.append(name)
            sig_values.append(float(acc.signals[name]))
        offsets.append(len(sig_names))
    arrays = []
    for field in SCHEMA:
        if field.name == "signals":
            items = pa.StructArray.from_arrays([pa.array(sig_names, pa.string(), memory_pool=MEMORY_POOL),
                                                pa.array(sig_values, pa.float64(), memory_pool=MEMORY_POOL)],
                                               fields=list(SIGNAL), memory_pool=MEMORY_POOL)
            offsets_array = pa.array(offsets, pa.int32(), memory_pool=MEMORY_POOL)
            arrays.append(pa.ListArray.from_arrays(offsets_array, items, type=field.type, pool=MEMORY_POOL))
        elif field.name == "release":
            arrays.append(pa.array([release] * n, pa.string(), memory_pool=MEMORY_POOL))
        elif field.type == TIMESTAMP:
            micros = pa.array(cols[field.name], pa.int64(), memory_pool=MEMORY_POOL)
            arrays.append(micros.cast(TIMESTAMP, memory_pool=MEMORY_POOL))
        else:
            arrays.append(pa.array(cols[field.name], field.type, memory_pool=MEMORY_POOL))
    return pa.RecordBatch.from_arrays(arrays, schema=SCHEMA)
