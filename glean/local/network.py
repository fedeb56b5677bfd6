"""`glean local up`: a whole glean network on one machine.

Order of events: wallets and a LocalChain file (registrations, validator stake and permits) -> the offline sample web
(with --offline) and its demo domain specs -> N miner processes -> wait until each miner has crawled every source of
its domains once -> M validator processes -> run until K epochs have passed (or Ctrl-C) -> stop every process
(SIGTERM, then SIGKILL) -> publish each validator's accepted records to its local hub folder -> pull the release back
with `datasets` -> the summary. The validators start after the miners' first crawl so that every miner's first batch
is judged in the same step, with the same credibility: the emission split then follows the accepted value.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from chain import LocalChain, create_local_wallets
from glean.local import constants as K
from glean.local import request_flow, results
from glean.local.configs import role_config, write_miner_domains, write_role_config
from glean.local.leaderboard import Summary
from glean.local.plan import Layout, NetworkPlan, Role, SavedState, make_plan, stale_pids
from glean.local.processes import RoleProcess, child_environment, glean_command, kill_stale, stop_all
from glean.local.progress import Probe, Snapshot, crawled_sources
from schemas.config import GleanConfig
from schemas.domain import DomainCatalog
from schemas.errors import GleanError

log = logging.getLogger(__name__)

SAMPLEWEB_INFO = "sampleweb.json"
LOCK_FILE = ".lock"
POLL_SECONDS = 0.25
# Entries `glean local up` creates in its folder; --fresh removes these and nothing else.
_CREATED = {"local.json", "summary.json", "chain.sqlite", "chain.sqlite-wal", "chain.sqlite-shm", "wallets", "domains",
            "sampleweb", "logs", "hub", "hf-cache"}
_ROLE_DIR = re.compile(r"^(miner|validator)\d+$")


class LocalNetworkError(GleanError):
    """The local network could not be started or run."""


@dataclass(frozen=True)
class LocalOptions:
    root: Path
    miners: int = K.DEFAULT_MINERS
    validators: int = K.DEFAULT_VALIDATORS
    epochs: int = K.DEFAULT_EPOCHS
    offline: bool = False
    fresh: bool = False
    tempo: int = K.DEFAULT_TEMPO
    block_time: float = K.DEFAULT_BLOCK_TIME
    log_level: str = "INFO"
    request_adopters: int | None = None  # offline: validators (the first ones) adopting the request; None: all


ProgressFn = Callable[[Snapshot], None]


def clear(root: Path) -> None:
    """Remove what an earlier `glean local up` made in `root` (and only that)."""
    if not root.is_dir():
        return
    for entry in root.iterdir():
        if entry.name in _CREATED or _ROLE_DIR.match(entry.name) or entry.name.endswith(".tmp"):
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()


class LocalNetwork:
    """One run of a local network in `options.root`; `await up(stop)` does everything and returns the summary."""

    def __init__(self, options: LocalOptions, *, on_progress: ProgressFn | None = None) -> None:
        self.options = options
        self.layout = Layout(Path(options.root).expanduser().resolve())
        self.on_progress = on_progress or (lambda _snapshot: None)
        self.processes: dict[str, RoleProcess] = {}
        self.saved = SavedState()
        self.plan: NetworkPlan | None = None
        self.chain: LocalChain | None = None
        self.wallets: dict[str, Any] = {}
        self.probe: Probe | None = None
        self.started = time.monotonic()
        self.validators_started_at: datetime | None = None
        self.interrupted = False
        self._epochs_end: int | None = None
        self.sampleweb_url: str | None = None
        self._lock_fd: int | None = None
        self.request: request_flow.Submitted | None = None  # offline: the dataset request, once sent
        self._request_tried = False

    # -- the whole run ------------------------------------------------------------------------------------------------

    async def up(self, stop: asyncio.Event) -> Summary:
        """Set up, run until the epochs have passed or `stop` is set, stop everything, publish, pull back, summarise."""
        self._prepare()
        try:
            await self._setup_chain()
            epochs_before = len(await self.chain.epochs())
            self.probe = Probe(self.plan, self.chain, {n: w.hotkey.ss58_address for n, w in self.wallets.items()},
                               self.processes, epochs_before=epochs_before, epochs_target=self.options.epochs,
                               started=self.started)
            try:
                await self._run(stop)
            finally:
                self._epochs_end = await self._epoch_count()  # the summary covers the epochs up to here
                await self._report("stopping")
                await asyncio.to_thread(self._stop_processes)
            await self._report("publishing the release")
            releases = await results.publish(self)
            rows = await asyncio.to_thread(results.pull_back, self, releases)
            summary = await results.summarise(self, rows, epochs_before, self.probe.epochs_before, self._epochs_end)
            summary.save(self.layout.summary_file)
            return summary
        finally:
            if self.probe is not None:
                await self.probe.aclose()
            if self.chain is not None:
                await self.chain.close()
            self._unlock()

    async def _run(self, stop: asyncio.Event) -> None:
        if self.plan.offline:
            await self._start_sampleweb(stop)
        await self._start_roles(self.plan.miners, stop, "starting miners")
        await self._wait_first_crawl(stop)
        await self._start_roles(self.plan.validators, stop, "starting validators")
        self.validators_started_at = datetime.now(UTC)  # epochs of the sample web's summary count from here
        await self._start_schedule()
        self.probe.epochs_before = len(await self.chain.epochs())  # --epochs counts from here
        await self._run_epochs(stop)
        await self._drain(stop)

    async def _start_schedule(self) -> None:
        """Offline: the sample web starts publishing, changing and removing pages once the validators run, so every
        epoch the summary counts has new pages (the reserve lasts a run of the default length)."""
        if not self.plan.offline or self.sampleweb_url is None:
            return
        from glean.sampleweb.client import SampleWebClient

        with SampleWebClient(self.sampleweb_url) as client:
            await asyncio.to_thread(client.start_schedule, interval=K.SAMPLEWEB_EVENT_SECONDS,
                                    seed=K.SAMPLEWEB_SCHEDULE_SEED)

    async def _drain(self, stop: asyncio.Event) -> None:
        """Offline: stop the sample web's schedule and wait (bounded) until the network answered its last changes."""
        if not self.plan.offline or stop.is_set() or self.interrupted or self.sampleweb_url is None:
            return
        from glean.local import drain
        from glean.sampleweb.client import SampleWebClient
        from validator.store import ValidatorStore, database_url

        # The summary's epochs count from the validators' start: let the last one end before the schedule stops.
        last_epoch_ends = self.validators_started_at + timedelta(seconds=self.options.epochs * self.plan.tempo
                                                                 * self.plan.block_time)
        await self._pause(stop, max(0.0, (last_epoch_ends - datetime.now(UTC)).total_seconds()))
        await self._report("draining: the sample web stopped changing")
        with SampleWebClient(self.sampleweb_url) as client:
            await asyncio.to_thread(client.stop_schedule)
        paths = drain.state_paths([self.role_config(r).data_dir for r in self.plan.miners])
        before = {p: drain.crawl_counts(p) for p in paths}
        crawled = await drain.wait_for(lambda: stop.is_set() or drain.crawls_done(before),
                                       K.DRAIN_TIMEOUT_SECONDS, "the miners' crawls after the last change")
        if not crawled or stop.is_set():
            return
        since = datetime.now(UTC)
        store = ValidatorStore.open(database_url(self.role_config(self.plan.validators[0])))
        try:
            await drain.wait_for(lambda: stop.is_set() or drain.stepped_since(store.steps(5), since),
                                 K.DRAIN_TIMEOUT_SECONDS, "a validator step after them")
        finally:
            store.close()

    # -- folder, state and chain ---------------------------------------------------------------------------------------

    def _prepare(self) -> None:
        root = self.layout.root
        root.mkdir(parents=True, exist_ok=True)
        self._lock()
        try:
            saved = SavedState.load(self.layout.state_file)
        except GleanError:
            if not self.options.fresh:
                raise
            saved = SavedState()
        kill_stale(stale_pids(saved, root), K.STOP_TIMEOUT_SECONDS)
        if self.options.fresh:
            clear(root)
            saved = SavedState()
        saved.pids = {}
        saved.runs += 1
        self.saved = saved
        self.layout.logs.mkdir(parents=True, exist_ok=True)

    def _lock(self) -> None:
        fd = os.open(self.layout.root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LocalNetworkError(f"another `glean local up` is running in {self.layout.root}",
                                    hint="stop it (Ctrl-C) or pass another --data-dir") from None
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing releases the flock
            self._lock_fd = None

    async def _setup_chain(self) -> None:
        """Open (or create) the chain, plan the roles with its real parameters, register, stake, permits."""
        opts = self.options
        self.chain = LocalChain(self.layout.chain_path, netuid=K.NETUID, tempo=opts.tempo, block_time=opts.block_time)
        params = self.chain.params  # fixed when the file was created: a resumed run keeps its first tempo
        self.plan = make_plan(self.saved, miners=opts.miners, validators=opts.validators, offline=opts.offline,
                              tempo=params.tempo, block_time=params.block_time)
        self.plan = await asyncio.to_thread(request_flow.with_requester, self.plan, self.layout, opts.request_adopters)
        self._save_state()
        await self._report("creating wallets")
        names = [role.name for role in self.plan.roles]
        wallets = await asyncio.to_thread(create_local_wallets, names, self.layout.wallets)
        self.wallets = dict(zip(names, wallets, strict=True))
        state = await self.chain.state()
        for name, wallet in self.wallets.items():
            if state.by_hotkey(wallet.hotkey.ss58_address) is None:
                uid = await self.chain.register(wallet)
                log.info("registered role=%s uid=%d", name, uid)
        state = await self.chain.state()
        for role in self.plan.validators:
            hotkey = self.wallets[role.name].hotkey.ss58_address
            have = state.by_hotkey(hotkey).stake
            if have < role.stake:
                await self.chain.add_stake(hotkey, role.stake - have)
        permits = await self.chain.set_validator_permits()
        log.info("local chain ready path=%s tempo=%d block_time=%.2f permits=%s", self.layout.chain_path,
                 params.tempo, params.block_time, permits)

    def _save_state(self) -> None:
        self.saved.pids = {name: p.pid for name, p in self.processes.items() if p.pid is not None}
        self.saved.save(self.layout.state_file)

    def role_config(self, role: Role) -> GleanConfig:
        """The configuration a role process runs with (the same mapping its TOML file holds)."""
        return GleanConfig.model_validate(role_config(role, self.plan, self.layout, log_level=self.options.log_level))

    # -- processes -----------------------------------------------------------------------------------------------------

    async def _start_sampleweb(self, stop: asyncio.Event) -> None:
        await self._report("starting the sample web")
        info = self.layout.sampleweb / SAMPLEWEB_INFO
        info.unlink(missing_ok=True)
        argv = [sys.executable, "-m", "glean.sampleweb", "--port", str(self.plan.sampleweb_port),
                "--data-dir", str(self.layout.sampleweb), "--domains-dir", str(self.layout.domains)]
        proc = RoleProcess("sampleweb", argv, self.layout.log_path("sampleweb"), env=child_environment({}))
        self.processes["sampleweb"] = proc
        proc.start()
        self._save_state()
        deadline = time.monotonic() + K.START_TIMEOUT_SECONDS
        while not info.is_file():
            self._check_alive(proc, "starting")
            if stop.is_set():
                return
            if time.monotonic() > deadline:
                raise self._failed(proc, f"did not start within {K.START_TIMEOUT_SECONDS:.0f} s")
            await asyncio.sleep(POLL_SECONDS)
        base = json.loads(info.read_text(encoding="utf-8"))["base_url"]
        for role in self.plan.miners:
            write_miner_domains(role, base, self.layout)
        self.sampleweb_url = base
        log.info("sample web at %s", base)

    async def _start_roles(self, roles: tuple[Role, ...], stop: asyncio.Event, phase: str) -> None:
        """Write each role's config, start its process, and wait until every one answers /v1/health."""
        if stop.is_set():
            return
        for role in roles:
            config = write_role_config(role, self.plan, self.layout, log_level=self.options.log_level)
            argv = glean_command("--log-level", self.options.log_level, role.kind, "run")
            proc = RoleProcess(role.name, argv, self.layout.log_path(role.name),
                               env=child_environment({"GLEAN_CONFIG": str(config)}))
            self.processes[role.name] = proc
            proc.start()
        self._save_state()
        deadline = time.monotonic() + K.START_TIMEOUT_SECONDS
        waiting = {role.name for role in roles}
        while waiting and not stop.is_set():
            snapshot = await self._report(phase)
            up = {p.name for p in (*snapshot.miners, *snapshot.validators) if p.state not in ("starting",)}
            for name in sorted(waiting):
                self._check_alive(self.processes[name], "starting")
            waiting -= up
            if waiting and time.monotonic() > deadline:
                name = sorted(waiting)[0]
                raise self._failed(self.processes[name], f"did not answer within {K.START_TIMEOUT_SECONDS:.0f} s")
            await self._pause(stop, POLL_SECONDS * 2)

    async def _wait_first_crawl(self, stop: asyncio.Event) -> None:
        """Until every miner has crawled each source of its domains once (or FIRST_CRAWL_MAX_SECONDS passed)."""
        expected = {}
        for role in self.plan.miners:
            catalog = DomainCatalog.load(self.role_config(role).domain_dirs)
            expected[role.name] = {(d, s.source_id) for d in role.domains for s in catalog.get(d).sources}
        self.probe.crawling = set(expected)
        deadline = time.monotonic() + K.FIRST_CRAWL_MAX_SECONDS
        while self.probe.crawling and not stop.is_set():
            for role in self.plan.miners:
                if role.name not in self.probe.crawling:
                    continue
                self._check_alive(self.processes[role.name], "crawling")
                text = await self.probe.miner_metrics(role)
                if text is not None and expected[role.name] <= crawled_sources(text):
                    self.probe.crawling.discard(role.name)
            await self._report("miners crawling")
            if time.monotonic() > deadline:
                log.warning("first crawl not finished after %.0f s by %s; starting the validators anyway",
                            K.FIRST_CRAWL_MAX_SECONDS, ", ".join(sorted(self.probe.crawling)))
                break
            await self._pause(stop, K.PROGRESS_INTERVAL_SECONDS)
        self.probe.crawling = set()

    async def _run_epochs(self, stop: asyncio.Event) -> None:
        """Until `epochs` epochs have run since the start (or stop, or a generous timeout)."""
        expected = self.options.epochs * self.plan.tempo * self.plan.block_time
        deadline = time.monotonic() + max(60.0, expected * K.RUN_TIMEOUT_FACTOR)
        while not stop.is_set():
            snapshot = await self._report("running")
            if snapshot.epochs >= self.options.epochs:
                return
            if snapshot.epochs >= K.REQUEST_AFTER_EPOCHS and self.plan.requester and not self._request_tried:
                self._request_tried = True
                self.request = await request_flow.submit(self, stop, snapshot.epochs)
            validators = [self.processes[v.name] for v in self.plan.validators]
            if not any(p.running() for p in validators):
                raise self._failed(validators[0], "exited while the network was running")
            if time.monotonic() > deadline:
                log.warning("stopping after %.0f s with %d of %d epochs", expected * K.RUN_TIMEOUT_FACTOR,
                            snapshot.epochs, self.options.epochs)
                self.interrupted = True
                return
            await self._pause(stop, K.PROGRESS_INTERVAL_SECONDS)
        self.interrupted = True

    async def _epoch_count(self) -> int | None:
        try:
            return len(await self.chain.epochs())
        except GleanError as exc:
            log.warning("cannot read the chain's epochs: %s", exc)
            return None

    async def _pause(self, stop: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)

    def _check_alive(self, proc: RoleProcess, doing: str) -> None:
        code = proc.returncode()
        if code is not None:
            raise self._failed(proc, f"exited with code {code} while {doing}")

    def _failed(self, proc: RoleProcess, what: str) -> LocalNetworkError:
        tail = "\n".join(proc.tail().splitlines()[-15:])
        return LocalNetworkError(f"{proc.name} {what}; the end of its log:\n{tail}",
                                 hint=f"see {proc.log_path} (every role logs under {self.layout.logs})")

    def _stop_processes(self) -> None:
        """Roles first (SIGTERM, SIGKILL after STOP_TIMEOUT_SECONDS), the sample web last."""
        roles = [p for name, p in self.processes.items() if name != "sampleweb"]
        codes = stop_all(roles, K.STOP_TIMEOUT_SECONDS)
        if "sampleweb" in self.processes:
            codes.update(stop_all([self.processes["sampleweb"]], K.STOP_TIMEOUT_SECONDS))
        log.info("stopped %s", " ".join(f"{name}={code}" for name, code in codes.items()))
        self.saved.pids = {}
        self.saved.save(self.layout.state_file)

    # -- progress -----------------------------------------------------------------------------------------------------

    async def _report(self, phase: str) -> Snapshot:
        if self.probe is None:
            snapshot = Snapshot(phase=phase, elapsed=time.monotonic() - self.started)
        else:
            snapshot = await self.probe.snapshot(phase)
        self.on_progress(snapshot)
        return snapshot
