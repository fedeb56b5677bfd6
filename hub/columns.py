"""The published columns: one Arrow schema, its `datasets` feature YAML, and records -> Arrow batches."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from hub import constants
from hub.pii import scrub
from schemas.accepted import AcceptedRecord

TIMESTAMP = pa.timestamp("us", tz="UTC")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# Version of the published columns: a target keeps one version (a config's shards must share their features).
SCHEMA_VERSION = 3
SIGNAL = pa.struct([("name", pa.string()), ("value", pa.float64())])

# Who claims what. Every row keeps its provenance (what the validator saw and recorded itself), the fields the
# validator derived, and — prefixed `claimed_` — what the miner stated and only a sampled re-fetch checks.
# Signals are a list of {name, value}: `datasets` has no map feature, and a struct of fixed fields would break a
# config's schema the day scoring adds a signal.
PROVENANCE = ["uri", "domain", "source", "content_hash", "contributor_hotkey", "validator_hotkey", "accepted_at",
              "release"]
VALIDATOR_DERIVED = ["license", "text_allowed", "attribution", "licence_basis", "lang", "quality", "relevance",
                     "novelty", "value", "signals", "words", "verification", "pii_replacements"]
CLAIMED = ["claimed_title", "claimed_published_at", "claimed_fetched_at", "claimed_lang"]
COLUMN_DOCS = {
    "text": "normalised UTF-8 text as the validator verified it, personal data replaced (see *Personal data*); "
            "empty when its licence does not allow redistribution (metadata only, see *Licences*)",
    "uri": "canonical URL the text was fetched from",
    "domain": "glean domain id (one config per domain)",
    "source": "source kind the record came from (web, feed, arxiv, ...)",
    "content_hash": "sha256 of the text as verified, before personal data was replaced",
    "contributor_hotkey": "hotkey of the miner credited with the record",
    "validator_hotkey": "hotkey of the validator that accepted and published the record",
    "accepted_at": "time the validator accepted the record (UTC)",
    "release": "the release that first published the row",
    "license": "the validator's licence decision for the row, an SPDX id (null: unknown); see *Licences*",
    "text_allowed": "whether the licence lets the text be redistributed; false with an empty `text`: metadata only",
    "attribution": "what the licence asks you to show with the text you reuse: title, URL, author or page history",
    "licence_basis": "why the validator decided that licence (kind:<kind>, page:rel=license, host:<rule>, default)",
    "lang": "language the validator's language id detected in the text (null: none with confidence)",
    "quality": "the validator's document quality score in [0, 1]",
    "relevance": "the validator's relevance to the domain in [0, 1]",
    "novelty": "novelty credit in [0, 1] at the time of acceptance",
    "value": "value of the record under the scoring rule (see *How records are scored*)",
    "signals": "the validator's quality signals, as {name, value} pairs (`language`: its language-id confidence)",
    "words": "words in the text as the validator counted them",
    "verification": "the validator's re-fetch of the record when it was in the sample: pass, or unknown_then_pass "
                    "when it passed once the validator's own trouble was over (null: not sampled, or not recorded)",
    "pii_replacements": "e-mail addresses, IP addresses and phone numbers replaced in text and title "
                        "(`attribution` is scrubbed alike)",
    "claimed_title": "title the miner sent (personal data replaced)",
    "claimed_published_at": "publication time the miner sent (UTC, may be null; compared when sampled)",
    "claimed_fetched_at": "time the miner says it fetched the page (UTC)",
    "claimed_lang": "language code the miner sent (null when none)",
}
COLUMN_GROUPS = (("Provenance (recorded by the validator)", ["text", *PROVENANCE]),
                 ("Validator-derived", VALIDATOR_DERIVED),
                 ("The miner's claims", CLAIMED))
SCHEMA = pa.schema([
    pa.field("text", pa.string(), nullable=False),
    pa.field("uri", pa.string(), nullable=False),
    pa.field("domain", pa.string(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("content_hash", pa.string(), nullable=False),
    pa.field("contributor_hotkey", pa.string(), nullable=False),
    pa.field("validator_hotkey", pa.string(), nullable=False),
    pa.field("accepted_at", TIMESTAMP, nullable=False),
    pa.field("license", pa.string()),
    pa.field("text_allowed", pa.bool_(), nullable=False),
    pa.field("attribution", pa.string()),
    pa.field("licence_basis", pa.string()),
    pa.field("lang", pa.string()),
    pa.field("quality", pa.float64(), nullable=False),
    pa.field("relevance", pa.float64(), nullable=False),
    pa.field("novelty", pa.float64(), nullable=False),
    pa.field("value", pa.float64(), nullable=False),
    pa.field("signals", pa.list_(SIGNAL), nullable=False),
    pa.field("words", pa.int32(), nullable=False),
    pa.field("verification", pa.string()),
    pa.field("pii_replacements", pa.int32(), nullable=False),
    pa.field("claimed_title", pa.string(), nullable=False),
    pa.field("claimed_published_at", TIMESTAMP),
    pa.field("claimed_fetched_at", TIMESTAMP, nullable=False),
    pa.field("claimed_lang", pa.string()),
    pa.field("release", pa.string(), nullable=False),
], metadata={"glean_schema_version": str(SCHEMA_VERSION)})

# The system allocator for everything hub builds: on the 2-core VMs we measured, mimalloc (pyarrow's default)
# hands freed pages back to the kernel at once, so every batch faults fresh memory in again (~25% of a
# release's CPU went to the kernel); glibc keeps and reuses them.
MEMORY_POOL = pa.system_memory_pool()

# Low-cardinality columns get dictionary pages; unique ones (text, url, hash) would only waste time on it.
DICTIONARY_COLUMNS = ["domain", "source", "claimed_lang", "lang", "licence_basis", "license", "contributor_hotkey",
                      "validator_hotkey", "verification", "release"]
# Min/max statistics only where a reader can prune row groups with them.
STATISTICS_COLUMNS = ["domain", "source", "claimed_lang", "claimed_published_at", "claimed_fetched_at", "quality",
                      "accepted_at", "release"]

_YAML_DTYPES = {pa.string(): "string", pa.float64(): "float64", pa.int32(): "int32", pa.bool_(): "bool",
                TIMESTAMP: "timestamp[us, tz=UTC]"}


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


def _words(acc: AcceptedRecord, text: str) -> int:
    # The validator's own count when it recorded one (no second pass over 2 KB), else a whitespace split.
    counted = acc.signals.get(constants.WORDS_SIGNAL)
    return int(counted) if counted is not None else len(text.split())


def licence_of(acc: AcceptedRecord) -> tuple[str | None, bool, str | None]:
    """(licence, text allowed, attribution) as the validator decided them for the row (scrapers.licence.decide).
    A row without a decision (accepted before the validator recorded them) is metadata only: the hub never decides
    on its own, and the miner's `record.license` is only their word."""
    if acc.text_allowed is None:
        return acc.licence, False, None
    return acc.licence, acc.text_allowed, acc.attribution


