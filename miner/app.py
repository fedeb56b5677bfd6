"""The running miner: store + crawl scheduler + signed API + metagraph refresh, started and stopped together.

`build_miner` wires the parts from a `GleanConfig`; `Miner.run(stop)` announces the address on chain, serves and
crawls until `stop` is set, then shuts down in order: stop accepting requests, cancel crawls, let the batch in
flight commit, close the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from chain.protocol import Chain, Wallet
from miner.api import build_app
from miner.constants import PRUNE_INTERVAL_SECONDS, SHUTDOWN_GRACE_SECONDS
from miner.crawl_state import STATE_FILE as CRAWL_STATE_FILE
from miner.crawl_state import CrawlState
from miner.desirability import FOLLOWING_FILE, DesirabilityFollower
from miner.gate import ValidatorGate
from miner.metrics import MinerMetrics
from miner.ratelimit import RateLimiter
from miner.scheduler import CrawlFn, CrawlScheduler, DomainPlan
from miner.store import AsyncStore, Store
from schemas.config import GleanConfig
from schemas.desirability import DesirabilityList, NetworkDesirability
from schemas.domain import DomainCatalog, DomainSpec
from schemas.errors import ConfigError, NotRegisteredError, StorageError
from storage import role_database_url

log = logging.getLogger(__name__)

_ANY_HOST = {"0.0.0.0", "::", ""}


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the miner owns SIGTERM/SIGINT and stops every part together."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def database_url(config: GleanConfig) -> str:
    """The miner's database: the configured URL, else SQLite under `<data_dir>/miner/`."""
    return role_database_url(config.miner.database_url, config.data_dir, "miner")


def open_store(config: GleanConfig) -> Store:
    """The miner's store with the configured byte cap and retention (migrations applied), claimed for writing."""
    store = Store.open(database_url(config), max_bytes=config.miner.max_store_bytes,
                       retention_days=config.miner.retention_days)
    try:
        store.claim_writer()
    except StorageError:
        store.close()
        raise
    return store


def follows_network(config: GleanConfig) -> bool:
    """Whether the miner takes domains from the network's desirability. Unset (None) means no here: a miner built
    in code without domains serves only; `glean miner run` sets it when no domain is pinned."""
    return bool(config.miner.follow_network)


def domain_plans(config: GleanConfig, catalog: DomainCatalog) -> list[DomainPlan]:
    """Each pinned domain with its cadence and page budget (per-domain overrides from `miner.schedules`, which may
    also name domains of the network's list when the miner follows it)."""
    unknown = sorted(set(config.miner.schedules) - set(config.miner.domains))
    if unknown and not follows_network(config):
        raise ConfigError(f"miner.schedules names domains the miner does not crawl: {', '.join(unknown)}",
                          hint="add them to miner.domains or remove their schedules")
    return [plan_for(config, catalog.get(domain_id)) for domain_id in config.miner.domains]


def plan_for(config: GleanConfig, spec: DomainSpec) -> DomainPlan:
    """How `spec` is crawled: the configured cadence and page budget, or its `miner.schedules` override."""
    override = config.miner.schedules.get(spec.id)
    cadence = (override and override.cadence_seconds) or config.miner.cadence_seconds
    budget = (override and override.page_budget) or config.miner.page_budget
    return DomainPlan(spec, cadence, budget)


def following_path(config: GleanConfig) -> Path:
    """Where the miner keeps what it follows (read by `glean miner status`)."""
    return config.data_dir / "miner" / FOLLOWING_FILE


class NetworkReader:
    """Reads the network's desirability as validators compute it (chain.desirability): the lists are fetched from
    the validators' announced listeners through a client that connects only to public addresses outside local mode.
    `epoch()` is the cheap check between reads: the fixed block of the current epoch (one block number read)."""

    def __init__(self, chain: Chain, *, local: bool) -> None:
        self.chain = chain
        self.local = local
        self.tempo: int | None = None  # learnt at the first read

    async def __call__(self, previous: Mapping[str, DesirabilityList]) -> NetworkDesirability:
        from chain.desirability import network_desirability
        from scrapers.address import GuardedClient

        state = await self.chain.state()
        self.tempo = state.tempo
        async with GuardedClient(allow_private=self.local) as client:
            return await network_desirability(self.chain, state, client, previous)

    async def epoch(self) -> int | None:
        from chain.desirability import evaluation_block

        return None if self.tempo is None else evaluation_block(await self.chain.block(), self.tempo)


