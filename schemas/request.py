"""A dataset request (DESIGN §11): a domain spec, the requester's hotkey, a target, an optional deadline and a note.

Its id is the sha256 of its canonical JSON (RFC 8785, `rfc8785`), so every validator names a request alike; the spec
is kept as the `DomainSpec`'s full JSON form (defaults filled in), so the same spec has one form and one hash on
every node. The wire answers of a validator's public listener about requests and feedback live here too.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Annotated, Any, Literal

import rfc8785
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from schemas.domain import DomainSpec
from schemas.errors import RequestError
from schemas.times import as_utc
from schemas.validation import first_problem, more_problems

MAX_REQUEST_BYTES = 32 * 1024     # canonical JSON of one request (the listener refuses larger bodies unread)
MAX_NOTE_CHARS = 500
MAX_SOURCES = 8                   # sources of a requested domain
MAX_TERMS = 200                   # keywords + phrases of a requested domain
MAX_TARGET = 1_000_000_000        # records or words asked for
SS58 = r"^[1-9A-HJ-NP-Za-km-z]{46,48}$"
STATUSES = ("pending", "adopted", "declined", "expired", "done")
RequestStatusName = Literal["pending", "adopted", "declined", "expired", "done"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(_Model):
    """How much data the requester wants: records or words (exactly one)."""

    records: Annotated[int, Field(ge=1, le=MAX_TARGET)] | None = None
    words: Annotated[int, Field(ge=1, le=MAX_TARGET)] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Target:
        if (self.records is None) == (self.words is None):
            raise ValueError("give exactly one of `records` or `words`")
        return self


class DatasetRequest(_Model):
    """One request; `spec` is the requested domain's spec as JSON (validated as a DomainSpec and normalised)."""

    spec: dict[str, Any]
    requester: Annotated[str, Field(pattern=SS58)]
    target: Target
    deadline: AwareDatetime | None = None
    note: Annotated[str, Field(max_length=MAX_NOTE_CHARS)] = ""

    @field_validator("spec")
    @classmethod
    def _spec_is_a_domain(cls, value: dict[str, Any]) -> dict[str, Any]:
        spec = DomainSpec.model_validate(value)
        if len(spec.sources) > MAX_SOURCES:
            raise ValueError(f"a requested domain has at most {MAX_SOURCES} sources")
        if len(spec.relevance.keywords) + len(spec.relevance.phrases) > MAX_TERMS:
            raise ValueError(f"a requested domain has at most {MAX_TERMS} keywords and phrases")
        return spec.model_dump(mode="json")

    @field_validator("deadline")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else as_utc(value).replace(microsecond=0)

    @property
    def domain(self) -> DomainSpec:
        return DomainSpec.model_validate(self.spec)

    def canonical(self) -> bytes:
        """The request's canonical JSON (RFC 8785): what is signed, sent, stored and hashed."""
        return rfc8785.dumps(self.model_dump(mode="json"))

    @property
    def request_id(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()


def parse_request(body: bytes, *, where: str = "request") -> DatasetRequest:
    """A request from JSON bytes; RequestError names the field and the fix."""
    if len(body) > MAX_REQUEST_BYTES:
        raise RequestError(f"{where}: {len(body)} bytes, more than {MAX_REQUEST_BYTES}",
                           hint="ask for a smaller spec (fewer sources, keywords, a shorter description)")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError(f"{where}: not JSON ({exc})", hint="send the request's canonical JSON") from None
    return request_from(data, where=where)


def request_from(data: Any, *, where: str = "request") -> DatasetRequest:
    """A request from parsed JSON; RequestError names the field (`spec.sources.0.kind: …`) and the fix."""
    try:
        return DatasetRequest.model_validate(data)
    except ValidationError as exc:
        raise RequestError(f"{where}: field {first_problem(exc, top='(top level)')}{more_problems(exc)}",
                           hint="fix that field; a spec has the format of domains/*.yaml (docs/requests.md)",
                           ) from None


class RequestState(_Model):
    """What one validator did with a request, and what it accepted for it so far (`GET /v1/requests/{id}`)."""

    request_id: str
    domain: str
    status: RequestStatusName
    weight: float | None = None
    received_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    reason: str | None = None
    deadline: datetime | None = None
    accepted_records: int = 0
    accepted_words: int = 0
    release: str | None = None   # the newest release location that holds rows of the domain


class SubmitAnswer(_Model):
    """The listener's answer to `POST /v1/requests`."""

    request_id: str
    status: RequestStatusName
    created: bool                # False: the validator already had this request


class SourceEvidence(_Model):
    """A miner's resolved checks of one source at one validator, and the lower bound it pays by."""

    source: str
    checks: int
    passed: int
    bound: float


class Feedback(_Model):
    """What one validator did with a miner's records (`GET /v1/feedback`, signed by the miner)."""

    validator: str
    uid: int | None
    hotkey: str
    accepted: int = 0
    rejected: dict[str, int] = Field(default_factory=dict)      # reason -> records
    verification: dict[str, int] = Field(default_factory=dict)  # pass / fail / unverified / unknown checks
    unverified_uris: list[str] = Field(default_factory=list)    # sampled records nobody could check, newest first
    sources: list[SourceEvidence] = Field(default_factory=list)
