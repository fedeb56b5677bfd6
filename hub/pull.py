"""`pull`: load a published domain (local folder or Hub repo, any revision) with `datasets`, then filter.

`streaming=True` returns a `datasets.IterableDataset` instead: rows are read one Parquet row group at a time
(from the Hub with HTTP range requests, nothing downloaded ahead), filtered as they pass, so a pull may be larger
than memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING

from hub import constants
from hub.hub_target import _transport_errors
from hub.local_target import read_tags
from hub.release import domain_glob
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


def _no_domain(where: object, domain: str, known: Iterable[str]) -> PullError:
    listed = ", ".join(sorted(set(known))) or "(none)"
    return PullError(f"{where} has no domain {domain!r}", hint=f"published domains: {listed}")


def _card_domains(folder: Path) -> list[str]:
    """Config names in the card's YAML (a Hub download holds only the pulled domain's shards, but the whole card)."""
    from huggingface_hub import DatasetCard

    card = folder / "README.md"
    configs = DatasetCard.load(card).data.to_dict().get("configs") if card.is_file() else None
    return [c["config_name"] for c in configs or [] if isinstance(c, dict) and "config_name" in c]


def _check_domain(folder: Path, domain: str, where: object = None) -> None:
    if not (folder / "data" / domain).is_dir():
        known = [p.name for p in (folder / "data").glob("*") if p.is_dir()] + _card_domains(folder)
        raise _no_domain(where or folder, domain, known)


@contextmanager
def _hub_errors(repo: str, revision: str | None) -> Iterator[None]:
    """huggingface_hub's errors as PullErrors that say what to do (the same for a download and a stream)."""
    from huggingface_hub.errors import (
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        yield
    except RevisionNotFoundError as exc:
        raise PullError(f"{repo} has no revision {revision!r}", hint="use a release tag of the repo") from exc
    except RepositoryNotFoundError as exc:
        raise PullError(f"dataset repo {repo} not found", hint="check the repo id (and HF_TOKEN if private)") from exc
    except (LocalEntryNotFoundError, OfflineModeIsEnabled) as exc:
        raise PullError(f"{repo} is not in the local cache and the Hub is unreachable or offline mode is on",
                        hint="unset HF_HUB_OFFLINE and check the network (a stream always reads from the Hub), "
                             "or pull from a --path") from exc
    except _transport_errors() as exc:  # a stream asks the Hub first; a download falls back to the cache
        raise PullError(f"cannot reach the Hub for {repo}: {exc}",
                        hint="check the network and hub.endpoint / HF_ENDPOINT, or pull without --streaming "
                             "from the cache, or from a --path") from exc


def _download(repo: str, domain: str, revision: str | None, endpoint: str | None, token: str | None) -> Path:
    """The card and the domain's shards at `revision`, through the Hugging Face cache (works offline once cached)."""
    from huggingface_hub import snapshot_download

    with _hub_errors(repo, revision):
        return Path(snapshot_download(repo, repo_type="dataset", revision=revision, endpoint=endpoint,
                                      token=token, allow_patterns=["README.md", f"data/{domain}/**"]))


def _hub_files(repo: str, domain: str, revision: str | None, endpoint: str | None, token: str | None) -> list[str]:
    """`hf://` paths of the domain's shards at `revision`, pinned to its commit (the files `_download` fetches)."""
    from huggingface_hub import HfApi

    with _hub_errors(repo, revision):
        info = HfApi(endpoint=endpoint, token=token).dataset_info(repo, revision=revision)
    paths = sorted(s.rfilename for s in info.siblings or [])
    shards = [p for p in paths if fnmatch(p, domain_glob(domain))]
    if not shards:
        raise _no_domain(repo, domain, (p.split("/")[1] for p in paths if fnmatch(p, domain_glob("*"))))
    return [f"hf://datasets/{repo}@{info.sha}/{p}" for p in shards]


def _load(folder: Path, domain: str, files: list[str] | None, streaming: bool = False, storage_options=None):
    """The domain's rows: a `datasets.Dataset`, or a `datasets.IterableDataset` when `streaming`."""
    import datasets

    if files is not None and not files:  # the domain had no rows yet at that revision
        features = _features()
        empty = datasets.Dataset.from_dict({name: [] for name in features}, features=features)
        return empty.to_iterable_dataset() if streaming else empty
    try:
        if files is not None:
            return datasets.load_dataset("parquet", data_files=files, split=constants.SPLIT, features=_features(),
                                         streaming=streaming, storage_options=storage_options)
        return datasets.load_dataset(str(folder), domain, split=constants.SPLIT, streaming=streaming)
    except (ValueError, FileNotFoundError, datasets.exceptions.DatasetNotFoundError) as exc:
        raise PullError(f"cannot load {domain} from {folder}: {exc}",
                        hint="is this a folder glean published (README.md with configs, data/<domain>/)?") from exc


def _features():
    import datasets

    from hub.columns import SCHEMA

    return datasets.Features.from_arrow_schema(SCHEMA)


def _mask(table, *, since: datetime | None = None, source: str | None = None, min_quality: float | None = None,
          lang: str | None = None):
    """Boolean mask of the rows of an Arrow table matching every given filter (None: no filter given)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from hub.columns import TIMESTAMP

    conditions = []
    if since is not None:
        when = pc.coalesce(table["claimed_published_at"], table["claimed_fetched_at"])
        conditions.append(pc.greater_equal(when, pa.scalar(as_utc(since), TIMESTAMP)))
    if source is not None:
        conditions.append(pc.equal(table["source"], source))
    if min_quality is not None:
        conditions.append(pc.greater_equal(table["quality"], float(min_quality)))
    if lang is not None:
        conditions.append(pc.equal(table["lang"], lang.lower()))
    if not conditions:
        return None
    mask = conditions[0]
    for cond in conditions[1:]:
        mask = pc.and_(mask, cond)
    return pc.fill_null(mask, False)


def filter_rows(ds: datasets.Dataset, **filters) -> datasets.Dataset:
    """Rows matching every given filter (`since`, `source`, `min_quality`, `lang`), selected with Arrow compute
    (no Python loop over rows).

    `since` applies to `claimed_published_at`, or to `claimed_fetched_at` when the miner gave no publication time
    (both the miner's claims); `lang` compares `lang`, the validator's language id (never the miner's claim).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    table = ds.data.table if ds._indices is None else ds.flatten_indices().data.table
    mask = _mask(table, **filters)
    if mask is None:
        return ds
    # int64: datasets mixes the indices with signed arithmetic (uint64 would turn into floats).
    return ds.select(pc.indices_nonzero(mask).cast(pa.int64()).to_numpy())


def filter_stream(ds: datasets.IterableDataset, **filters) -> datasets.IterableDataset:
    """`filter_rows` for a stream: the same mask, applied lazily to each Arrow batch as it is read."""
    if not any(value is not None for value in filters.values()):
        return ds
    arrow = ds.with_format("arrow").filter(lambda batch: _mask(batch, **filters), batched=True,
                                           batch_size=constants.ROW_GROUP_ROWS)  # a row group at a time
    return arrow.with_format(None)


def _local_source(path: Path | str, domain: str, revision: str | None) -> tuple[Path, list[str] | None]:
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise PullError(f"{folder} is not a folder", hint="pass the folder a local publish wrote")
    _check_domain(folder, domain)
    return folder, None if revision is None else _local_files(folder, domain, revision)


def pull(domain: str, *, repo: str | None = None, path: Path | str | None = None, revision: str | None = None,
         since: datetime | None = None, source: str | None = None, min_quality: float | None = None,
         lang: str | None = None, endpoint: str | None = None, token: str | None = None,
         streaming: bool = False) -> datasets.Dataset | datasets.IterableDataset:
    """One domain of a published glean dataset as a `datasets.Dataset` (split train), filtered.

    `path`: a local folder written by `LocalTarget` (`revision`: a release name; rows of later releases are
    left out). `repo`: a Hub dataset repo (`revision`: a tag, branch or commit; default main), downloaded
    through the Hugging Face cache from `endpoint` (default HF_ENDPOINT or huggingface.co). `streaming`: a
    `datasets.IterableDataset` of the same rows, features and order, read lazily (from the Hub without download).
    """
    if (repo is None) == (path is None):
        raise PullError("give exactly one of repo= or path=", hint="e.g. pull('ml-research', repo='org/glean')")
    filters = {"since": since, "source": source, "min_quality": min_quality, "lang": lang}
    if path is not None:
        folder, files = _local_source(path, domain, revision)
        ds = _load(folder, domain, files, streaming)
    elif streaming:
        from huggingface_hub import constants as hf_constants

        files = _hub_files(repo, domain, revision, endpoint, token)
        options = {"hf": {"endpoint": endpoint or hf_constants.ENDPOINT, "token": token}}
        ds = _load(Path(repo), domain, files, streaming, options)
    else:
        folder = _download(repo, domain, revision, endpoint, token)
        _check_domain(folder, domain, repo)
        # Only this domain was downloaded, and `datasets` infers the format from the card's first config:
        # read the downloaded shards directly.
        ds = _load(folder, domain, sorted(str(p) for p in (folder / "data" / domain).glob("*/*.parquet")))
    return filter_stream(ds, **filters) if streaming else filter_rows(ds, **filters)
