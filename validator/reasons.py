"""The vocabulary of counted rejections: why a record (or a miner's whole answer) earned nothing. These strings are
stored in `validator_rejections.reason`, exported as metric labels and shown on the dashboard, so they never change;
add a name here rather than writing a reason inline."""

from __future__ import annotations

from schemas import record as record_schema

# -- a whole answer refused (MinerError.reason; stored as "protocol:<reason>" with domain "*") ---------------------
VALIDATOR_ERROR = "validator_error"  # our own failure: the miner is not judged for the step
TIMEOUT = "timeout"
UNREACHABLE = "unreachable"
MALFORMED_JSON = "malformed_json"
BAD_SCHEMA = "bad_schema"
BAD_ENCODING = "bad_encoding"
TOO_LARGE = "too_large"
TOO_MANY_RECORDS = "too_many_records"
BAD_CURSOR = "bad_cursor"
WRONG_HOTKEY = "wrong_hotkey"
PROTOCOL_MISMATCH = "protocol_mismatch"  # the miner speaks another glean protocol version (HTTP 426)
PRIVATE_ADDRESS = "private_address"  # the miner announces a loopback/private/metadata address (not on a LocalChain)

# -- one record of a page (the cheap rungs: validator/ladder.py) ----------------------------------------------------
SCHEMA = "schema"
BAD_SEQ = "bad_seq"
UNCURATED_DOMAIN = "uncurated_domain"
WRONG_DOMAIN = "wrong_domain"
UNKNOWN_SOURCE = "unknown_source"
SOURCE_CONSTRAINT = "source_constraint"  # stem of "source_constraint:<name>": a covered URI, claims breaking a rule
LICENSE_MISSING = "license_missing"
LICENSE_NOT_ALLOWED = "license_not_allowed"
KEYWORD_STUFFING = "keyword_stuffing"
QUALITY = "quality"  # stage of "quality:<rule>"
RELEVANCE = "relevance"  # stage of "relevance:<rule>"
LOW = "low"  # a failed stage that names no rule

# The Record validators' error types (schemas.record) counted under their own name, the first that applies in this
# order; any other schema error counts as SCHEMA.
SCHEMA_REASONS = (record_schema.HASH_MISMATCH, record_schema.URI_NOT_CANONICAL, record_schema.TEXT_NOT_NORMALISED,
                  record_schema.FUTURE_TIMESTAMP, record_schema.PUBLISHED_AFTER_FETCHED)

# -- novelty and verification (validator/step.py, validator/store) -------------------------------------------------
DUPLICATE = "duplicate"  # also the stem of "duplicate:<kind>" (exact, folded, near)
DUPLICATE_IN_BATCH = "duplicate_in_batch"
VERIFICATION_FAILED = "verification_failed"
UNVERIFIED = "unverified"
CHANGED_WHILE_HELD = "changed_while_held"  # prefix of a held batch's check reason, not a rejection
# -- versions of accepted pages (validator/versions.py) --------------------------------------------------------------
UNCONFIRMED_VERSION = "unconfirmed_version"  # another text of an accepted URI that the live page did not confirm
DUPLICATE_URI = "duplicate_uri"  # another text of the same URI became the page's row in this step


def http_status(status: int) -> str:
    """`http_503` for a miner's 503 answer."""
    return f"http_{status}"


def protocol(reason: str) -> str:
    """The stored reason of a whole answer refused for `reason`."""
    return f"protocol:{reason}"


def labelled(stage: str, reason: str | None) -> str:
    """`stage:reason` (scoring's reasons may already carry the stage)."""
    reason = reason or LOW
    return reason if reason.startswith(f"{stage}:") else f"{stage}:{reason}"


def duplicate(kind: str | None) -> str:
    """`duplicate:<kind>` of a record matching accepted data, or plain `duplicate` when the kind is unknown."""
    return f"{DUPLICATE}:{kind}" if kind else DUPLICATE
