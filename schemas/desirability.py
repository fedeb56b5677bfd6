"""Desirability lists (what one validator wants collected) and the network's desirability (their stake-weighted
combination), with the byte-exact encoding every node must agree on (DESIGN §11, docs/desirability.md).

A list names each domain by its **spec hash**: sha256 of the RFC 8785 canonical JSON of the full DomainSpec (every
field, defaults included), so two validators that want the same spec vote for the same entry whatever its YAML
looked like, and a spec edited by anyone is a different entry. `combine` is pure and deterministic: the same lists
and stakes give the same bytes on every node.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import Annotated, Any

import rfc8785
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from schemas.domain import DomainSpec
from schemas.errors import ProtocolError
from schemas.record import DomainId
from schemas.validation import first_problem

# Weights are rounded to this many decimals wherever they are written (lists and the network list), so the
# canonical bytes do not depend on float noise.
WEIGHT_DECIMALS = 6
MAX_ENTRY_WEIGHT = 1_000_000.0
MAX_ENTRIES = 256  # domains in one list
MAX_WINDOW_DAYS = 3650
MAX_LIST_BYTES = 1024 * 1024  # a served list larger than this is refused unread
LIST_VERSION = 1

SpecHash = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON of a JSON-able value."""
    return rfc8785.dumps(value)


def spec_json(spec: DomainSpec) -> dict[str, Any]:
    """The full spec as JSON values (defaults included): what a list entry carries and its hash covers."""
    return spec.model_dump(mode="json")


def spec_hash(spec: DomainSpec | Mapping[str, Any]) -> str:
    """sha256 hex of the spec's canonical JSON."""
    data = spec_json(spec) if isinstance(spec, DomainSpec) else dict(spec)
    return hashlib.sha256(canonical_json(data)).hexdigest()


def round_weight(weight: float) -> float:
    return round(float(weight), WEIGHT_DECIMALS)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DesirabilityEntry(_Model):
    """One wanted domain: its full spec, the spec's hash, a positive weight, and the age of content it asks for
    (`window_days`: records published within that many days; None: any age) — a hint miners use to choose what to
    crawl."""

    domain_id: DomainId
    spec: dict[str, Any]
    spec_hash: SpecHash
    weight: Annotated[float, Field(gt=0, le=MAX_ENTRY_WEIGHT, allow_inf_nan=False)]
    window_days: Annotated[int, Field(ge=1, le=MAX_WINDOW_DAYS)] | None = None

    @classmethod
    def of(cls, spec: DomainSpec, weight: float, window_days: int | None = None) -> DesirabilityEntry:
        """The entry for a loaded spec (hash computed, weight rounded)."""
        data = spec_json(spec)
        return cls(domain_id=spec.id, spec=data, spec_hash=spec_hash(data), weight=round_weight(weight),
                   window_days=window_days)

    @field_validator("weight")
    @classmethod
    def _rounded(cls, value: float) -> float:
        if round_weight(value) != value:
            raise ValueError(f"weight {value} has more than {WEIGHT_DECIMALS} decimals; round it")
        return value

    @model_validator(mode="after")
    def _spec_matches(self) -> DesirabilityEntry:
        try:
            parsed = DomainSpec.model_validate(self.spec)
        except ValidationError as exc:
            raise ValueError(f"spec is not a valid domain spec: {first_problem(exc)}") from None
        if parsed.id != self.domain_id:
            raise ValueError(f"spec id {parsed.id!r} differs from domain_id {self.domain_id!r}")
        if spec_json(parsed) != self.spec:
            raise ValueError("spec is not in its full form (every field, defaults included, as JSON values)")
        if spec_hash(self.spec) != self.spec_hash:
            raise ValueError(f"spec_hash {self.spec_hash} is not the sha256 of the spec's canonical JSON")
        return self

    def domain_spec(self) -> DomainSpec:
        return DomainSpec.model_validate(self.spec)


class DesirabilityList(_Model):
    """One validator's list: entries sorted by spec hash, each spec at most once."""

    version: Annotated[int, Field(ge=1, le=LIST_VERSION)] = LIST_VERSION
    entries: Annotated[tuple[DesirabilityEntry, ...], Field(max_length=MAX_ENTRIES)] = ()

    @classmethod
    def build(cls, entries: Iterable[DesirabilityEntry]) -> DesirabilityList:
        """A list of `entries` in canonical order (a spec given twice keeps its larger weight)."""
        best: dict[str, DesirabilityEntry] = {}
        for entry in entries:
            kept = best.get(entry.spec_hash)
            if kept is None or entry.weight > kept.weight:
                best[entry.spec_hash] = entry
        return cls(entries=tuple(best[h] for h in sorted(best)))

    @model_validator(mode="after")
    def _canonical_order(self) -> DesirabilityList:
        hashes = [e.spec_hash for e in self.entries]
        if hashes != sorted(set(hashes)):
            raise ValueError("entries must be sorted by spec_hash, each spec once")
        return self

    @cached_property
    def _bytes(self) -> bytes:  # the model is frozen: its bytes never change
        return canonical_json(self.model_dump(mode="json"))

    def canonical(self) -> bytes:
        return self._bytes

    def hash(self) -> str:
        return hashlib.sha256(self._bytes).hexdigest()

    @classmethod
    def parse(cls, body: bytes, expected_hash: str) -> DesirabilityList:
        """The list served under `expected_hash`; ProtocolError unless the bytes hash to it and are canonical."""
        if len(body) > MAX_LIST_BYTES:
            raise ProtocolError(f"desirability list of {len(body)} bytes exceeds {MAX_LIST_BYTES}",
                                hint="serve lists under the size limit")
        if hashlib.sha256(body).hexdigest() != expected_hash:
            raise ProtocolError(f"the list served as {expected_hash[:12]}… does not match that hash",
                                hint="serve the exact bytes whose sha256 was committed")
        try:
            parsed = cls.model_validate(json.loads(body))
        except (ValueError, ValidationError) as exc:
            detail = first_problem(exc) if isinstance(exc, ValidationError) else str(exc)
            raise ProtocolError(f"desirability list {expected_hash[:12]}… is malformed: {detail}",
                                hint="build lists with DesirabilityList.build") from None
        if parsed.canonical() != body:
            raise ProtocolError(f"desirability list {expected_hash[:12]}… is not in canonical form (RFC 8785)",
                                hint="serve DesirabilityList.canonical() bytes")
        return parsed


