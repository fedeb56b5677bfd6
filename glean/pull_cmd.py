"""`glean pull DOMAIN`: find a published glean dataset, load one domain, filter it, then save or summarise it.

Where the data comes from, first match wins: `--path FOLDER`, `--repo ORG/NAME`, `--from-chain` (the newest
release validators committed on chain, optionally of `--repo`), then the configured hub repo or local hub
folder.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from glean.context import state
from schemas.config import GleanConfig
from schemas.errors import PullError
from schemas.times import as_utc

console = Console()
WRITE_BATCH_ROWS = 10_000  # rows per write step: bounded memory, smooth progress
# A stream's write step: the memory a streaming pull holds is a few of these (2,000 rows of ~8 KB is 16 MB; 10,000
# left a 3 GB pull under a 1 GB address-space cap with 28 MB to spare, benchmarks/bench_stream.py).
STREAM_WRITE_BATCH_ROWS = 2_000
OUTPUT_SUFFIXES = (".parquet", ".jsonl")


@dataclass(frozen=True)
class Origin:
    """Exactly one of repo/path, and the revision to load (None: latest)."""

    repo: str | None
    path: Path | None
    revision: str | None

    def describe(self) -> str:
        return f"{self.repo or self.path}@{self.revision or 'latest'}"


def newest_commitment(neurons: Iterable[Any], repo: str | None = None) -> tuple[str, str] | None:
    """(repo or folder, release) of the newest release committed by validators.

    Validators may publish to different repos: the repo committed by the most validator stake wins, then
    its newest release (release names grow with the validator's accepted ids). `repo` restricts the choice.
    """
    from chain.commitment import Commitment
    from hub import parse_location

    found: list[tuple[str, str, float]] = []
    for n in neurons:
        release = Commitment.decode(n.commitment).release if n.validator_permit else None
        parsed = parse_location(release) if release else None
        if parsed and (repo is None or parsed[0] == repo):
            found.append((parsed[0], parsed[1], n.stake))
    if not found:
        return None
    stake: dict[str, float] = defaultdict(float)
    for where, _, st in found:
        stake[where] += st
    best = max(stake, key=lambda w: (stake[w], w))
    release = max((rel for where, rel, _ in found if where == best), key=lambda r: int(r[1:]))
    return best, release


async def _chain_neurons(config: GleanConfig) -> tuple[Any, ...]:
    from chain import open_chain

    chain = open_chain(config.chain, config.data_dir)
    try:
        return (await chain.state()).neurons
    finally:
        await chain.close()


def _from_chain(config: GleanConfig, repo: str | None) -> Origin:
    found = newest_commitment(asyncio.run(_chain_neurons(config)), repo)
    if found is None:
        scope = f" for {repo}" if repo else ""
        raise PullError(f"no validator has committed a release{scope} on netuid {config.chain.netuid}",
                        hint="pass --repo or --path, or wait for a validator to publish")
    where, release = found
    if Path(where).is_dir():  # a local network's validators publish to folders
        return Origin(None, Path(where), release)
    return Origin(where, None, release)


def resolve_origin(config: GleanConfig, *, repo: str | None, path: Path | None, from_chain: bool,
                   revision: str | None) -> Origin:
    """Where to load from, following the order in the module docstring."""
    if repo and path:
        raise PullError("give --repo or --path, not both", hint="--repo is a Hub dataset, --path a local folder")
    if from_chain:
        if path:
            raise PullError("--from-chain finds the location itself", hint="drop --path (or --from-chain)")
        origin = _from_chain(config, repo)
        return Origin(origin.repo, origin.path, revision or origin.revision)
    if repo or path:
        return Origin(repo, path, revision)
    if config.hub.repo_id:
        return Origin(config.hub.repo_id, None, revision)
    if (config.hub_dir() / "README.md").is_file():
        return Origin(None, config.hub_dir(), revision)
    raise PullError("no dataset to pull from", hint="pass --repo ORG/NAME, --path FOLDER or --from-chain")


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PullError(f"--since {value!r} is not an ISO date",
                        hint="e.g. 2025-01-31 or 2025-01-31T12:00:00Z") from None
    return as_utc(parsed)


def _json_default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _batches(ds):
    """Arrow tables of a Dataset (WRITE_BATCH_ROWS rows) or of a stream (IterableDataset: STREAM_WRITE_BATCH_ROWS)."""
    rows = WRITE_BATCH_ROWS if hasattr(ds, "__len__") else STREAM_WRITE_BATCH_ROWS
    return ds.with_format("arrow").iter(batch_size=rows)


def _write_parquet(batches, tmp: Path, schema, advance) -> int:
    import pyarrow.parquet as pq

    rows = 0
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for batch in batches:
            writer.write_table(batch)
            rows += batch.num_rows
            advance(batch.num_rows)
    return rows


def _write_jsonl(batches, tmp: Path, advance) -> int:
    rows = 0
    with open(tmp, "w", encoding="utf-8") as fh:
        for batch in batches:
            for row in batch.to_pylist():
                fh.write(json.dumps(row, ensure_ascii=False, default=_json_default) + "\n")
            rows += batch.num_rows
            advance(batch.num_rows)
    return rows


def write_rows(ds, out: Path) -> int:
    """Write the rows to `out` (.parquet or .jsonl) a batch at a time with a progress bar; atomic (temp file, then
    rename). `ds` is a Dataset or a stream (IterableDataset: no total known, only a count of the rows written)."""
    suffix = out.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise PullError(f"cannot write {out.name}", hint="--out must end in .parquet or .jsonl")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    total = len(ds) if hasattr(ds, "__len__") else None
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    if total is None:
        columns = [SpinnerColumn(), TextColumn("{task.description}: {task.completed:,} rows"), TimeElapsedColumn()]
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(f"writing {out.name}", total=total)

        def advance(n: int) -> None:
            progress.advance(task, n)

        try:
            if suffix == ".parquet":
                rows = _write_parquet(_batches(ds), tmp, ds.features.arrow_schema, advance)
            else:
                rows = _write_jsonl(_batches(ds), tmp, advance)
        except BaseException as exc:  # a stream can fail half way (network, Ctrl-C): leave no partial file behind
            tmp.unlink(missing_ok=True)
            if isinstance(exc, OSError | ValueError):
                raise PullError(f"reading the rows failed after {progress.tasks[0].completed:,.0f} rows: {exc}",
                                hint="a shard is damaged or the connection broke; pull again") from exc
            raise
    os.replace(tmp, out)
    return rows


def _span(first: datetime | None, last: datetime | None) -> str:
    return f"{first:%Y-%m-%d} → {last:%Y-%m-%d}" if first and last else "—"


def summary_table(ds, domain: str, origin: Origin) -> Table:
    """Rows, sources, languages, time span, quality and contributors of the pulled rows."""
    import pyarrow.compute as pc

    from hub.stats import DomainStats

    stats = DomainStats()
    releases: dict[str, int] = defaultdict(int)
    for batch in _batches(ds):
        stats.add_batch(batch)
        for item in pc.value_counts(batch.column("release")).to_pylist():
            releases[item["values"]] += item["counts"]
    table = Table(title=f"glean pull {domain} — {origin.describe()}", show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    table.add_row("rows", f"{stats.rows:,}")
    table.add_row("text", f"{stats.text_bytes / 1e6:,.1f} MB")
    table.add_row("sources", ", ".join(f"{k} {n:,}" for k, n in stats.counts["source"].most_common()) or "—")
    table.add_row("languages", ", ".join(f"{k} {n:,}" for k, n in stats.counts["lang"].most_common()) or "—")
    table.add_row("published", _span(stats.first_published_at, stats.last_published_at))
    table.add_row("fetched", _span(stats.first_fetched_at, stats.last_fetched_at))
    table.add_row("mean quality", f"{stats.mean_quality:.3f}" if stats.rows else "—")
    table.add_row("contributors", f"{len(stats.counts['contributor_hotkey']):,}")
    table.add_row("releases", ", ".join(f"{k} ({n:,})" for k, n in sorted(releases.items())) or "—")
    return table


def pull(
    ctx: typer.Context,
    domain: str = typer.Argument(..., help="domain id, e.g. ml-research"),
    repo: str | None = typer.Option(None, "--repo", help="Hugging Face dataset repo, e.g. org/glean-data."),
    path: Path | None = typer.Option(None, "--path", help="Local folder a validator published to."),
    from_chain: bool = typer.Option(False, "--from-chain", help="Use the newest release committed on chain."),
    revision: str | None = typer.Option(None, "--revision", help="Release tag, branch or commit (default latest)."),
    since: str | None = typer.Option(None, "--since",
                                     help="Only rows published (else fetched) at/after this ISO date."),
    source: str | None = typer.Option(None, "--source", help="Only this source kind (web, feed, arxiv, ...)."),
    min_quality: float | None = typer.Option(None, "--min-quality", min=0.0, max=1.0, help="Minimum quality score."),
    lang: str | None = typer.Option(None, "--lang", help="Only this language (detected), e.g. en."),
    out: Path | None = typer.Option(None, "--out", help="Write the rows to FILE.parquet or FILE.jsonl."),
    streaming: bool = typer.Option(False, "--streaming",
                                   help="Read and write the rows a batch at a time (pulls larger than memory; "
                                        "from the Hub without downloading the shards first)."),
) -> None:
    """Load one domain of a published dataset, filter it, and save it or print a summary."""
    from hub import pull as load

    config = state(ctx).config()
    origin = resolve_origin(config, repo=repo, path=path, from_chain=from_chain, revision=revision)
    ds = load(domain, repo=origin.repo, path=origin.path, revision=origin.revision, since=_since(since),
              source=source, min_quality=min_quality, lang=lang, endpoint=config.hub.endpoint,
              streaming=streaming)
    if out is None:
        console.print(summary_table(ds, domain, origin))
        return
    rows = write_rows(ds, out)
    console.print(f"wrote {rows:,} rows of [bold]{domain}[/] from {origin.describe()} to {out}")
