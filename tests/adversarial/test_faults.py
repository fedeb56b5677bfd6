"""Faults on the validator's side never cost an honest miner: a source answering 5xx/429 to the validator only, the
chain refusing weights, the validator's database locked by another process or full, the validator running out of
step time before an honest miner's turn. Real miners and the real validator on loopback (tests/validator/harness.py);
each test ends with nothing lost and nothing accepted twice."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from chain import load_or_create_wallet
from schemas.config import GleanConfig
from schemas.errors import RateLimitedError
from scoring.constants import INITIAL_CREDIBILITY
from scrapers import USER_AGENT
from tests.adversarial.network import finished_steps
from tests.validator.harness import BLOCK_TIME, index_body, local_net, real_miner, registered
from tests.validator.servers import RawServer, answer_bytes, slowloris
from validator.reasons import VALIDATOR_ERROR
from validator.selection import Round
from validator.service import Validator
from validator.store import ValidatorStore, database_url

SAMPLE = 5


def _validator(net, **settings) -> Validator:
    config = {"step_seconds": 10.0, "miners_per_step": 16, "concurrency": 4, "sample_size": SAMPLE, **settings}
    return Validator(net.config(**config), chain=net.chain, wallet=net.validator, catalog=net.catalog)


def _accepted_hashes(store: ValidatorStore) -> list[str]:
    with store.engine.connect() as conn:
        return [h for (h,) in conn.execute(sa.text("SELECT content_hash FROM validator_accepted"))]


# --- a source that fails the validator only ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [503, 429])
def test_a_source_failing_the_validator_only_costs_the_miner_nothing(tmp_path, web, status):
    """The sample web answers `status` to the validator's User-Agent (the scrapers' default; miners crawl with their
    own): the sample comes back "unknown", the batch is held with the miner's credibility untouched, and once the
    source answers again the held batch is accepted whole."""

    async def scenario():
        async with local_net(tmp_path, web) as net:
            records = await net.records(8)
            async with real_miner(net, "honest", records) as honest:
                fault = web.add_fault(status=status, user_agent=USER_AGENT, path_prefix="/site/", retry_after=1)
                v = _validator(net)
                try:
                    await v.step()
                    held = v.store.miners()
                    pending = v.store.pending_records()
                    web.clear_faults(fault.id)
                    await v.step()  # nothing new from the miner: the held batch is re-verified and accepted
                    after = v.store.miners()
                    hashes = _accepted_hashes(v.store)
                finally:
                    await v.close()
                uid = next(u for u, m in after.items() if m.hotkey == honest.hotkey)
                return held[uid], pending.get(uid, 0), after[uid], hashes, records

    held, pending, after, hashes, records = asyncio.run(scenario())
    assert held.credibility == INITIAL_CREDIBILITY and held.verify_fail == 0 and held.verify_unknown == SAMPLE
    assert held.accepted == 0 and pending == len(records)
    assert after.verify_fail == 0 and after.credibility > INITIAL_CREDIBILITY
    assert sorted(hashes) == sorted(r.content_hash for r in records)


def test_a_page_changed_while_the_validator_held_the_batch_does_not_fail_the_miner(tmp_path, web):
    """The validator could not verify the batch when it was delivered (the source failed it), so it held it; by the
    time it re-verifies, the site has rewritten the pages. A disagreement now says nothing about the miner: no
    failure, no credibility cut, nothing rejected as failed verification (the batch stays held, then expires)."""

    async def scenario():
        async with local_net(tmp_path, web) as net:
            records = await net.records(6)
            async with real_miner(net, "honest", records) as honest:
                fault = web.add_fault(status=503, user_agent=USER_AGENT, path_prefix="/site/")
                v = _validator(net)
                try:
                    await v.step()
                    held = v.store.miners()
                    web.clear_faults(fault.id)
                    for article in web.articles("language"):  # the site rewrites every page meanwhile
                        web.edit(article.key, text=f"{article.title}. " + " ".join(
                            f"Entirely new paragraph {i} about something else than before." for i in range(40)))
                    await v.step()
                    after = v.store.miners()
                    rejections = v.store.rejections()
                    pending = v.store.pending_records()
                finally:
                    await v.close()
                uid = next(u for u, m in after.items() if m.hotkey == honest.hotkey)
                return held[uid], after[uid], rejections, pending.get(uid, 0), len(records)

    held, after, rejections, pending, delivered = asyncio.run(scenario())
    assert held.verify_unknown == SAMPLE and held.accepted == 0
    assert after.verify_fail == 0 and after.credibility == held.credibility
    assert not any(reason == "verification_failed" for (_u, _d, reason) in rejections)
    assert pending == delivered


def test_an_honest_miner_is_not_refused_for_the_time_the_validator_spends_judging_its_page(tmp_path, web,
                                                                                         monkeypatch):
    """A validator short of CPU takes longer to judge a page than the miner's whole time budget: the miner answered
    at once, so it is not refused for a timeout and its records are accepted."""
    from validator.ladder import Ladder

    judge = Ladder.judge

    async def slow_judge(self, *args, **kwargs):
        await asyncio.sleep(2.5)  # the ladder of a CPU-starved validator
        return await judge(self, *args, **kwargs)

    monkeypatch.setattr(Ladder, "judge", slow_judge)

    async def scenario():
        async with local_net(tmp_path, web) as net:
            records = await net.records(4)
            async with real_miner(net, "honest", records) as honest:
                v = _validator(net, step_seconds=8.0, miner_timeout_seconds=2.0)
                try:
                    report = await v.step()
                    miner = next(m for m in v.store.miners().values() if m.hotkey == honest.hotkey)
                    rejections = v.store.rejections(miner.uid)
                finally:
                    await v.close()
                return report, miner, rejections, records

    report, miner, rejections, records = asyncio.run(scenario())
    assert miner.uid not in report.failures and not rejections
    assert miner.accepted == len(records)


# --- the validator out of time before an honest miner's turn ------------------------------------------------------


def test_an_honest_miner_the_validator_had_no_time_for_is_not_charged(tmp_path, web, monkeypatch):
    """Slowloris miners hold the validator's only pull slot until the pull window closes; the honest miner, last in
    line, never gets a turn. That is the validator's failure: no refusal is counted and its score is untouched."""
    order: list[int] = []
    original = Round.take

    def honest_last(self, miners, count, block_hash):
        chosen = original(self, miners, count, block_hash)
        return sorted(chosen, key=lambda uid: uid in order)

    async def scenario():
        async with local_net(tmp_path, web) as net:
            records = await net.records(4)
            with contextlib.ExitStack() as stack:
                for i in range(2):
                    server = stack.enter_context(RawServer())
                    wallet = await registered(net.chain, f"slow{i}", axon=server.axon)
                    server.routes["/v1/index"] = answer_bytes(index_body(wallet.hotkey.ss58_address, records))
                    server.routes["/v1/records"] = slowloris(interval=0.2, total=30)
                async with real_miner(net, "honest", records) as honest:
                    uid = (await net.chain.state()).by_hotkey(honest.hotkey).uid
                    order.append(uid)
                    monkeypatch.setattr(Round, "take", honest_last)
                    v = _validator(net, step_seconds=3.0, concurrency=1, miner_timeout_seconds=2.0)
                    try:
                        report = await v.step()
                        miner = v.store.miners()[uid]
                        rejections = v.store.rejections(uid)
                    finally:
                        await v.close()
                    return report, uid, miner, rejections

    report, uid, miner, rejections = asyncio.run(scenario())
    assert report.failures.get(uid) == VALIDATOR_ERROR
    assert not rejections and miner.score == 0.0 and miner.last_step == 0



