"""The multi-epoch adversarial run: honest miners crawling the sample web, every hostile miner of hostile.py beside
them, one validator; pages published while it runs, the validator and an honest miner SIGKILLed at seeded random
points. Returns what the chain paid and what the validator kept, for test_run.py to judge.

Timeline (about two minutes on two cores):
1. honest miners start crawling, with the cheats that need nothing accepted yet (fabricator, keyword stuffer,
   low-quality padder, spinner, the self-publisher serving the wiki pages it posted, and the protocol cheats);
2. after their first crawl the validator starts; its first step takes every honest miner's crawl;
3. the copiers join the running network (live copier, sybil group, relabeler, near-dup spammer, stale copier,
   cursor replayer, padder, title stuffer, freshness liar, disguised copier), each copying an honest miner
   "moments later" or re-serving accepted records;
4. the site publishes new pages in rounds; honest miners re-crawl and deliver them, the copiers copy them a moment
   later, often within the same validator step (ties); the validator and one honest miner are SIGKILLed and restarted;
5. once every new page is accepted the run goes on for a few more epochs, then everything stops, the validator's
   accepted records are published to a local hub folder and read back.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq
import sqlalchemy as sa

from hub import LocalTarget, Publisher
from miner.store import Store
from schemas.record import Record
from scrapers import USER_AGENT
from tests.adversarial.network import HONEST, TEMPO, AdversarialNet
from validator.store import MinerState

log = logging.getLogger(__name__)

SEED = 20250101
COPY_LAG_SECONDS = 1.0  # "moments later": well inside a validator step, so most copies tie with the original
STALE_AFTER_SECONDS = 2.0  # the stale copier re-serves records accepted at least this long ago
EDIT_ROUNDS = 2
EDITS_PER_ROUND = {"honest1": 2, "honest2": 2, "honest3": 2}  # equal: the same number of samples, the same credibility
EDIT_ROUND_SECONDS = 15.0
EPOCHS_AFTER = 6  # epochs the run goes on once every new page is accepted

# (kind, name, source miner, lag): cheats that need nothing accepted yet start with the honest miners ...
EARLY = (
    ("fabricator", "fabricator", "honest3", 0.0),
    ("keyword-stuffer", "keyword-stuffer", "honest1", 0.0),
    ("low-quality", "low-quality", "honest2", 0.0),
    ("oversized", "oversized", None, 0.0),
    ("endless", "endless", None, 0.0),
    ("slowloris", "slowloris", None, 0.0),
    ("malformed-json", "malformed-json", None, 0.0),
    ("index-liar", "index-liar", None, 0.0),
    ("spinner", "spinner", "honest1", 0.0),  # spins are no copies: they tie with nothing
    ("self-publisher", "self-publisher", None, 0.0),
)
# ... and the copiers join the running network after the validator's first step.
LATE = (
    ("live-copier", "live-copier", "honest1", COPY_LAG_SECONDS),
    ("sybil", "sybil1", "honest2", COPY_LAG_SECONDS),
    ("sybil", "sybil2", "honest2", COPY_LAG_SECONDS),
    ("sybil", "sybil3", "honest2", COPY_LAG_SECONDS),
    ("relabeler", "relabeler", "honest1", COPY_LAG_SECONDS),
    ("near-dup", "near-dup", "honest1", COPY_LAG_SECONDS),
    ("stale-copier", "stale-copier", None, STALE_AFTER_SECONDS),
    ("cursor-replayer", "cursor-replayer", None, 0.0),
    ("padder", "padder", "honest2", COPY_LAG_SECONDS),
    ("title-stuffer", "title-stuffer", "honest1", COPY_LAG_SECONDS),
    ("freshness-liar", "freshness-liar", "honest2", COPY_LAG_SECONDS),
    ("disguised-copier", "disguised-copier", None, STALE_AFTER_SECONDS),
)
SOURCE_FAULTS = 8  # 503 answers the sample web gives the validator's re-fetches once the fault is on
KILLED_MINER = "honest3"  # the honest miner nobody copies (see docs/adversarial.md: a copier wins what a dead miner
                          # could not deliver)


@dataclass
class Outcome:
    """Everything the run's tests look at."""

    names: dict[str, str]  # member name -> role ("honest", "hostile:<kind>")
    emission: dict[str, float]  # miner emission over the run, per member
    epochs: int
    miners: dict[str, MinerState]  # the validator's view, per member name
    rejections: dict[str, dict[str, int]]  # per member: reason -> count
    accepted: list[dict]  # validator_accepted rows (uri, content_hash, text, miner_hotkey)
    pending: dict[str, int]  # records held for verification, per member
    honest_records: dict[str, list[Record]]  # every record each honest miner stored
    cursors: dict[str, dict[str, int]]
    newest_seq: dict[str, int]
    release: list[dict]  # rows of the published release (content_hash, text, uri, miner_hotkey)
    credibility: dict[str, list[float]] = field(default_factory=dict)
    kills: list[tuple[float, str]] = field(default_factory=list)
    source_faults: list[float] = field(default_factory=list)
    edits: list[tuple[float, str, str, str]] = field(default_factory=list)
    seconds: float = 0.0
    log_dir: Path | None = None

    def role(self, name: str) -> str:
        return self.names[name]

    def honest(self) -> list[str]:
        return [n for n, r in self.names.items() if r == "honest"]

    def hostile(self) -> list[str]:
        return [n for n, r in self.names.items() if r.startswith("hostile:")]


