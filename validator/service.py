"""The validator service: opens its state, runs steps on a cadence, sets weights, publishes releases, and serves
metrics. Restart-safe: everything durable is in the database (the novelty snapshot is only a cache of it)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from fastapi import APIRouter

from chain.constants import DESIRABILITY_FETCH_SECONDS
from chain.launch import Advice, subnet_advice
from chain.protocol import Chain, Wallet
from chain.state import SubnetState
from hub import Publisher, ReleaseInfo, publisher_from_config
from hub.card import RequestNote
from schemas.config import GleanConfig
from schemas.domain import DomainCatalog
from schemas.errors import ChainError, GleanError, PublishError
from scrapers import fetch_one
from scrapers.address import GuardedClient
from validator import constants as K
from validator.client import MinerClient
from validator.corpus import Corpus
from validator.desirability import Desirability, Scoring
from validator.ladder import Ladder
from validator.listener import Listener
from validator.metrics import ValidatorMetrics
from validator.step import StepReport, StepRunner
from validator.store import ValidatorStore, database_url
from validator.verification import Fetcher, Verifier
from validator.web import HttpServer, build_app
from validator.weights import WeightSetter

log = logging.getLogger(__name__)

SNAPSHOT_FILE = "novelty.snapshot"
BITTENSOR_BLOCK_SECONDS = 12.0


def next_step_pause(step_seconds: float, now: float) -> float:
    """Seconds until the next step: steps start at the multiples of `step_seconds` of wall time (Unix time), the same
    instants on every validator with that cadence, so they pull miners' holdings at the same moment, visit miners in
    the same order (drawn from the step's block hash: it decides whose copy of a tied record is kept, and so the
    precedence evidence later ties are split by) and their weights for an epoch come from the same data. A slot
    closer than MIN_STEP_PAUSE (a step that ended just before it) is skipped, as it is for a validator whose step
    ended just after it."""
    pause = step_seconds - now % step_seconds
    return pause + step_seconds if pause < K.MIN_STEP_PAUSE else pause


def state_dir(config: GleanConfig) -> Path:
    folder = Path(config.data_dir).expanduser() / "validator"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Validator:
    """One validator hotkey on one subnet, reading and writing the chain through `chain`, signing with `wallet`."""

    def __init__(self, config: GleanConfig, *, chain: Chain, wallet: Wallet, catalog: DomainCatalog,
                 fetch: Fetcher = fetch_one, routers: Sequence[APIRouter] = (), serve_http: bool = True,
                 serve_listener: bool = False) -> None:
        self.config = config
        self.chain = chain
        self.wallet = wallet
        self.hotkey: str = wallet.hotkey.ss58_address
        self.catalog = catalog
        self.metrics = ValidatorMetrics()
        self.store = ValidatorStore.open(database_url(config))
        self.corpus = Corpus(self.store, state_dir(config) / SNAPSHOT_FILE, config.validator.novelty_backend,
                             self.hotkey)
        self.client = MinerClient(wallet.hotkey, allow_private=config.chain.kind == "local")
        # Re-fetches may reach loopback/private addresses only on the LocalChain (local mode), never on a network.
        self.verifier = Verifier(catalog, fetch=fetch, allow_private=config.chain.kind == "local")
        self.ladder = Ladder(catalog, config.validator.ladder_processes)
        block_time = config.chain.block_time if config.chain.kind == "local" else BITTENSOR_BLOCK_SECONDS
        self.runner = StepRunner(chain=chain, hotkey=self.hotkey, config=config.validator, catalog=catalog,
                                 store=self.store, corpus=self.corpus, client=self.client, verifier=self.verifier,
                                 ladder=self.ladder, metrics=self.metrics, block_time=block_time)
        self.weights = WeightSetter(chain, wallet, self.store, self.metrics)
        local = config.chain.kind == "local"  # announced listeners are untrusted: private addresses only locally
        self.desirability = Desirability(
            chain=chain, wallet=wallet, store=self.store, catalog=catalog, domains=self.runner.domains, local=local,
            client=GuardedClient(allow_private=local, timeout=DESIRABILITY_FETCH_SECONDS))
        self._scoring_key = Scoring(catalog, tuple(self.runner.domains), None).key()
        self._routers = routers
        self._serve_http = serve_http
        self.http: HttpServer | None = None
        self._serve_listener = serve_listener  # the public listener (validator/listener.py), announced on chain
        self.listener: Listener | None = None
        self._steps = 0
        self._opened = False
        self._advice: list[Advice] | None = None

    async def check_subnet(self) -> list[Advice]:
        """On a real network, once: the subnet's commit-reveal, immunity period and weights rate limit, each problem
        logged with the owner's btcli command (chain.launch). The LocalChain is the operator's own: nothing to check."""
        if self.config.chain.kind != "bittensor":
            return []
        if self._advice is None:
            try:
                hp = await self.chain.subnet_hyperparameters()
            except ChainError as exc:
                log.warning("could not read the subnet hyperparameters to check them: %s", exc)
                return []
            self._advice = subnet_advice(hp, self.chain.netuid)
            for advice in self._advice:
                log.warning("subnet set-up: %s; the subnet owner fixes it with: %s", advice.problem, advice.command)
        return self._advice

    async def open(self) -> None:
        """Load the novelty index (snapshot or rebuild) and start the HTTP server."""
        if self._opened:
            return
        await asyncio.gather(asyncio.to_thread(self.corpus.open), self.ladder.start())
        if self._serve_http:
            app = build_app(self.store, self.metrics, self.hotkey, routers=self._routers)
            self.http = HttpServer(app, self.config.validator.dashboard_host, self.config.validator.dashboard_port)
            self.http.start()
            log.info("validator http server on http://%s:%d (metrics at /metrics)", self.http.host, self.http.port)
        if self._serve_listener:
            self.listener = Listener(self.config, chain=self.chain, store=self.store, hotkey=self.hotkey,
                                     builtin=tuple(self.catalog.ids()))
            await self.listener.start(self.wallet)
        self._opened = True

    async def close(self) -> None:
        """Save the snapshot and release everything (idempotent)."""
        if not self._opened:
            self.store.close()
            await self.client.aclose()
            await self.verifier.aclose()
            await self.desirability.client.aclose()
            return
        self._opened = False
        await asyncio.to_thread(self.ladder.close)
        if self.http is not None:
            await self.http.stop()
        if self.listener is not None:
            await self.listener.stop()
        with contextlib.suppress(Exception):
            await self.runner.settle()
            await asyncio.to_thread(self.corpus.save)
        await self.client.aclose()
        await self.verifier.aclose()
        await self.desirability.client.aclose()
        self.store.close()

    async def follow_network(self, state: SubnetState) -> None:
        """Commit this validator's desirability list if it changed and score the network's list from this step on
        (validator/desirability.py); on an error the step scores what it scored before."""
        try:
            scoring = await self.desirability.refresh(state)
        except GleanError as exc:
            log.error("network desirability not followed this step: %s", exc)
            return
        except Exception:  # a bug here must not stop the step: it scores what it scored before
            log.exception("network desirability not followed this step")
            return
        if scoring.key() != self._scoring_key:
            log.info("scoring the network's domains domains=%s", list(scoring.domains))
            self.runner.use_catalog(scoring.catalog, scoring.domains)
            self.catalog = scoring.catalog
            self._scoring_key = scoring.key()
            # New ladder workers (they hold the catalog) start here, before the step's pull window opens: spawning
            # them inside it took 10-30 s on a loaded machine, and validators cut short by different amounts judged
            # different records. If they cannot start now, the pull starts them as before.
            try:
                await self.ladder.start()
            except Exception:
                log.exception("ladder workers not started before the step; the pull starts them")

    async def step(self) -> StepReport | None:
        """One step, then weights if due; None when this hotkey is not registered (logged with the fix)."""
        await self.open()
        state = await self.chain.state()
        me = state.by_hotkey(self.hotkey)
        if me is None:
            log.error("validator hotkey %s is not registered on netuid %d; register it (`glean chain register`) — "
                      "retrying next step", self.hotkey, state.netuid)
            return None
        if not me.validator_permit:
            # Miners refuse callers without a permit; pulling anyway would score every miner 0 for our own fault.
            log.error("validator uid=%d has no validator permit, so miners refuse it: add stake so it ranks among "
                      "the top validators (`glean chain stake` locally, `btcli stake add` on a network) — "
                      "retrying next step", me.uid)
            return None
        await self.follow_network(state)
        report = await self.runner.run(state)
        self._steps += 1
        if self._steps % K.SNAPSHOT_EVERY_STEPS == 0:
            await self.runner.settle()
            await asyncio.to_thread(self.corpus.save)
        miners = {n.uid for n in state.miners()}
        scores = {uid: m.score for uid, m in (await asyncio.to_thread(self.store.miners)).items() if uid in miners}
        try:
            block = await self.chain.block()
            report.weights_set = await self.weights.maybe_set(block, state.tempo, me.uid, scores)
        except ChainError as exc:
            log.warning("weights skipped: %s", exc)
        return report

    async def run(self, *, stop: asyncio.Event | None = None, max_steps: int | None = None) -> None:
        """Steps on the configured cadence, at the shared clock's slots (`next_step_pause`), until `stop` is set (or
        `max_steps` ran); errors are logged, not fatal."""
        stop = stop or asyncio.Event()
        await self.open()
        await self.check_subnet()
        publishing = None
        if self.config.validator.publish_interval_seconds > 0:
            publishing = asyncio.create_task(self._publish_loop(stop))
        # An adoption, decline or expiry is committed when it happens, not at the next step (validator/desirability.py)
        committing = asyncio.create_task(self.desirability.follow_decisions(stop))
        try:
            count = 0
            if max_steps is None and await self._has_peers():
                # A service among other validators: its first step too waits for a slot, so validators started a
                # few seconds apart visit the miners at the same instant and block. Alone (the demo) or one-shot
                # (`--steps N`) it starts at once.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), next_step_pause(self.config.validator.step_seconds,
                                                                        time.time()))
            while not stop.is_set() and (max_steps is None or count < max_steps):
                try:
                    await self.step()
                except GleanError as exc:
                    log.error("step failed: %s", exc)
                except Exception:
                    log.exception("step failed with an unexpected error; continuing with the next step")
                count += 1
                pause = next_step_pause(self.config.validator.step_seconds, time.time())
                if max_steps is not None and count >= max_steps:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)
        finally:
            for task in (publishing, committing):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await self.close()

    async def _has_peers(self) -> bool:
        """Whether another hotkey holds a validator permit on the subnet (False when the chain cannot say)."""
        try:
            state = await self.chain.state()
        except ChainError as exc:
            log.warning("could not read the subnet to align the first step with other validators: %s", exc)
            return False
        return any(n.hotkey != self.hotkey for n in state.validators())

    # -- publishing ---------------------------------------------------------------------------------------------------

    def publisher(self) -> Publisher:
        return publisher_from_config(self.store.engine, self.config, self.catalog)

    async def publish(self) -> ReleaseInfo | None:
        """Publish what was accepted since the last release and commit its location on chain."""
        miners = await asyncio.to_thread(self.store.miners)
        stats = {"pass": sum(m.verify_pass for m in miners.values()),
                 "fail": sum(m.verify_fail for m in miners.values()),
                 "unknown": sum(m.verify_unknown for m in miners.values())}
        publisher = self.publisher()
        info = await asyncio.to_thread(publisher.publish, self.store.accepted_after, validator_hotkey=self.hotkey,
                                       verification_stats=stats, requests=await asyncio.to_thread(self._requests))
        if info is None:
            log.info("publish: nothing new since the last release")
            return None
        try:
            await self.desirability.commit(release=info.location)
            log.info("release committed on chain location=%s", info.location)
        except ChainError as exc:
            log.warning("release %s published but not committed on chain: %s", info.location, exc)
        # Recorded after the commit attempt, so a reader that sees it also sees the commitment.
        await asyncio.to_thread(self.store.set_state, "last_release",
                                {"release": info.release, "revision": info.revision, "location": info.location,
                                 "rows_by_domain": info.rows_by_domain})
        return info

    def _requests(self) -> dict[str, RequestNote]:
        """domain -> the dataset request it was adopted for (adopted, done or expired), for the card."""
        return {r.domain: RequestNote(r.request_id, r.request.requester, r.request.note)
                for r in self.store.list_requests() if r.status in ("adopted", "done", "expired")}

    async def _publish_loop(self, stop: asyncio.Event) -> None:
        interval = self.config.validator.publish_interval_seconds
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
            if stop.is_set():
                return
            try:
                await self.publish()
            except (PublishError, GleanError) as exc:
                log.error("publishing failed (retrying in %.0f s): %s", interval, exc)
            except Exception:
                log.exception("publishing failed unexpectedly (retrying in %.0f s)", interval)
