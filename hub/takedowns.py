"""Takedowns: a deny-list of URIs, hosts and content hashes in the hub's own tables, honoured by every later release.

An entry is read from what the operator types: `https://…` is a URI (canonicalised with `schemas.canonical_url`, the
form accepted records carry), 64 hex digits a sha256 content hash, anything else a host — `example.org` that host
only, `*.example.org` the host and every host under it. Rows already published stay in the earlier releases' files
(a release only adds files); every release made after the entry leaves matching rows out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, select

from hub.state import MIGRATIONS_DIR, VERSION_TABLE, DenyRow
from schemas.accepted import AcceptedRecord
from schemas.errors import GleanError, PublishError
from schemas.record import utcnow
from schemas.urls import canonical_url, url_host
from storage import session_factory, transaction, upgrade

KINDS = ("uri", "host", "hash")
_HASH = re.compile(r"[0-9a-f]{64}")
_HOST = re.compile(r"(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


@dataclass(frozen=True)
class DenyEntry:
    kind: str
    value: str
    reason: str = ""
    added_at: datetime | None = None


def parse_entry(text: str) -> tuple[str, str]:
    """(kind, normalised value) of what an operator typed; PublishError with the accepted forms otherwise."""
    value = text.strip()
    if value.lower().startswith(("http://", "https://")):
        try:
            return "uri", canonical_url(value)
        except GleanError as exc:
            raise PublishError(f"{value!r} is not a URL glean can publish: {exc}",
                               hint="give the URL as it appears in the dataset's `uri` column") from exc
    if _HASH.fullmatch(value.lower()):
        return "hash", value.lower()
    host = value.lower().rstrip(".")
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        host = ""
    if host and _HOST.fullmatch(host):
        return "host", host
    raise PublishError(f"{value!r} is neither a URL, a host nor a sha256 content hash",
                       hint="e.g. https://example.org/page, example.org, *.example.org or a 64-hex content_hash")


class Denied:
    """The deny-list loaded for one release: `blocks(record)` says whether a row must be left out."""

    def __init__(self, entries: list[DenyEntry]) -> None:
        self.uris = {e.value for e in entries if e.kind == "uri"}
        self.hashes = {e.value for e in entries if e.kind == "hash"}
        self.hosts = {e.value for e in entries if e.kind == "host" and not e.value.startswith("*.")}
        self.suffixes = tuple(e.value[1:] for e in entries if e.kind == "host" and e.value.startswith("*."))
        self.apexes = {s[1:] for s in self.suffixes}

    def __bool__(self) -> bool:
        return bool(self.uris or self.hashes or self.hosts or self.suffixes)

    def blocks(self, acc: AcceptedRecord) -> bool:
        rec = acc.record
        if rec.content_hash in self.hashes or rec.uri in self.uris:
            return True
        if not (self.hosts or self.suffixes):
            return False
        host = url_host(rec.uri)
        return host in self.hosts or host in self.apexes or host.endswith(self.suffixes)


class DenyList:
    """The deny-list table in `engine` (migrated on construction)."""

    def __init__(self, engine: Engine) -> None:
        upgrade(engine, MIGRATIONS_DIR, VERSION_TABLE)
        self._sessions = session_factory(engine)

    def add(self, text: str, reason: str = "") -> DenyEntry:
        """Deny what `text` names (idempotent: adding it again keeps the first entry)."""
        kind, value = parse_entry(text)
        with transaction(self._sessions) as s:
            row = s.get(DenyRow, (kind, value))
            if row is None:
                row = DenyRow(kind=kind, value=value, reason=reason, added_at=utcnow())
                s.add(row)
            return DenyEntry(row.kind, row.value, row.reason, row.added_at)

    def remove(self, text: str) -> bool:
        """Forget an entry; False when there was none."""
        kind, value = parse_entry(text)
        with transaction(self._sessions) as s:
            return s.execute(delete(DenyRow).where(DenyRow.kind == kind, DenyRow.value == value)).rowcount > 0

    def entries(self) -> list[DenyEntry]:
        with self._sessions() as s:
            rows = s.scalars(select(DenyRow).order_by(DenyRow.kind, DenyRow.value)).all()
            return [DenyEntry(r.kind, r.value, r.reason, r.added_at) for r in rows]

    def load(self) -> Denied:
        return Denied(self.entries())