# --- the chain refusing weights ------------------------------------------------------------------------------------


class RefusingChain:
    """The local chain, except that it refuses the first `refusals` weight sets with its rate limit."""

    def __init__(self, chain, refusals: int) -> None:
        self._chain = chain
        self.refusals = refusals
        self.refused = 0

    def __getattr__(self, name):
        return getattr(self._chain, name)

    async def set_weights(self, wallet, weights, *, version_key: int = 0) -> None:
        if self.refused < self.refusals:
            self.refused += 1
            raise RateLimitedError("weights set too soon (test)", hint="wait", retry_after_blocks=3)
        await self._chain.set_weights(wallet, weights, version_key=version_key)


async def test_the_chain_refusing_weights_is_retried_and_costs_nobody(tmp_path, web):
    async with local_net(tmp_path, web) as net:
        records = await net.records(6)
        async with real_miner(net, "honest", records) as honest:
            chain = RefusingChain(net.chain, refusals=2)
            v = Validator(net.config(step_seconds=2.0, sample_size=SAMPLE), chain=chain, wallet=net.validator,
                          catalog=net.catalog)
            try:
                reports, scores = [], []
                deadline = time.monotonic() + 60
                while not (reports and reports[-1].weights_set):
                    assert time.monotonic() < deadline, "weights were never set"
                    reports.append(await v.step())
                    scores.append(v.store.miners()[_uid(v, honest.hotkey)].credibility)
                    await asyncio.sleep(BLOCK_TIME * 4)
                with v.store.engine.connect() as conn:
                    attempts = conn.execute(sa.text("SELECT ok FROM validator_weights ORDER BY id")).all()
                on_chain = await net.chain.weights()
                me = (await net.chain.state()).by_hotkey(net.validator.hotkey.ss58_address).uid
                hashes = _accepted_hashes(v.store)
            finally:
                await v.close()
    assert chain.refused == 2 and [ok for (ok,) in attempts] == [False, False, True]
    assert len(set(scores)) == 1  # credibility moved only with the first step's samples, never with a refusal
    assert on_chain[me] == pytest.approx({_uid_of(on_chain[me]): 1.0})
    assert sorted(hashes) == sorted(r.content_hash for r in records)


