"""A release: its deterministic name, the files staged for it, and what `Publisher.publish` returns."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

RELEASE_PATTERN = r"^r\d{8,}$"


def release_name(first_accepted_id: int) -> str:
    """`r00000001`: named by the first accepted id of its range (ranges never overlap, so names are unique;
    names sort in publishing order). The pending state fixes the range's end, so a re-run after a crash
    writes the same rows to the same paths."""
    return f"r{first_accepted_id:08d}"


def shard_path(domain: str, release: str, index: int) -> str:
    """Path of a shard inside the dataset repo (the layout the card's `configs` glob)."""
    return f"data/{domain}/{release}/part-{index:05d}.parquet"


def domain_glob(domain: str) -> str:
    """Every shard of every release of one domain."""
    return f"data/{domain}/*/*.parquet"


@dataclass(frozen=True)
class ReleaseInfo:
    """What a publish produced; the validator commits `location` on chain (e.g. `org/data@r00000001`)."""

    release: str
    revision: str
    location: str
    rows_by_domain: dict[str, int]


@dataclass(frozen=True)
class StagedFile:
    """A file written locally, to appear at `path_in_repo` in the release."""

    path_in_repo: str
    local_path: Path
    rows: int = 0


@dataclass(frozen=True)
class StagedRelease:
    """Everything one release adds: its shards, the regenerated card, and a manifest of the release."""

    name: str
    first_accepted_id: int
    last_accepted_id: int
    created_at: datetime
    files: list[StagedFile]
    card: str
    rows_by_domain: dict[str, int] = field(default_factory=dict)
    assets: list[StagedFile] = field(default_factory=list)  # files the card links to (the chart), replaced each release

    def manifest(self) -> dict:
        """Plain-JSON description of the release (the local target's tag file holds it)."""
        return {
            "release": self.name,
            "first_accepted_id": self.first_accepted_id,
            "last_accepted_id": self.last_accepted_id,
            "created_at": self.created_at.isoformat(),
            "rows_by_domain": dict(sorted(self.rows_by_domain.items())),
            "files": [{"path": f.path_in_repo, "rows": f.rows, "bytes": f.local_path.stat().st_size}
                      for f in self.files],
        }


@dataclass(frozen=True)
class Published:
    """Where a release landed: the revision (commit id) and the location string consumers resolve."""

    revision: str
    location: str


def parse_location(text: str) -> tuple[str, str] | None:
    """`("org/data", "r00000001")` from `org/data@r00000001` (a repo id or a folder); None if it is not one."""
    where, sep, release = text.strip().rpartition("@")
    if not sep or not where or not re.fullmatch(RELEASE_PATTERN, release):
        return None
    return where, release
