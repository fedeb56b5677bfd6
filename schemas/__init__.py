"""Pydantic models shared by every package: records, domains, index, protocol, config, errors."""

from schemas.accepted import AcceptedRecord, Signal
from schemas.domain import DomainCatalog, DomainSpec, LicensePolicy, QualitySpec, RelevanceSpec, SourceSpec
from schemas.errors import (
    ChainError,
    ConfigError,
    DomainSpecError,
    GleanError,
    NotRegisteredError,
    ProtocolError,
    PublishError,
    PullError,
    RateLimitedError,
    RecordError,
    ScrapeError,
    StorageError,
)
from schemas.index import IndexBucket, MinerIndex, index_digest
from schemas.record import SOURCE_KINDS, Record, SourceKind, utcnow
from schemas.text import content_hash, hash_text, normalize_text, word_count
from schemas.urls import canonical_url, url_host

__all__ = [
    "SOURCE_KINDS", "AcceptedRecord", "ChainError", "ConfigError", "DomainCatalog", "DomainSpec",
    "DomainSpecError", "GleanError", "IndexBucket", "LicensePolicy", "MinerIndex", "NotRegisteredError",
    "ProtocolError", "PublishError", "PullError", "QualitySpec", "RateLimitedError", "Record", "RecordError",
    "RelevanceSpec", "ScrapeError", "Signal", "SourceKind", "SourceSpec", "StorageError", "canonical_url",
    "content_hash", "hash_text", "index_digest", "normalize_text", "url_host", "utcnow", "word_count",
]