def _warn_unready(spec, check_ready) -> None:
    """Log, with what to set, each source of `spec` that cannot run here; its crawls skip it (credentials_missing)
    while the domain's other sources run."""
    from schemas.errors import ScrapeError

    for source in spec.sources:
        try:
            check_ready(spec.model_copy(update={"sources": [source]}))
        except ScrapeError as exc:
            log.error("%s; its crawls skip this source until then. Fix: %s", exc.message, exc.hint)


def announce_ip(config: GleanConfig) -> str:
    """The address other neurons should use: `external_ip`, else a concrete `host`, else loopback locally."""
    if config.miner.external_ip:
        return config.miner.external_ip
    if config.miner.host not in _ANY_HOST:
        return config.miner.host
    if config.chain.kind == "local":
        return "127.0.0.1"
    raise ConfigError("the miner listens on every interface but has no external address to announce",
                      hint="set miner.external_ip (GLEAN_MINER__EXTERNAL_IP) to this machine's public IP")


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket (port 0 picks a free one); a taken port is a ConfigError with the fix."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio sets TCP_NODELAY on accepted connections only then; without it Nagle holds
    # each response body until the client's delayed ACK (+40 ms per keep-alive request).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}",
                          hint="choose another port with --port (GLEAN_MINER__PORT) or stop the other process") from exc
    sock.listen(2048)
    sock.setblocking(False)
    return sock


async def ensure_registered(chain: Chain, wallet: Wallet, *, register: bool, chain_kind: str) -> int:
    """The miner's uid; registers first when asked (LocalChain only), else says how to register."""
    hotkey = wallet.hotkey.ss58_address
    neuron = (await chain.state()).by_hotkey(hotkey)
    if neuron is not None:
        return neuron.uid
    if register and chain_kind == "local":
        uid = await chain.register(wallet)
        log.info("registered on the local chain hotkey=%s uid=%d", hotkey, uid)
        return uid
    if chain_kind == "local":
        hint = "run `glean miner run --register` to register on the local chain"
    else:
        hint = (f"register the hotkey first, e.g. `btcli subnets register --netuid {chain.netuid} "
                "--wallet.name <name> --wallet.hotkey <hotkey>`, then start the miner again")
    raise NotRegisteredError(f"hotkey {hotkey} is not registered on netuid {chain.netuid}", hint=hint)


