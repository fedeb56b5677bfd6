"""A Hugging Face dataset repo (or any Hub-compatible server) through `huggingface_hub`.

One release is one `create_commit` (its new shards and the regenerated card), then a tag named after the
release on that commit. Transient failures (connection errors, 429, 5xx) are retried with exponential
back-off; a re-run of a release whose tag already exists returns that tag's commit and uploads nothing.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from hub import constants
from hub.release import Published, StagedRelease
from schemas.errors import PublishError

log = logging.getLogger(__name__)
T = TypeVar("T")
REPO_TYPE = "dataset"


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _transport_errors() -> tuple[type[BaseException], ...]:
    # huggingface_hub 2.x talks through httpx2, 1.x through httpx: either one's transport errors count.
    errors: list[type[BaseException]] = [TimeoutError, ConnectionError]
    for module in ("httpx2", "httpx"):
        with contextlib.suppress(ImportError):
            errors.append(importlib.import_module(module).TransportError)
    return tuple(errors)


def is_transient(exc: BaseException) -> bool:
    """True for errors worth retrying: network trouble, timeouts, rate limits and server-side failures."""
    from huggingface_hub.errors import OfflineModeIsEnabled

    transport = _transport_errors()
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OfflineModeIsEnabled):
            return False
        status = _status(seen)
        if status is not None:
            return status in constants.HUB_TRANSIENT_STATUSES
        if isinstance(seen, transport):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class HubTarget:
    """Publish to `repo_id` on the Hub at `endpoint` (default HF_ENDPOINT or huggingface.co) with `token`
    (default HF_TOKEN). Shards are staged under `staging_dir` (default the system temp folder)."""

    def __init__(self, repo_id: str, *, token: str | None = None, endpoint: str | None = None,
                 private: bool | None = None, staging_dir: Path | None = None,
                 retries: int = constants.HUB_RETRIES, backoff_seconds: float = constants.HUB_BACKOFF_SECONDS) -> None:
        from huggingface_hub import HfApi

        self.repo_id = repo_id
        self.endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")
        self.private = private
        self.staging_dir = staging_dir
        self.retries = retries
        self.backoff_seconds = backoff_seconds
        self._api = HfApi(endpoint=self.endpoint, token=token or os.environ.get("HF_TOKEN"))
        self._repo_ready = False

    @property
    def key(self) -> str:
        return f"hub:{self.endpoint}/datasets/{self.repo_id}"

    @property
    def load_hint(self) -> str:
        return self.repo_id

    def location(self, release: str) -> str:
        return f"{self.repo_id}@{release}"

    def staging_parent(self) -> Path | None:
        if self.staging_dir is not None:
            Path(self.staging_dir).mkdir(parents=True, exist_ok=True)
        return self.staging_dir

    def publish(self, release: StagedRelease) -> Published:
        self._ensure_repo()
        existing = self._tag_commit(release.name)
        if existing is not None:
            log.info("release already on the hub repo=%s release=%s revision=%s", self.repo_id, release.name,
                     existing)
            return Published(existing, self.location(release.name))
        revision = self._retry(f"commit of {release.name}", lambda: self._commit(release))
        self._retry(f"tag {release.name}", lambda: self._api.create_tag(
            self.repo_id, tag=release.name, revision=revision, repo_type=REPO_TYPE, exist_ok=True,
            tag_message=f"glean release {release.name}"))
        return Published(revision, self.location(release.name))

    def _ensure_repo(self) -> None:
        if not self._repo_ready:
            self._retry("create repo", lambda: self._api.create_repo(
                self.repo_id, repo_type=REPO_TYPE, exist_ok=True, private=self.private))
            self._repo_ready = True

    def _tag_commit(self, tag: str) -> str | None:
        refs = self._retry("list refs", lambda: self._api.list_repo_refs(self.repo_id, repo_type=REPO_TYPE))
        return next((t.target_commit for t in refs.tags if t.name == tag), None)

    def _commit(self, release: StagedRelease) -> str:
        from huggingface_hub import CommitOperationAdd

        # Fresh operations on every attempt: huggingface_hub mutates them and refuses to reuse them.
        operations = [CommitOperationAdd(path_in_repo=f.path_in_repo, path_or_fileobj=str(f.local_path))
                      for f in [*release.files, *release.assets]]
        operations.append(CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=release.card.encode()))
        added = ", ".join(f"{d} +{n}" for d, n in sorted(release.rows_by_domain.items()))
        info = self._api.create_commit(
            self.repo_id, operations, repo_type=REPO_TYPE,
            commit_message=f"glean release {release.name}",
            commit_description=f"Accepted ids {release.first_accepted_id}-{release.last_accepted_id}: {added}.")
        return info.oid

    def _retry(self, what: str, call: Callable[[], T]) -> T:
        for attempt in range(1, self.retries + 1):
            try:
                return call()
            except Exception as exc:
                if not is_transient(exc):
                    raise PublishError(f"{what} on {self.repo_id} at {self.endpoint} failed: {exc}",
                                       hint=_hint(exc)) from exc
                if attempt == self.retries:
                    raise PublishError(f"{what} on {self.repo_id} failed {attempt} times, last: {exc}",
                                       hint="the Hub is unavailable; publish again later (nothing is lost)") from exc
                delay = min(constants.HUB_BACKOFF_MAX_SECONDS, self.backoff_seconds * 2 ** (attempt - 1))
                delay *= 0.5 + random.random() / 2
                log.warning("hub call failed, retrying what=%s attempt=%d delay=%.2fs error=%s", what, attempt,
                            delay, exc)
                time.sleep(delay)
        raise AssertionError("unreachable")


def _hint(exc: BaseException) -> str:
    status = _status(exc)
    if status in (401, 403):
        return "set HF_TOKEN to a token with write access to the repo (or its organisation)"
    if status == 404:
        return "check the repo id and the endpoint"
    if "offline mode" in str(exc).lower():
        return "unset HF_HUB_OFFLINE to publish to the Hub"
    return "check the repo id, the token (HF_TOKEN) and the endpoint"