class NetworkEntry(_Model):
    """One domain of the network list: its spec (named by hash), its normalised weight, the validators' window."""

    domain_id: DomainId
    spec_hash: SpecHash
    spec: dict[str, Any]
    weight: Annotated[float, Field(gt=0, le=1)]
    window_days: int | None = None

    def domain_spec(self) -> DomainSpec:
        return DomainSpec.model_validate(self.spec)


class NetworkDesirability(_Model):
    """The network's desirability evaluated at `block`: entries by descending weight (ties by spec hash), and the
    hash of the list used for each validator. `sources` holds the lists themselves (not part of the bytes)."""

    block: int
    entries: tuple[NetworkEntry, ...] = ()
    lists: dict[str, SpecHash] = Field(default_factory=dict)
    sources: dict[str, DesirabilityList] = Field(default_factory=dict, exclude=True)

    def canonical(self) -> bytes:
        return canonical_json(self.model_dump(mode="json"))

    def hash(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()

    def weights(self) -> dict[str, float]:
        """domain id -> weight."""
        return {e.domain_id: e.weight for e in self.entries}

    def specs(self) -> list[DomainSpec]:
        return [e.domain_spec() for e in self.entries]


def _usable(lists: Mapping[str, DesirabilityList | None], stakes: Mapping[str, float],
            previous: Mapping[str, DesirabilityList]) -> dict[str, tuple[DesirabilityList, float]]:
    """hotkey -> (the list counted for it, its stake): its fetched list, else its previous one, else left out;
    a validator without positive stake or without entries counts for nothing."""
    used: dict[str, tuple[DesirabilityList, float]] = {}
    for hotkey in sorted(lists):
        found = lists[hotkey] if lists[hotkey] is not None else previous.get(hotkey)
        stake = float(stakes.get(hotkey, 0.0))
        if found is not None and found.entries and math.isfinite(stake) and stake > 0:
            used[hotkey] = (found, stake)
    return used


def combine(lists: Mapping[str, DesirabilityList | None], stakes: Mapping[str, float],
            previous: Mapping[str, DesirabilityList], *, block: int = 0) -> NetworkDesirability:
    """The network's desirability from each validator's list (None: not fetched or not matching its commitment).

    Each counted list is normalised to sum 1 and weighted by its validator's share of the counted stake; weights
    of one spec hash add up. A domain id reached by several spec hashes keeps the one with the most weight (ties:
    the smaller hash); the others are dropped. Weights are renormalised and rounded to WEIGHT_DECIMALS; entries
    rounding to 0 are dropped. The window of an entry is the widest any counted list asks for (None = any age)."""
    used = _usable(lists, stakes, previous)
    total_stake = math.fsum(stake for _, stake in used.values())
    parts: dict[str, list[float]] = defaultdict(list)
    entries: dict[str, DesirabilityEntry] = {}
    windows: dict[str, int | None] = {}
    for found, stake in used.values():
        list_total = math.fsum(e.weight for e in found.entries)
        for e in found.entries:
            parts[e.spec_hash].append(stake / total_stake * e.weight / list_total)
            entries.setdefault(e.spec_hash, e)
            old = windows.get(e.spec_hash, e.window_days)
            windows[e.spec_hash] = None if old is None or e.window_days is None else max(old, e.window_days)
    score = {h: math.fsum(sorted(p)) for h, p in parts.items()}
    best: dict[str, str] = {}
    for h in sorted(score):
        domain = entries[h].domain_id
        if domain not in best or score[h] > score[best[domain]]:
            best[domain] = h
    kept = {h: score[h] for h in best.values()}
    total = math.fsum(kept.values())
    weights = {h: round_weight(w / total) for h, w in kept.items()} if total > 0 else {}
    ordered = sorted((h for h, w in weights.items() if w > 0), key=lambda h: (-weights[h], h))
    return NetworkDesirability(
        block=block,
        entries=tuple(NetworkEntry(domain_id=entries[h].domain_id, spec_hash=h, spec=entries[h].spec,
                                   weight=weights[h], window_days=windows[h]) for h in ordered),
        lists={hotkey: found.hash() for hotkey, (found, _) in used.items()},
        sources={hotkey: found for hotkey, (found, _) in used.items()})
