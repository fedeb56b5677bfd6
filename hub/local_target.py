"""A local folder laid out like a Hub dataset repo; the embedded default target.

Layout: `README.md`, `data/<domain>/<release>/part-*.parquet`, and `releases/<release>.json`, the local
equivalent of a git tag: written last (temp file, then rename), so a release exists exactly when its tag
file does. Shards are staged in `.staging/` inside the folder and moved in with a rename of each
domain's release directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

from hub.release import Published, StagedRelease
from schemas.errors import PublishError

TAGS_DIR = "releases"
STAGING_DIR = ".staging"
# Staging folders older than this were left by a run that was killed (a release stages in minutes).
STALE_STAGING_SECONDS = 6 * 3600


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def local_revision(manifest: dict) -> str:
    """A commit-like id of a local release: sha1 of its manifest (paths, rows and sizes of its files)."""
    return hashlib.sha1(json.dumps(manifest, sort_keys=True).encode()).hexdigest()


def read_tags(folder: Path) -> list[dict]:
    """Manifests of the releases in a local dataset folder, oldest first."""
    tags = []
    for path in sorted((Path(folder) / TAGS_DIR).glob("*.json")):
        tags.append(json.loads(path.read_text(encoding="utf-8")))
    return sorted(tags, key=lambda t: t["first_accepted_id"])


class LocalTarget:
    """Publish releases into `folder` (created if missing)."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder).expanduser().resolve()

    @property
    def key(self) -> str:
        return f"local:{self.folder}"

    @property
    def load_hint(self) -> str:
        return str(self.folder)

    def location(self, release: str) -> str:
        return f"{self.folder}@{release}"

    def staging_parent(self) -> Path:
        parent = self.folder / STAGING_DIR
        parent.mkdir(parents=True, exist_ok=True)
        for stale in parent.iterdir():
            if time.time() - stale.stat().st_mtime > STALE_STAGING_SECONDS:
                shutil.rmtree(stale, ignore_errors=True)
        return parent

    def publish(self, release: StagedRelease) -> Published:
        tag = self.folder / TAGS_DIR / f"{release.name}.json"
        if tag.exists():  # published before a crash stopped the state from recording it
            return Published(json.loads(tag.read_text(encoding="utf-8"))["revision"], self.location(release.name))
        try:
            manifest = release.manifest()
            self._move_shards(release)
            for asset in release.assets:
                (self.folder / asset.path_in_repo).parent.mkdir(parents=True, exist_ok=True)
                _write_atomic(self.folder / asset.path_in_repo, asset.local_path.read_bytes())
            _write_atomic(self.folder / "README.md", release.card.encode("utf-8"))
            manifest["revision"] = local_revision(manifest)
            tag.parent.mkdir(parents=True, exist_ok=True)
            _write_atomic(tag, json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8"))
        except OSError as exc:
            raise PublishError(f"cannot write release {release.name} to {self.folder}: {exc.strerror or exc}",
                               hint="check free space and permissions of the hub folder, then publish again") from exc
        return Published(manifest["revision"], self.location(release.name))

    def _move_shards(self, release: StagedRelease) -> None:
        # Shards of one domain sit in one staged directory; it becomes data/<domain>/<release> in one rename.
        sources: dict[Path, Path] = {}
        for f in release.files:
            dest_dir = (self.folder / f.path_in_repo).parent
            src_dir = f.local_path.parent
            if sources.setdefault(dest_dir, src_dir) != src_dir:
                raise PublishError(f"release {release.name} staged {dest_dir.name} from two folders",
                                   hint="this is a bug in hub; report it")
            if f.local_path.name != Path(f.path_in_repo).name:
                raise PublishError(f"staged file {f.local_path} does not match {f.path_in_repo}",
                                   hint="this is a bug in hub; report it")
        for dest_dir, src_dir in sources.items():
            if dest_dir.exists():  # left by a run that crashed before its tag: same range, same rows
                shutil.rmtree(dest_dir)
            dest_dir.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src_dir, dest_dir)
