"""Publisher: accepted records not yet published -> one release (parquet shards per domain + the card).

The order of a publish, and why a crash anywhere in it neither loses nor duplicates a row:
1. the range is fixed: a pending release left by an earlier run is redone with exactly its range;
   otherwise the next accepted records after the watermark (at most MAX_RELEASE_ROWS);
2. the shards are written to a staging folder (deterministic bytes and paths for a given range);
3. the release is recorded as *pending* with its range (nothing published yet);
4. the target publishes the shards and the card in one commit and tags it (idempotent: a release already
   there is returned as it is);
5. only then does the state mark the release published and store its statistics, in one transaction.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import Engine

from hub import constants
from hub.card import CardInput, ReleaseLine, RequestNote, render_card
from hub.chart import CHART_PATH, draw_chart
from hub.columns import SCHEMA_VERSION, to_batch
from hub.hub_target import HubTarget
from hub.local_target import LocalTarget
from hub.release import ReleaseInfo, StagedFile, StagedRelease, release_name, shard_path
from hub.shards import ShardWriter
from hub.state import PublishState, ReleaseRecord
from hub.stats import DomainStats, merge_totals
from hub.takedowns import Denied, DenyList
from schemas.accepted import AcceptedRecord
from schemas.domain import DomainCatalog
from schemas.errors import PublishError
from schemas.record import utcnow

log = logging.getLogger(__name__)

FetchAfter = Callable[[int, int], list[AcceptedRecord]]


def _pages(fetch_after: FetchAfter, after: int, *, until: int | None, limit: int) -> Iterator[list[AcceptedRecord]]:
    """Accepted records after `after`, in id order, up to id `until` and at most `limit` of them."""
    taken = 0
    while taken < limit:
        page = fetch_after(after, min(constants.FETCH_PAGE_ROWS, limit - taken))
        if not page:
            return
        if until is not None:
            page = [r for r in page if r.accepted_id <= until]
            if not page:
                return
        for prev, rec in zip(page, page[1:], strict=False):
            if rec.accepted_id <= prev.accepted_id:
                raise PublishError("fetch_after returned records out of accepted_id order",
                                   hint="fetch_after(after, limit) must return ids > after, ascending")
        if page[0].accepted_id <= after:
            raise PublishError(f"fetch_after({after}, …) returned id {page[0].accepted_id}",
                               hint="fetch_after(after, limit) must return ids > after, ascending")
        yield page
        taken += len(page)
        after = page[-1].accepted_id
        if until is not None and after >= until:
            return


class _Staging:
    """Shard writers per domain in one staging folder, and the statistics of what they wrote.

    Rows become Arrow batches in the calling thread (Python, under the GIL); one background thread writes
    them (compression and I/O release the GIL), so the two overlap. The thread takes batches in order, so
    the files are the same as a sequential write; at most WRITE_QUEUE_BATCHES wait, bounding memory.
    """

    def __init__(self, folder: Path, denied: Denied, scrub_personal_data: bool, publish_restricted_text: bool) -> None:
        self.folder = folder
        self.denied = denied
        self.scrub_personal_data = scrub_personal_data
        self.publish_restricted_text = publish_restricted_text
        self.writers: dict[str, ShardWriter] = {}
        self.stats: dict[str, DomainStats] = {}
        self.first_id: int | None = None
        self.last_id: int | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hub-shards")
        self._queued: deque[Future] = deque()

    def __enter__(self) -> _Staging:
        return self

    def __exit__(self, *exc) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def add(self, page: list[AcceptedRecord], release: str) -> None:
        self.first_id = page[0].accepted_id if self.first_id is None else self.first_id
        self.last_id = page[-1].accepted_id
        by_domain: dict[str, list[AcceptedRecord]] = {}
        for rec in page:
            by_domain.setdefault(rec.record.domain, []).append(rec)
        for domain, records in sorted(by_domain.items()):
            stats = self.stats.setdefault(domain, DomainStats())
            if self.denied:
                kept = [r for r in records if not self.denied.blocks(r)]
                stats.withheld += len(records) - len(kept)
                records = kept
            if not records:
                continue
            batch = to_batch(records, release, scrub_personal_data=self.scrub_personal_data,
                             publish_restricted_text=self.publish_restricted_text)
            writer = self.writers.get(domain)
            if writer is None:
                writer = self.writers[domain] = ShardWriter(self.folder / domain)
            self._submit(writer.write, batch)
            stats.add_batch(batch)

    def _submit(self, call, *args) -> None:
        while len(self._queued) >= constants.WRITE_QUEUE_BATCHES:
            self._queued.popleft().result()  # re-raises a write error here
        self._queued.append(self._pool.submit(call, *args))

    def close(self, release: str) -> list[StagedFile]:
        while self._queued:
            self._queued.popleft().result()
        files = []
        for domain, writer in sorted(self.writers.items()):
            shards = [s for s in writer.close() if s.rows]
            stats = self.stats[domain]
            stats.shards = len(shards)
            stats.file_bytes = sum(s.path.stat().st_size for s in shards)
            files += [StagedFile(shard_path(domain, release, i), s.path, s.rows) for i, s in enumerate(shards)]
        return files


class Publisher:
    """Publishes the accepted records of a validator to one target, one release per call."""

    def __init__(self, engine: Engine, target: LocalTarget | HubTarget, catalog: DomainCatalog, *,
                 scrub_personal_data: bool = True, removal_contact: str | None = None,
                 publish_restricted_text: bool = False) -> None:
        self.target = target
        self.catalog = catalog
        self.state = PublishState(engine)
        self.deny_list = DenyList(engine)
        self.scrub_personal_data = scrub_personal_data
        self.removal_contact = removal_contact
        self.publish_restricted_text = publish_restricted_text  # text of rows whose licence does not allow it
        self._requests: dict[str, RequestNote] = {}

    def publish(self, fetch_after: FetchAfter, *, validator_hotkey: str,
                verification_stats: Mapping[str, int] | None = None,
                requests: Mapping[str, RequestNote] | None = None) -> ReleaseInfo | None:
        """Publish what was accepted since the last release; None when there is nothing new.

        `fetch_after(after_accepted_id, limit)` returns the next records ordered by accepted_id; `requests` names
        the dataset request each requested domain answers (the card says so).
        """
        self._requests = dict(requests or {})
        key = self.target.key
        self._check_schema(key)
        pending = self.state.pending(key)
        after = self.state.watermark(key)
        if pending is not None:
            log.info("resuming pending release target=%s release=%s", key, pending.name)
            after = pending.first_accepted_id - 1
        folder = Path(tempfile.mkdtemp(prefix="release-", dir=self.target.staging_parent()))
        try:
            return self._publish(fetch_after, pending, after, folder, validator_hotkey,
                                 dict(verification_stats or {}))
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _publish(self, fetch_after: FetchAfter, pending: ReleaseRecord | None, after: int, folder: Path,
                 validator_hotkey: str, verification: dict[str, int]) -> ReleaseInfo | None:
        key = self.target.key
        name = pending.name if pending else None
        pages = _pages(fetch_after, after, until=pending.last_accepted_id if pending else None,
                       limit=constants.MAX_RELEASE_ROWS)
        with _Staging(folder / "shards", self.deny_list.load(), self.scrub_personal_data,
                      self.publish_restricted_text) as staging:
            for page in pages:
                name = name or release_name(page[0].accepted_id)
                staging.add(page, name)
            files = staging.close(name or "")
        if name is None or staging.first_id is None or staging.last_id is None:
            if pending is not None:
                self.state.discard(key, pending.name)
            return None
        rows_by_domain = {d: s.rows for d, s in sorted(staging.stats.items()) if s.rows}
        created_at = pending.created_at if pending else utcnow().replace(microsecond=0)
        if pending is None:
            self.state.begin(key, name=name, first_accepted_id=staging.first_id, last_accepted_id=staging.last_id,
                             rows=sum(rows_by_domain.values()), created_at=created_at,
                             validator_hotkey=validator_hotkey, schema_version=SCHEMA_VERSION)
        totals = merge_totals(self.state.totals(key), staging.stats)
        chart = draw_chart(totals, folder / CHART_PATH)
        card = self._card(name, staging, totals, created_at, validator_hotkey, verification)
        release = StagedRelease(name, staging.first_id, staging.last_id, created_at, files, card, rows_by_domain,
                                assets=[StagedFile(CHART_PATH, chart)])
        published = self.target.publish(release)
        self.state.complete(key, name, revision=published.revision, location=published.location,
                            verification=verification, stats=staging.stats, published_at=utcnow())
        log.info("published release target=%s release=%s rows=%d revision=%s", key, name,
                 sum(rows_by_domain.values()), published.revision)
        return ReleaseInfo(name, published.revision, published.location, rows_by_domain)

    def _check_schema(self, key: str) -> None:
        old = {r.schema_version for r in self.state.history(key)} - {SCHEMA_VERSION}
        if old:
            raise PublishError(f"{self.target.load_hint} holds releases with published columns of version "
                               f"{sorted(old)}; this validator writes version {SCHEMA_VERSION}",
                               hint="publish to a new hub.repo_id or hub.local_dir (a config's files must share "
                                    "their columns); see docs/hub.md#columns")

    def _card(self, name: str, staging: _Staging, totals: dict[str, DomainStats], created_at,
              validator_hotkey: str, verification: dict[str, int]) -> str:
        key = self.target.key
        lines = [ReleaseLine(r.name, r.created_at, r.first_accepted_id, r.last_accepted_id, r.rows_by_domain,
                             r.revision, r.pii_replacements, r.withheld) for r in self.state.history(key)]
        lines.append(ReleaseLine(name, created_at, staging.first_id or 0, staging.last_id or 0,
                                 {d: s.rows for d, s in staging.stats.items() if s.rows}, None,
                                 sum(s.pii_replacements for s in staging.stats.values()),
                                 sum(s.withheld for s in staging.stats.values())))
        return render_card(CardInput(self.target.load_hint, isinstance(self.target, LocalTarget), validator_hotkey,
                                     totals, lines, verification, self.catalog, chart=CHART_PATH,
                                     scrub_personal_data=self.scrub_personal_data,
                                     removal_contact=self.removal_contact,
                                     publish_restricted_text=self.publish_restricted_text,
                                     requests=self._requests))
