"""Where releases go: the contract a target keeps (`LocalTarget`, `HubTarget`)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from hub.release import Published, StagedRelease


class Target(Protocol):
    """A dataset repository that takes one release at a time.

    `publish` must be idempotent: publishing a release that is already there (a re-run after a crash)
    returns where it is without adding anything.
    """

    @property
    def key(self) -> str:
        """Identity of the repository, scoping the publishing state (one watermark per target)."""

    @property
    def load_hint(self) -> str:
        """What a consumer passes to `load_dataset` / `glean pull` (repo id or folder)."""

    def staging_parent(self) -> Path | None:
        """Folder to stage shards in (same filesystem as the target when that matters); None: system temp."""

    def publish(self, release: StagedRelease) -> Published:
        """Make the release's files and card visible as one revision and tag it with the release name."""
