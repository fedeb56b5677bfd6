"""`pull`: load a published domain (local folder or Hub repo, any revision) with `datasets`, then filter."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from hub import constants
from hub.local_target import read_tags
from schemas.errors import PullError
from schemas.times import as_utc

if TYPE_CHECKING:
    import datasets


def _local_files(folder: Path, domain: str, revision: str) -> list[str]:
    """Shards of `domain` in every release up to `revision` (a release name or a local revision id)."""
    tags = read_tags(folder)
    upto = next((i for i, t in enumerate(tags) if revision in (t["release"], t.get("revision"))), None)
    if upto is None:
        known = ", ".join(t["release"] for t in tags) or "(none)"
        raise PullError(f"{folder} has no release {revision!r}", hint=f"known releases: {known}")
    prefix = f"data/{domain}/"
    return [str(folder / f["path"]) for t in tags[: upto + 1] for f in t["files"] if f["path"].startswith(prefix)]


def _check_domain(folder: Path, domain: str) -> None:
    if not (folder / "data" / domain).is_dir():
        known = sorted(p.name for p in (folder / "data").glob("*") if p.is_dir())
        raise PullError(f"{folder} has no domain {domain!r}", hint=f"published domains: {', '.join(known) or '(none)'}")


def _download(repo: str, domain: str, revision: str | None, endpoint: str | None, token: str | None) -> Path:
    """The card and the domain's shards at `revision`, through the Hugging Face cache (works offline once cached)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        return Path(snapshot_download(repo, repo_type="dataset", revision=revision, endpoint=endpoint,
                                      token=token, allow_patterns=["README.md", f"data/{domain}/**"]))
    except RevisionNotFoundError as exc:
        raise PullError(f"{repo} has no revision {revision!r}", hint="use a release tag of the repo") from exc
    except RepositoryNotFoundError as exc:
        raise PullError(f"dataset repo {repo} not found", hint="check the repo id (and HF_TOKEN if private)") from exc
    except (LocalEntryNotFoundError, OfflineModeIsEnabled) as exc:
        raise PullError(f"{repo} is not in the local cache and the Hub is unreachable or offline mode is on",
                        hint="unset HF_HUB_OFFLINE and check the network, or pull from a --path") from exc


def _load(folder: Path, domain: str, files: list[str] | None) -> datasets.Dataset:
    import datasets

    if files is not None and not files:  # the domain had no rows yet at that revision
        features = _features()
        return datasets.Dataset.from_dict({name: [] for name in features}, features=features)
    try:
        if files is not None:
            return datasets.load_dataset("parquet", data_files=files, split=constants.SPLIT, features=_features())
        return datasets.load_dataset(str(folder), domain, split=constants.SPLIT)
    except (ValueError, FileNotFoundError, datasets.exceptions.DatasetNotFoundError) as exc:
        raise PullError(f"cannot load {domain} from {folder}: {exc}",
                        hint="is this a folder glean published (README.md with configs, data/<domain>/)?") from exc


def _features():
    import datasets

    from hub.columns import SCHEMA

    return datasets.Features.from_arrow_schema(SCHEMA)


def filter_rows(ds: datasets.Dataset, *, since: datetime | None = None, source: str | None = None,
                min_quality: float | None = None, lang: str | None = None) -> datasets.Dataset:
    """Rows matching every given filter, selected with Arrow compute (no Python loop over rows).

    `since` applies to `claimed_published_at`, or to `claimed_fetched_at` when the miner gave no publication time
    (both the miner's claims; `lang` compares `claimed_lang`).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from hub.columns import TIMESTAMP

    table = ds.data.table if ds._indices is None else ds.flatten_indices().data.table
    conditions = []
    if since is not None:
        when = pc.coalesce(table["claimed_published_at"], table["claimed_fetched_at"])
        conditions.append(pc.greater_equal(when, pa.scalar(as_utc(since), TIMESTAMP)))
    if source is not None:
        conditions.append(pc.equal(table["source"], source))
    if min_quality is not None:
        conditions.append(pc.greater_equal(table["quality"], float(min_quality)))
    if lang is not None:
        conditions.append(pc.equal(table["claimed_lang"], lang.lower()))
    if not conditions:
        return ds
    mask = conditions[0]
    for cond in conditions[1:]:
        mask = pc.and_(mask, cond)
    # int64: datasets mixes the indices with signed arithmetic (uint64 would turn into floats).
    indices = pc.indices_nonzero(pc.fill_null(mask, False)).cast(pa.int64()).to_numpy()
    return ds.select(indices)


def pull(domain: str, *, repo: str | None = None, path: Path | str | None = None, revision: str | None = None,
         since: datetime | None = None, source: str | None = None, min_quality: float | None = None,
         lang: str | None = None, endpoint: str | None = None, token: str | None = None) -> datasets.Dataset:
    """One domain of a published glean dataset as a `datasets.Dataset` (split train), filtered.

    `path`: a local folder written by `LocalTarget` (`revision`: a release name; rows of later releases are
    left out). `repo`: a Hub dataset repo (`revision`: a tag, branch or commit; default main), downloaded
    through the Hugging Face cache from `endpoint` (default HF_ENDPOINT or huggingface.co).
    """
    if (repo is None) == (path is None):
        raise PullError("give exactly one of repo= or path=", hint="e.g. pull('ml-research', repo='org/glean')")
    files: list[str] | None = None
    if path is not None:
        folder = Path(path).expanduser().resolve()
        if not folder.is_dir():
            raise PullError(f"{folder} is not a folder", hint="pass the folder a local publish wrote")
        _check_domain(folder, domain)
        if revision is not None:
            files = _local_files(folder, domain, revision)
    else:
        folder = _download(repo, domain, revision, endpoint, token)
        _check_domain(folder, domain)
        # Only this domain was downloaded, and `datasets` infers the format from the card's first config:
        # read the downloaded shards directly.
        files = sorted(str(p) for p in (folder / "data" / domain).glob("*/*.parquet"))
    return filter_rows(_load(folder, domain, files), since=since, source=source, min_quality=min_quality, lang=lang)