def _uid(v: Validator, hotkey: str) -> int:
    return next(uid for uid, m in v.store.miners().items() if m.hotkey == hotkey)


def _uid_of(weights: dict[int, float]) -> int:
    (uid,) = weights
    return uid


# --- the validator's database locked by another process -----------------------------------------------------------


class Locker:
    """Another process holding the write lock of a SQLite database for `seconds` (BEGIN EXCLUSIVE)."""

    SCRIPT = ("import sqlite3, sys, time\n"
              "conn = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)\n"
              "conn.execute('BEGIN EXCLUSIVE')\n"
              "print('locked', flush=True)\n"
              "time.sleep(float(sys.argv[2]))\n"
              "conn.execute('ROLLBACK')\n")

    def __init__(self, db: Path, seconds: float) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", self.SCRIPT, str(db), str(seconds)],
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "locked"

    def wait(self) -> None:
        assert self.proc.wait(60) == 0


async def test_a_database_locked_between_two_commits_loses_and_doubles_nothing(tmp_path, web):
    """Another process takes the validator database's write lock right after the first miner's commit of a step
    (longer than the 5 s busy timeout): the step fails, the second miner's records stay with it and are accepted
    on the next step, once; neither miner is charged for it."""
    async with local_net(tmp_path, web) as net:
        records = await net.records(8)
        async with real_miner(net, "a", records[:4]) as a, real_miner(net, "b", records[4:]) as b:
            v = _validator(net)
            commit = v.store.commit_miner
            locker: list[Locker] = []

            def commit_then_lock(c, *claim):
                inserted = commit(c, *claim)
                if not locker:
                    locker.append(Locker(Path(v.store.engine.url.database), seconds=7.0))
                return inserted

            v.store.commit_miner = commit_then_lock
            try:
                with pytest.raises(Exception, match="locked"):
                    await v.step()
                partial = v.store.accepted_stats()[0]
                await asyncio.to_thread(locker[0].wait)
                await v.step()
                miners = {m.hotkey: m for m in v.store.miners().values()}
                rejections = v.store.rejections()
                hashes = _accepted_hashes(v.store)
            finally:
                await v.close()
    assert partial == 4
    assert sorted(hashes) == sorted(r.content_hash for r in records)
    assert {miners[a.hotkey].accepted, miners[b.hotkey].accepted} == {4}
    assert not rejections and all(m.verify_fail == 0 for m in miners.values())


# --- the validator's disk full ---------------------------------------------------------------------------------------