@dataclass
class Miner:
    """Every part of a running miner; `run` drives them."""

    config: GleanConfig
    wallet: Wallet
    chain: Chain
    store: AsyncStore
    gate: ValidatorGate
    metrics: MinerMetrics
    app: FastAPI
    scheduler: CrawlScheduler | None
    follower: DesirabilityFollower | None = None  # keeps the scheduler on the network's desirability

    @property
    def hotkey(self) -> str:
        return self.wallet.hotkey.ss58_address

    async def run(self, stop: asyncio.Event, *, sock: socket.socket | None = None, announce: bool = True) -> None:
        """Serve and crawl until `stop` is set, then shut down cleanly (the store is closed on return)."""
        sock = sock or bind_socket(self.config.miner.host, self.config.miner.port)
        port = sock.getsockname()[1]
        server = _Server(uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off",
                                        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS, log_config=None))
        tasks: dict[str, asyncio.Task] = {}
        try:
            await self._first_metagraph()
            if announce:
                ip = announce_ip(self.config)
                await self.chain.serve(self.wallet, ip, port)
                log.info("announced axon hotkey=%s ip=%s port=%d", self.hotkey, ip, port)
            tasks["api"] = asyncio.create_task(server.serve(sockets=[sock]))
            tasks["metagraph"] = asyncio.create_task(self.gate.run(stop))
            tasks["prune"] = asyncio.create_task(self._prune_loop(stop))
            if self.scheduler is not None:
                tasks["crawl"] = asyncio.create_task(self.scheduler.run(stop))
            if self.follower is not None:
                tasks["desirability"] = asyncio.create_task(self.follower.run(stop))
            else:  # what a former run followed is not what this one crawls
                following_path(self.config).unlink(missing_ok=True)
            log.info("miner running hotkey=%s port=%d domains=%s follow_network=%s newest_seq=%d", self.hotkey,
                     port, ",".join(self.config.miner.domains) or "-", self.follower is not None,
                     self.store.store.newest_seq)
            await self._until(stop, list(tasks.values()))
        finally:
            log.info("miner stopping hotkey=%s", self.hotkey)
            stop.set()
            server.should_exit = True  # finishes the requests in flight, then returns
            if "crawl" in tasks:
                tasks["crawl"].cancel()  # a store write already handed to the writer thread still commits
            await asyncio.gather(*tasks.values(), return_exceptions=True)
            sock.close()
            await self.store.close()
            log.info("miner stopped hotkey=%s newest_seq=%d", self.hotkey, self.store.store.newest_seq)

    async def _first_metagraph(self) -> None:
        try:
            await self.gate.refresh()
        except Exception as exc:  # serve anyway: requests get 503 until the background refresh succeeds
            log.warning("metagraph not loaded at start error=%s:%s", type(exc).__name__, exc)

    async def _until(self, stop: asyncio.Event, tasks: list[asyncio.Task]) -> None:
        """Wait for `stop`; a part that dies on its own stops the miner with its error."""
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        stop.set()
        for task in done:
            if task is not stopper and not task.cancelled() and task.exception() is not None:
                raise task.exception()

    async def _prune_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=PRUNE_INTERVAL_SECONDS)
            except TimeoutError:
                pruned = await self.store.prune()
                if pruned:
                    self.metrics.records_pruned.inc(pruned)


def build_miner(config: GleanConfig, *, wallet: Wallet, chain: Chain, catalog: DomainCatalog | None = None,
                crawl: CrawlFn | None = None, store: Store | None = None) -> Miner:
    """A miner from configuration, on `chain`, answering as `wallet`'s hotkey.

    `crawl` defaults to `scrapers.crawl`; no pinned domain and not following the network means a serve-only miner.
    """
    catalog = catalog or DomainCatalog.load(config.domain_dirs)
    plans = domain_plans(config, catalog)
    store_ = AsyncStore(store or open_store(config))
    metrics = MinerMetrics()
    metrics.bind_store(store_.store)
    gate = ValidatorGate(chain, min_stake=config.miner.min_validator_stake)
    limiter = RateLimiter(config.miner.requests_per_minute, config.miner.request_burst)
    hotkey = wallet.hotkey.ss58_address
    app = build_app(store_, hotkey=hotkey, gate=gate, limiter=limiter, metrics=metrics)
    follow = follows_network(config)
    if not plans and not follow:
        return Miner(config, wallet, chain, store_, gate, metrics, app, None)
    scheduler = CrawlScheduler(plans, store_, metrics, crawl=crawl or _scrapers_crawl(plans),
                               user_agent=config.miner.user_agent,
                               crawl_state=CrawlState(config.data_dir / "miner" / CRAWL_STATE_FILE))
    follower = None
    if follow:
        local = config.chain.kind == "local"
        reader = NetworkReader(chain, local=local)
        follower = DesirabilityFollower(
            scheduler, hotkey=hotkey, fetch=reader, epoch=reader.epoch, count=config.miner.network_domains,
            # before any validator commits a list, a miner without pins follows its catalog; one with pins crawls
            # only them (the catalog's other specs are no vote: offline they point at the real internet)
            pinned=plans, plan_for=lambda spec: plan_for(config, spec), catalog=[] if plans else list(catalog),
            refresh_seconds=config.miner.network_refresh_seconds, local=local, path=following_path(config))
    return Miner(config, wallet, chain, store_, gate, metrics, app, scheduler, follower)


def _scrapers_crawl(plans: list[DomainPlan]) -> CrawlFn:
    """`scrapers.crawl`, imported only when crawling (serve-only miners skip Scrapy), after saying which sources of
    the pinned domains lack what they need here (API credentials: said now, not at 3 a.m.)."""
    from scrapers import check_ready
    from scrapers import crawl as scrapers_crawl

    for plan in plans:
        _warn_unready(plan.spec, check_ready)
    return scrapers_crawl