class Run:
    """Drives one AdversarialNet through the timeline above."""

    def __init__(self, root: Path, seed: int = SEED) -> None:
        self.net = AdversarialNet(root, seed=seed)
        self.credibility: dict[str, list[float]] = {plan.name: [] for plan in HONEST}
        self.faults: list[float] = []
        self._watching = True

    async def __call__(self) -> Outcome:
        net = self.net
        await net.open()
        watcher = None
        try:
            await net.register_validator()
            for plan in HONEST:
                await net.add_honest(plan)
            for kind, name, source, lag in EARLY:
                await net.add_hostile(kind, name, source=source, lag=lag)
            await net.wait_first_crawl([plan.name for plan in HONEST])
            await net.wait_serving([name for _k, name, _s, _l in EARLY])
            await net.add_validator()
            await net.wait_steps(1)
            watcher = asyncio.create_task(self._watch_credibility())
            for kind, name, source, lag in LATE:
                await net.add_hostile(kind, name, source=source, lag=lag)
            await net.wait_serving([name for _k, name, _s, _l in LATE])
            await net.wait_steps(2)
            await self._publishing_with_faults()
            await self._until_edits_accepted()
            await self._epochs(EPOCHS_AFTER)
            self._watching = False
            await watcher
            return await self._outcome()
        finally:
            self._watching = False
            if watcher is not None and not watcher.done():
                watcher.cancel()
            await net.close()

    async def _publishing_with_faults(self) -> None:
        """Edit rounds; the validator and one honest miner are SIGKILLed at seeded random points among them."""
        net = self.net
        span = EDIT_ROUNDS * EDIT_ROUND_SECONDS
        kills = sorted([(net.rng.uniform(1.0, span), "validator"), (net.rng.uniform(1.0, span), KILLED_MINER)])
        fault_at = net.rng.uniform(1.0, span)
        began = time.monotonic()
        rounds = [r * EDIT_ROUND_SECONDS for r in range(EDIT_ROUNDS)]
        events = sorted([(t, "edit", None) for t in rounds] + [(t, "kill", name) for t, name in kills]
                        + [(fault_at, "fault", None)], key=lambda e: e[0])
        for at, what, name in events:
            await asyncio.sleep(max(0.0, began + at - time.monotonic()))
            if what == "edit":
                for plan in HONEST:
                    net.edit_pages(plan, EDITS_PER_ROUND[plan.name])
            elif what == "fault":  # the site answers the validator's re-fetches (only) with 503 for a while
                net.web.add_fault(status=503, user_agent=USER_AGENT, path_prefix="/site/", times=SOURCE_FAULTS)
                self.faults.append(net.elapsed())
            else:
                await net.sigkill(name)
        await asyncio.sleep(max(0.0, began + span - time.monotonic()))

    async def _until_edits_accepted(self, timeout: float = 240.0) -> None:
        """Until the validator accepted a version of every edited page fetched after its edit."""
        deadline = time.monotonic() + timeout
        while True:
            missing = await asyncio.to_thread(self._edits_missing)
            if not missing:
                return
            for member in self.net.members.values():
                self.net.check_alive(member)
            assert time.monotonic() < deadline, f"edited pages never accepted: {missing}"
            await asyncio.sleep(1.0)

    def _edits_missing(self) -> list[str]:
        missing = []
        try:
            conn = sqlite3.connect(f"file:{self.net.validator_db}?mode=ro", uri=True, timeout=5)
        except sqlite3.Error:
            return ["(validator database)"]
        try:
            for _t, _miner, key, edited_at in self.net.events.edits:
                url = self.net.web.article_url(key)
                found = conn.execute("SELECT count(*) FROM validator_accepted WHERE uri = ? AND accepted_at > ?",
                                     (url, edited_at)).fetchone()[0]
                if not found:
                    missing.append(key)
        except sqlite3.Error:
            return ["(validator database busy)"]
        finally:
            conn.close()
        return missing

    async def _epochs(self, count: int) -> None:
        first = len(await self.net.chain.epochs())
        deadline = time.monotonic() + count * TEMPO * 0.5 * 4 + 30
        while len(await self.net.chain.epochs()) < first + count:
            for member in self.net.members.values():
                self.net.check_alive(member)
            assert time.monotonic() < deadline, "the chain's epochs stalled"
            await asyncio.sleep(0.5)

    async def _watch_credibility(self) -> None:
        """Honest miners' credibility as the validator stores it, sampled every half second."""
        names = {m.hotkey: m.name for m in self.net.members.values() if m.role == "honest"}
        while self._watching:
            try:
                conn = sqlite3.connect(f"file:{self.net.validator_db}?mode=ro", uri=True, timeout=2)
                try:
                    rows = conn.execute("SELECT hotkey, credibility FROM validator_miners").fetchall()
                finally:
                    conn.close()
                for hotkey, credibility in rows:
                    if hotkey in names:
                        self.credibility[names[hotkey]].append(float(credibility))
            except sqlite3.Error:
                pass
            await asyncio.sleep(0.5)

    async def _outcome(self) -> Outcome:
        net = self.net
        emission = await net.miner_emission()
        epochs = len(await net.chain.epochs())
        procs = [m.proc for m in net.members.values() if m.proc is not None]
        from glean.local.processes import stop_all

        await asyncio.to_thread(stop_all, procs, 20.0)
        by_hotkey = {m.hotkey: name for name, m in net.members.items()}
        store = net.store()
        try:
            miners = {by_hotkey[m.hotkey]: m for m in store.miners().values() if m.hotkey in by_hotkey}
            uid_name = {uid: by_hotkey.get(m.hotkey) for uid, m in store.miners().items()}
            rejections: dict[str, dict[str, int]] = {}
            for (uid, _domain, reason), n in store.rejections().items():
                name = uid_name.get(uid)
                if name:
                    rejections.setdefault(name, {})[reason] = rejections.setdefault(name, {}).get(reason, 0) + n
            pending = {uid_name.get(uid): n for uid, n in store.pending_records().items()}
            cursors = {uid_name[uid]: store.cursors(uid) for uid in uid_name if uid_name[uid]}
            with store.engine.connect() as conn:
                accepted = [dict(r._mapping) for r in conn.execute(sa.text(
                    "SELECT accepted_id, uri, content_hash, text, miner_hotkey, value, novelty, step "
                    "FROM validator_accepted ORDER BY accepted_id"))]
            release = await asyncio.to_thread(self._publish, store)
        finally:
            store.close()
        honest_records, newest = {}, {}
        for plan in HONEST:
            records, seq = _stored(net.miner_db(plan.name))
            honest_records[plan.name], newest[plan.name] = records, seq
        return Outcome(names={n: m.role for n, m in net.members.items() if m.role != "validator"},
                       emission=emission, epochs=epochs, miners=miners, rejections=rejections, accepted=accepted,
                       pending={k: v for k, v in pending.items() if k}, honest_records=honest_records,
                       cursors=cursors, newest_seq=newest, release=release, credibility=self.credibility,
                       kills=list(net.events.kills), source_faults=list(self.faults),
                       edits=list(net.events.edits), seconds=net.elapsed(),
                       log_dir=net.root / "logs")

    def _publish(self, store) -> list[dict]:
        """Publish every accepted record to a local hub folder (what `glean validator publish` does) and read the
        release's parquet shards back with pyarrow, independently of glean's reader."""
        folder = self.net.root / "hub"
        publisher = Publisher(store.engine, LocalTarget(folder), self.net.catalog)
        info = publisher.publish(store.accepted_after, validator_hotkey=self.net.members["validator"].hotkey)
        assert info is not None, "nothing was published"
        rows: list[dict] = []
        for path in sorted(folder.glob("data/**/*.parquet")):
            rows.extend(pq.read_table(path).to_pylist())
        return rows


def _stored(db: Path) -> tuple[list[Record], int]:
    store = Store.open(f"sqlite:///{db}")
    try:
        return [r for _seq, r in store.iter_records()], store.newest_seq
    finally:
        store.close()