def _start_validator(config: Path, data_dir: Path, log: Path, *, fsize: int | None = None) -> subprocess.Popen:
    """`glean validator run` whose output is drained through a pipe (a file-size limit must not hit its log)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLEAN_")}
    proc = subprocess.Popen([sys.executable, "-m", "glean", "--config", str(config), "--data-dir", str(data_dir),
                             "validator", "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def drain() -> None:
        with log.open("ab") as out:
            for line in proc.stdout:
                out.write(line)
                out.flush()

    threading.Thread(target=drain, daemon=True).start()
    return proc


async def _until(condition, timeout: float, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(condition):
        assert proc.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        await asyncio.sleep(0.2)


FULL_BYTES = 64 * 1024  # every file the validator writes stops growing past this: the disk is full


async def test_a_full_disk_stops_accepting_without_losing_or_doubling_anything(tmp_path, web):
    """The validator process runs with RLIMIT_FSIZE lowered (what a full disk looks like to SQLite: "database or
    disk is full") while an honest miner offers new records: nothing is accepted, the process keeps running, the
    miner is not charged. Once the space is back the records are accepted, each once."""
    async with local_net(tmp_path, web) as net:
        wallet = load_or_create_wallet("full-validator", "default", tmp_path / "wallets")
        await net.chain.register(wallet)
        await net.chain.add_stake(wallet.hotkey.ss58_address, 5000.0)
        await net.chain.set_validator_permits()
        records = await net.records(30)
        config, data_dir, log = tmp_path / "validator.toml", tmp_path / "vdata", tmp_path / "validator.log"
        net.write_validator_toml(config, "full-validator", tmp_path / "wallets", step_seconds=1.5,
                                 sample_size=SAMPLE, dashboard_port=0, ladder_processes=0)
        db = Path(database_url(GleanConfig(data_dir=data_dir)).removeprefix("sqlite:///"))
        async with real_miner(net, "honest", []) as honest:
            proc = _start_validator(config, data_dir, log)
            try:
                await _until(lambda: finished_steps(db) >= 1, 90, proc, log)
                began = finished_steps(db)
                async with _epochs_kept_up(net.chain):  # the local chain's file is not the validator's disk
                    resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (FULL_BYTES, resource.RLIM_INFINITY))
                    honest.miner.store.store.add(records)
                    await asyncio.sleep(8.0)  # several steps' worth of trying
                    assert proc.poll() is None, log.read_text()[-3000:]
                    full_log = log.read_text(errors="replace")
                    during = _accepted_count(db)
                    resource.prlimit(proc.pid, resource.RLIMIT_FSIZE,
                                     (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
                await _until(lambda: _accepted_count(db) >= len(records), 90, proc, log)
                proc.send_signal(signal.SIGTERM)
                assert proc.wait(30) == 0, log.read_text()[-3000:]
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(10)
        store = ValidatorStore.open(f"sqlite:///{db}")
        try:
            hashes = _accepted_hashes(store)
            miner = next(m for m in store.miners().values() if m.hotkey == honest.hotkey)
            rejections = store.rejections(miner.uid)
        finally:
            store.close()
    assert re.search(r"database or disk is full|disk I/O error", full_log) and began >= 1
    assert during == 0
    assert sorted(hashes) == sorted(r.content_hash for r in records)
    assert miner.accepted == len(records) and miner.verify_fail == 0 and not rejections


@contextlib.asynccontextmanager
async def _epochs_kept_up(chain):
    """Read the local chain often from this process, so pending epochs run here and the validator's own chain reads
    stay reads: with a LocalChain the chain's file shares the validator's disk, on a real network it does not."""
    async def ping() -> None:
        while True:
            await chain.block()
            await asyncio.sleep(BLOCK_TIME)

    task = asyncio.create_task(ping())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _accepted_count(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM validator_accepted").fetchone()[0]
    except sqlite3.Error:
        return 0


# --- a hostile page judged in the ladder's worker process --------------------------------------------------------


def test_a_malformed_page_judged_in_a_worker_process_costs_only_its_miner(tmp_path, web):
    """The ladder runs in worker processes; a hostile miner's malformed page makes the worker raise MinerError, which
    must come back to the validator as that miner's refusal, not break the pool under every honest miner judged at
    the same moment."""

    async def scenario():
        async with local_net(tmp_path, web) as net:
            records = await net.records(6)
            with RawServer() as server:
                wallet = await registered(net.chain, "malformed", axon=server.axon)
                server.routes["/v1/index"] = answer_bytes(index_body(wallet.hotkey.ss58_address, records))
                server.routes["/v1/records"] = answer_bytes(b'{"records": [{"seq": 1, "record": {')
                async with real_miner(net, "honest", records) as honest:
                    v = _validator(net, ladder_processes=1, concurrency=4)
                    try:
                        report = await v.step()
                        miners = {m.hotkey: m for m in v.store.miners().values()}
                        rejections = v.store.rejections()
                    finally:
                        await v.close()
                    return report, miners[honest.hotkey], miners[wallet.hotkey.ss58_address], rejections, records

    report, honest, malformed, rejections, records = asyncio.run(scenario())
    assert honest.accepted == len(records) and honest.uid not in report.failures
    assert report.failures[malformed.uid] == "malformed_json"
    assert (malformed.uid, "*", "protocol:malformed_json") in rejections


def test_a_miner_error_survives_the_trip_back_from_a_worker_process():
    import pickle

    from validator.client import MinerError

    error = pickle.loads(pickle.dumps(MinerError("records answer is not JSON", reason="malformed_json")))
    assert (error.reason, error.message) == ("malformed_json", "records answer is not JSON")
