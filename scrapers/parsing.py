"""What every parser shares: its context, its result, its one error, and how a Record is built from raw values."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from schemas import GleanError, Record, ScrapeError, normalize_text, utcnow, word_count
from schemas.record import MAX_LABELS, MAX_TEXT_CHARS, SourceKind
from scrapers import reasons, settings
from scrapers.params import BaseParams

Headers = Mapping[str, str]  # lower-case header names -> first value


class ParseError(ScrapeError):
    """A response gave no record; `reason` is the counted reason (see scrapers.reasons)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason,
                         hint="the page or API answered something we cannot use; it is counted and skipped")
        self.reason = reason
        self.detail = detail

    def __reduce__(self):  # parse functions run in worker processes: keep `reason` across pickling
        return (type(self), (self.reason, self.detail))


@dataclass(frozen=True)
class ParseContext:
    """Who the records are for: the domain, the source (id, kind) and its validated params."""

    domain: str
    source_id: str
    kind: SourceKind
    params: BaseParams


@dataclass(frozen=True)
class Parsed:
    """Records from one response, URLs it points to, and reasons for the parts that gave no record."""

    records: tuple[Record, ...] = ()
    follow: tuple[str, ...] = ()
    skipped: tuple[str, ...] = field(default=())


def content_type(headers: Headers) -> str:
    """The media type of a response, lower-case, without parameters ('' when absent)."""
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def load_json(body: bytes, headers: Headers) -> Any:
    """Decode a JSON API answer, or raise ParseError with the reason (content type, empty, invalid)."""
    kind = content_type(headers)
    if kind and "json" not in kind and kind != "text/plain":
        raise ParseError(reasons.BAD_CONTENT_TYPE, kind)
    if not body.strip():
        raise ParseError(reasons.EMPTY)
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ParseError(reasons.INVALID_JSON, str(exc)[:120]) from None


def require(value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    """`value` when it has the expected JSON type, else ParseError(unexpected_shape)."""
    if not isinstance(value, kind):
        raise ParseError(reasons.UNEXPECTED_SHAPE, f"{what} is {type(value).__name__}")
    return value


def from_timestamp(value: Any) -> datetime | None:
    """A UTC datetime from unix seconds, ISO 8601 text or a date; None when absent or unreadable."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            return datetime.fromtimestamp(float(value), UTC)
        if isinstance(value, str) and value.strip():
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def not_future(value: datetime | None, now: datetime) -> datetime | None:
    """Published dates after `now` are wrong (time zones, typos, scheduled posts): drop them."""
    if value is None:
        return None
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return None if value > now else value.astimezone(UTC)


def clip_text(text: str) -> str:
    """Text cut at the last line break within the record size limit, once normalised (deterministic)."""
    if len(text) <= MAX_TEXT_CHARS // 3:
        return text  # NFC grows a string at most threefold (UAX #15); Record.build normalises it
    text = normalize_text(text)
    if len(text) <= MAX_TEXT_CHARS:
        return text
    cut = text.rfind("\n", 0, MAX_TEXT_CHARS)
    return normalize_text(text[: cut if cut > 0 else MAX_TEXT_CHARS])


def clean_lang(value: str | None) -> str | None:
    """A language code Record accepts ('en', 'pt-BR'), or None for anything else."""
    if not value:
        return None
    code = value.strip().replace("_", "-")
    main, _, region = code.partition("-")
    code = main.lower() + (f"-{region}" if region else "")
    return code if re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?", code) else None


def clean_labels(labels: Iterable[str]) -> list[str]:
    out: list[str] = []
    for label in labels:
        label = " ".join(str(label).split())[:64]
        if label and label not in out:
            out.append(label)
    return out[:MAX_LABELS]


def make_record(
    ctx: ParseContext,
    *,
    uri: str,
    text: str,
    title: str = "",
    published_at: datetime | None = None,
    lang: str | None = None,
    license: str | None = None,
    labels: Iterable[str] = (),
    meta: Mapping[str, Any] | None = None,
) -> Record:
    """A valid Record of this source, or ParseError (too_short, invalid_record)."""
    text = clip_text(text)
    if word_count(text) < settings.MIN_RECORD_WORDS:
        raise ParseError(reasons.TOO_SHORT, f"{word_count(text)} words")
    now = utcnow()
    extras = {"source_id": ctx.source_id}
    extras.update({k: v for k, v in (meta or {}).items() if v not in (None, "", [], {})})
    try:
        return Record.build(
            uri=uri, text=text, title=title, source=ctx.kind, domain=ctx.domain, fetched_at=now,
            published_at=not_future(published_at, now), lang=clean_lang(lang),
            license=license[:200] if license else None, labels=clean_labels(labels), meta=extras,
        )
    except (ValidationError, GleanError, ValueError) as exc:
        raise ParseError(reasons.INVALID_RECORD, str(exc).splitlines()[0][:200]) from None