def _row(acc: AcceptedRecord, publish_text: bool, scrub_personal_data: bool) -> tuple[str, str, int]:
    """(published text, published title, replacements) of one record; the text is empty when not published."""
    rec = acc.record
    if not scrub_personal_data:
        return (rec.text if publish_text else ""), rec.title, 0
    title = scrub(rec.title)
    if not publish_text:
        return "", title.text, title.replacements
    text = scrub(rec.text)
    return text.text, title.text, text.replacements + title.replacements


def to_batch(records: Sequence[AcceptedRecord], release: str, *, scrub_personal_data: bool = True,
             publish_restricted_text: bool = False) -> pa.RecordBatch:
    """Columns of `records` (all of one domain or not) with the release name stamped on each row; personal data
    in text and title is replaced unless the operator turned the scrub off (`content_hash` stays the verified
    text's); a row whose licence does not allow redistribution has an empty text (metadata only) unless the
    operator opted in (`[hub] publish_restricted_text`)."""
    cols: dict[str, list] = {name: [] for name in SCHEMA.names if name not in ("signals", "release")}
    offsets = [0]
    sig_names: list[str] = []
    sig_values: list[float] = []
    for acc in records:
        rec = acc.record
        licence, allowed, attribution = licence_of(acc)
        text, title, replaced = _row(acc, allowed or publish_restricted_text, scrub_personal_data)
        cols["text"].append(text)
        cols["uri"].append(rec.uri)
        cols["domain"].append(rec.domain)
        cols["source"].append(rec.source)
        cols["content_hash"].append(rec.content_hash)
        cols["contributor_hotkey"].append(acc.miner_hotkey)
        cols["validator_hotkey"].append(acc.validator_hotkey)
        cols["accepted_at"].append(_micros(acc.accepted_at))
        cols["license"].append(licence)
        cols["text_allowed"].append(allowed)
        # the credit quotes the page's title and author as the miner sent them: scrubbed like the title
        cols["attribution"].append(scrub(attribution).text if attribution and scrub_personal_data else attribution)
        cols["licence_basis"].append(acc.licence_basis)
        cols["lang"].append(acc.detected_lang)
        cols["quality"].append(acc.quality)
        cols["relevance"].append(acc.relevance)
        cols["novelty"].append(acc.novelty)
        cols["value"].append(acc.value)
        cols["words"].append(_words(acc, rec.text))
        cols["verification"].append(acc.verification)  # the validator's own record of the row's re-fetch
        cols["pii_replacements"].append(replaced)
        cols["claimed_title"].append(title)
        cols["claimed_published_at"].append(_micros(rec.published_at))
        cols["claimed_fetched_at"].append(_micros(rec.fetched_at))
        cols["claimed_lang"].append(rec.lang)
        for name in sorted(acc.signals):  # sorted: the same record always gives the same bytes
            sig_names.append(name)
            sig_values.append(float(acc.signals[name]))
        offsets.append(len(sig_names))
    return _assemble(cols, offsets, sig_names, sig_values, release, len(records))


def _assemble(cols: dict[str, list], offsets: list[int], sig_names: list[str], sig_values: list[float],
              release: str, n: int) -> pa.RecordBatch:
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
