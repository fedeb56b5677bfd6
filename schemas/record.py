"""Record: one curated document, strictly validated; every derived field is recomputed and checked."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator
from pydantic_core import PydanticCustomError

from schemas.errors import RecordError
from schemas.text import content_hash, normalize_text
from schemas.urls import canonical_url

# The built-in source kinds; `scrapers.kinds.register` adds a third-party kind's name here, so a kind is one module
# of scrapers and never an edit of schemas. A name nobody registered is refused wherever a kind is named.
SOURCE_KINDS: tuple[str, ...] = ("web", "feed", "wikipedia", "hackernews", "reddit", "arxiv", "stackexchange")
_known_kinds: set[str] = set(SOURCE_KINDS)
KIND_NAME_PATTERN = r"^[a-z][a-z0-9_]{1,31}$"


def add_source_kind(name: str) -> None:
    """Let records and domain specs name the source kind `name` (called by the scrapers' kind registry)."""
    if not re.fullmatch(KIND_NAME_PATTERN, name):
        raise ValueError(f"source kind name {name!r} must match {KIND_NAME_PATTERN}")
    _known_kinds.add(name)


def known_source_kinds() -> tuple[str, ...]:
    """Every source kind name records and domain specs may use: the built-in ones, then registered ones."""
    return SOURCE_KINDS + tuple(sorted(_known_kinds - set(SOURCE_KINDS)))


def _known_kind(value: str) -> str:
    if value not in _known_kinds:
        raise PydanticCustomError("unknown_source_kind", "unknown source kind {kind!r}; use one of {known}",
                                  {"kind": value, "known": ", ".join(known_source_kinds())})
    return value


SourceKind = Annotated[str, AfterValidator(_known_kind)]

MAX_TEXT_CHARS = 200_000
MAX_TITLE_CHARS = 1_000
MAX_META_BYTES = 4_096
MAX_LABELS = 32
CLOCK_SKEW = timedelta(minutes=5)

DomainId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$")]
Label = Annotated[str, StringConstraints(min_length=1, max_length=64)]
LangCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]

# Error types (pydantic's `type` of an error) of the checks on derived fields, so a reader can tell which check
# failed from the error's data, never from its wording (the validator counts rejections under these names).
HASH_MISMATCH = "hash_mismatch"
URI_NOT_CANONICAL = "uri_not_canonical"
TEXT_NOT_NORMALISED = "text_not_normalised"
FUTURE_TIMESTAMP = "future_timestamp"
PUBLISHED_AFTER_FETCHED = "published_after_fetched"  # a claimed date no page could have had when it was fetched


def utcnow() -> datetime:
    """Timezone-aware now in UTC."""
    return datetime.now(UTC)


def _check_timestamp(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (add +00:00 or Z)")
    if value - utcnow() > CLOCK_SKEW:
        raise PydanticCustomError(FUTURE_TIMESTAMP, "{name} {value} is in the future",
                                  {"name": name, "value": value.isoformat()})
    return value.astimezone(UTC)


class Record(BaseModel):
    """One curated document as miners store it and validators receive it."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

    uri: Annotated[str, StringConstraints(min_length=8, max_length=2048)]
    source: SourceKind
    domain: DomainId
    title: Annotated[str, StringConstraints(max_length=MAX_TITLE_CHARS)] = ""
    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_CHARS)]
    content_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    fetched_at: datetime
    published_at: datetime | None = None
    lang: LangCode | None = None
    license: Annotated[str, StringConstraints(max_length=200)] | None = None
    labels: Annotated[list[Label], Field(max_length=MAX_LABELS)] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)

    @field_validator("uri")
    @classmethod
    def _uri_is_canonical(cls, uri: str) -> str:
        try:
            canonical = canonical_url(uri)
        except RecordError as exc:
            raise ValueError(str(exc)) from None
        if canonical != uri:
            raise PydanticCustomError(URI_NOT_CANONICAL, "uri is not canonical: expected {expected}",
                                      {"expected": repr(canonical)})
        return uri

    @field_validator("text")
    @classmethod
    def _text_is_normalised(cls, text: str) -> str:
        if normalize_text(text) != text:
            raise PydanticCustomError(TEXT_NOT_NORMALISED, "text is not normalised (use schemas.normalize_text)")
        return text

    @field_validator("title")
    @classmethod
    def _title_single_line(cls, title: str) -> str:
        if "\n" in title:
            raise ValueError("title must be a single line")
        return title

    @field_validator("fetched_at", "published_at")
    @classmethod
    def _aware_and_not_future(cls, value: datetime | None, info) -> datetime | None:
        return _check_timestamp(value, info.field_name)

    @field_validator("meta")
    @classmethod
    def _meta_small(cls, meta: dict[str, Any]) -> dict[str, Any]:
        try:
            size = len(json.dumps(meta, separators=(",", ":"), ensure_ascii=False).encode())
        except (TypeError, ValueError) as exc:
            raise ValueError(f"meta must be plain JSON: {exc}") from None
        if size > MAX_META_BYTES:
            raise ValueError(f"meta is {size} bytes, more than {MAX_META_BYTES}")
        return meta

    @model_validator(mode="after")
    def _hash_matches_text(self) -> Record:
        expected = content_hash(self.text)
        if self.content_hash != expected:
            raise PydanticCustomError(HASH_MISMATCH, "content_hash does not match text (expected {expected})",
                                      {"expected": expected})
        return self

    @model_validator(mode="after")
    def _published_before_fetched(self) -> Record:
        # published_at drives freshness: a page cannot have been published after the miner fetched it
        if self.published_at is not None and self.published_at - self.fetched_at > CLOCK_SKEW:
            raise PydanticCustomError(PUBLISHED_AFTER_FETCHED,
                                      "published_at {published} is after fetched_at {fetched}: claim only the date "
                                      "the page shows, and fetch time from your own clock",
                                      {"published": self.published_at.isoformat(),
                                       "fetched": self.fetched_at.isoformat()})
        return self

    @property
    def text_bytes(self) -> int:
        return len(self.text.encode("utf-8"))

    @classmethod
    def build(cls, *, uri: str, text: str, **fields: Any) -> Record:
        """Build a valid record from raw values: canonical URL, normalised text, computed hash."""
        normalized = normalize_text(text)
        title = " ".join(str(fields.pop("title", "") or "").split())[:MAX_TITLE_CHARS]
        fields.setdefault("fetched_at", utcnow())
        return cls(uri=canonical_url(uri), text=normalized, content_hash=content_hash(normalized),
                   title=title, **fields)
