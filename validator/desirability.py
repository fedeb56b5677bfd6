"""This validator's desirability list, its commitment, and the network's desirability the step scores
(DESIGN §11, docs/desirability.md).

- Its own list: the domains it collects (`ValidatorConfig.domains`, else every domain of its catalog) weighted by
  their specs' `desirability`, plus every adopted request weighted by its adoption weight. The list's bytes are kept
  in the store (served by hash on the public listener) and its hash is committed with the newest release location,
  as soon as the list changes (`follow_decisions`: an adoption by policy or by `glean validator adopt`, a decline,
  an expiry), not at the next step, so a request adopted before an epoch's first block counts from that epoch.
- The network's list (`chain.desirability.network_desirability`) is read every step at the epoch's fixed block; the
  lists fetched are kept too, so this validator mirrors them. While no validator has committed a list that counts
  yet, the network list is this validator's own domains without its adopted requests: those count through its
  committed list, from the epoch after the commitment, as on every other node (three validators whose first step
  came after the request judged different domains in it, and the two adopters restarted their ladder workers).
- The step scores every domain of the network list: the catalog it judges with holds each entry's spec (an entry
  whose spec breaks the request rules, `validator.request_checks`, is left out on every node alike), with the
  domain's desirability set to `weight × Σ desirability of the listed specs` (so one validator's own list scores as
  its specs say), capped at MAX_DESIRABILITY. Specs scored before stay in the catalog for held batches and releases.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import httpx

from chain.commitment import Commitment
from chain.desirability import network_desirability
from chain.protocol import Chain, Wallet
from chain.state import SubnetState
from schemas.desirability import (
    MAX_ENTRIES,
    MAX_ENTRY_WEIGHT,
    WEIGHT_DECIMALS,
    DesirabilityEntry,
    DesirabilityList,
    NetworkDesirability,
    combine,
    spec_hash,
)
from schemas.domain import DomainCatalog, DomainSpec
from schemas.errors import ChainError, GleanError, ProtocolError
from schemas.request import DatasetRequest, Target
from validator import constants as K
from validator.request_checks import check_request
from validator.store import ValidatorStore

log = logging.getLogger(__name__)

NETWORK_STATE = "network_desirability"  # store state: the network list last scored (canonical JSON as text)
SPECS_STATE = "network_specs"  # store state: every network spec scored so far, by domain id
PREVIOUS_STATE = "desirability_previous"  # store state: validator hotkey -> hash of the last list used for it
# How often the running validator rebuilds its own list from the store to commit a change (one small query): a
# decision made by the listener's policy or by `glean validator adopt` in another process is on chain within this.
COMMIT_CHECK_SECONDS = 1.0


@dataclass(frozen=True)
class Scoring:
    """What the step scores: the domains of the network list, the catalog that judges them (and older ones), and
    the listed specs that are not the base catalog's own (remembered for held batches and releases)."""

    catalog: DomainCatalog
    domains: tuple[str, ...]
    network: NetworkDesirability | None
    foreign: tuple[DomainSpec, ...] = ()

    def key(self) -> tuple:
        """Equal keys judge alike (the ladder's workers restart only when it changes)."""
        specs = tuple((s.id, spec_hash(s)) for s in self.catalog)  # the hash covers the desirability too
        return specs, tuple(sorted(self.domains))


def own_list(catalog: DomainCatalog, domains: Iterable[str],
             adopted: Iterable[tuple[str, DomainSpec, float, object]]) -> DesirabilityList:
    """The validator's list: its domains by their specs' desirability, its adopted requests by adoption weight
    (within the list's bounds; beyond MAX_ENTRIES the lightest are left out, logged)."""
    wanted = [(catalog.get(d), catalog.get(d).desirability) for d in domains]
    wanted += [(spec, weight) for _, spec, weight, _ in adopted if weight and weight > 0]
    entries = [DesirabilityEntry.of(spec, min(MAX_ENTRY_WEIGHT, max(weight, 10 ** -WEIGHT_DECIMALS)))
               for spec, weight in wanted]
    best: dict[str, DesirabilityEntry] = {}
    for entry in entries:  # a spec listed twice keeps its larger weight, as DesirabilityList.build does
        if entry.spec_hash not in best or entry.weight > best[entry.spec_hash].weight:
            best[entry.spec_hash] = entry
    kept = tuple(best.values())
    if len(kept) > MAX_ENTRIES:
        heaviest = sorted(kept, key=lambda e: (-e.weight, e.spec_hash))[:MAX_ENTRIES]
        log.warning("desirability list holds the %d heaviest of %d domains; left out: %s", MAX_ENTRIES, len(kept),
                    sorted({e.domain_id for e in kept} - {e.domain_id for e in heaviest}))
        kept = tuple(heaviest)
    return DesirabilityList.build(kept)


def spec_problem(spec: DomainSpec, *, local: bool, requester: str) -> str | None:
    """Why a listed spec may not be scored (the rules a request's spec must meet), or None."""
    try:
        check_request(DatasetRequest(spec=spec.model_dump(mode="json"), requester=requester,
                                     target=Target(records=1)), local=local)
    except (GleanError, ValueError) as exc:
        return str(exc)
    return None


def scoring_for(network: NetworkDesirability, base: DomainCatalog, seen: Mapping[str, DomainSpec], *,
                local: bool, requester: str) -> Scoring:
    """The catalog and domains that score `network`. The base catalog's specs are trusted; another listed spec must
    pass `spec_problem`. The catalog holds the base specs, then specs scored before (`seen`, for ids the base lacks),
    then the listed specs with their network desirability."""
    trusted = {spec_hash(s) for s in base}
    kept = []
    for entry in network.entries:
        problem = None if entry.spec_hash in trusted else spec_problem(entry.domain_spec(), local=local,
                                                                        requester=requester)
        if problem:
            log.warning("network domain not scored domain=%s spec=%s reason=%s", entry.domain_id,
                        entry.spec_hash[:12], problem)
            continue
        kept.append(entry)
    scale = sum(e.domain_spec().desirability for e in kept)
    specs = {s.id: s for s in base}
    specs.update({domain: spec for domain, spec in seen.items() if domain not in specs})
    for e in kept:
        value = round(e.weight * scale, K.DESIRABILITY_DECIMALS)
        specs[e.domain_id] = e.domain_spec().model_copy(
            update={"desirability": max(K.MIN_DESIRABILITY, min(K.MAX_DESIRABILITY, value))})
    foreign = tuple(e.domain_spec() for e in kept if e.spec_hash not in trusted)
    return Scoring(DomainCatalog(specs.values()), tuple(e.domain_id for e in kept), network, foreign)


class Desirability:
    """Keeps this validator's list committed and the network's list scored (see the module docstring)."""

    def __init__(self, *, chain: Chain, wallet: Wallet, store: ValidatorStore, catalog: DomainCatalog,
                 domains: Iterable[str], local: bool, client: httpx.AsyncClient) -> None:
        self.chain = chain
        self.wallet = wallet
        self.hotkey: str = wallet.hotkey.ss58_address
        self.store = store
        self.base = catalog
        self.domains = list(domains)
        self.local = local
        self.client = client
        self.previous: dict[str, DesirabilityList] = {}
        self.network: NetworkDesirability | None = None
        self._sent: Commitment | None = None  # the commitment this process last sent or found on chain
        self._committing = asyncio.Lock()  # the step, publishing and follow_decisions may commit at once
        self._loaded = False
        self._stored: set[str] = set()  # hashes of the lists this process already kept in the store

    async def own(self) -> DesirabilityList:
        """This validator's list now, kept in the store under its hash (so the listener serves it)."""
        adopted = await asyncio.to_thread(self.store.adopted_requests)
        listed = own_list(self.base, self.domains, adopted)
        await self._store(listed)
        return listed

    async def _store(self, listed: DesirabilityList) -> None:
        if listed.hash() not in self._stored:
            await asyncio.to_thread(self.store.put_desirability_list, listed.hash(), listed.canonical())
            self._stored.add(listed.hash())

    async def commit(self, state: SubnetState | None = None, *, release: str | None = None) -> Commitment:
        """Commit the list's hash with the release location when either differs from what is on chain."""
        async with self._committing:
            return await self._commit(state, release)

    async def _commit(self, state: SubnetState | None, release: str | None) -> Commitment:
        listed = await self.own()
        me = state.by_hotkey(self.hotkey) if state is not None else None
        on_chain = Commitment.decode(me.commitment) if me is not None else self._sent
        if release is None:
            last = await asyncio.to_thread(self.store.get_state, "last_release") or {}
            release = last.get("location") or (on_chain.release if on_chain else None)
        wanted = Commitment(release=release, desirability=listed.hash())
        if wanted in (on_chain, self._sent):
            self._sent = wanted
            return wanted
        await self.chain.commit(self.wallet, wanted.encode())
        self._sent = wanted
        log.info("commitment sent release=%s desirability=%s domains=%d", release, listed.hash()[:12],
                 len(listed.entries))
        return wanted

    async def follow_decisions(self, stop: asyncio.Event, every: float = COMMIT_CHECK_SECONDS) -> None:
        """Until `stop`: commit the list whenever it changes. Starts after the first step's commit (which reads what
        is on chain, so a restart does not commit what is already there); errors are logged and retried."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
            if stop.is_set() or self._sent is None:
                continue
            try:
                await self.commit()
            except ChainError as exc:
                log.warning("desirability list not committed (retrying in %.0f s): %s", every, exc)
            except Exception:  # a bug here must not end the loop: the step commits too
                log.exception("desirability list not committed (retrying in %.0f s)", every)

    async def refresh(self, state: SubnetState) -> Scoring:
        """Commit this validator's list if it changed, then the network's list and what the step scores."""
        try:
            await self.commit(state)
        except ChainError as exc:
            log.warning("desirability list not committed (retrying next step): %s", exc)
        await self._load_previous()
        try:
            network = await network_desirability(self.chain, state, self.client, self.previous)
        except ChainError as exc:
            log.warning("network desirability not read (keeping the last one): %s", exc)
            network = self.network
        if network is None or not network.entries:
            listed = own_list(self.base, self.domains, ())
            network = combine({self.hotkey: listed}, {self.hotkey: 1.0}, {}, block=state.block)
        await self._keep(network)
        seen = await self._seen()
        scoring = scoring_for(network, self.base, seen, local=self.local, requester=self.hotkey)
        await self._remember(scoring, seen)
        return scoring

    async def _load_previous(self) -> None:
        """After a restart: the lists used last time, from the store (their fallback survives the restart)."""
        if self._loaded:
            return
        self._loaded = True
        for hotkey, digest in (await asyncio.to_thread(self.store.get_state, PREVIOUS_STATE) or {}).items():
            body = await asyncio.to_thread(self.store.desirability_list, digest)
            if body is None:
                continue
            try:
                self.previous[hotkey] = DesirabilityList.parse(body, digest)
            except ProtocolError as exc:
                log.warning("stored desirability list unreadable hotkey=%s hash=%s: %s", hotkey, digest[:12], exc)

    async def _keep(self, network: NetworkDesirability) -> None:
        """Mirror the lists used and remember them (and the network list) for the next step and restarts."""
        if any(self.previous.get(hotkey) is not listed for hotkey, listed in network.sources.items()):
            self.previous.update(network.sources)
            await asyncio.to_thread(self.store.set_state, PREVIOUS_STATE,
                                    {hotkey: listed.hash() for hotkey, listed in self.previous.items()})
        for listed in network.sources.values():
            await self._store(listed)
        if self.network is None or network.canonical() != self.network.canonical():
            log.info("network desirability block=%d hash=%s weights=%s", network.block, network.hash()[:12],
                     network.weights())
            await asyncio.to_thread(self.store.set_state, NETWORK_STATE, network.canonical().decode())
        self.network = network

    async def _seen(self) -> dict[str, DomainSpec]:
        stored = await asyncio.to_thread(self.store.get_state, SPECS_STATE) or {}
        return {domain: DomainSpec.model_validate(spec) for domain, spec in stored.items()}

    async def _remember(self, scoring: Scoring, seen: Mapping[str, DomainSpec]) -> None:
        """Keep the foreign specs scored (by domain id, the newest spec of an id wins)."""
        new = {s.id: s for s in scoring.foreign if s.id not in seen or spec_hash(seen[s.id]) != spec_hash(s)}
        if new:
            merged = {domain: spec.model_dump(mode="json") for domain, spec in {**seen, **new}.items()}
            await asyncio.to_thread(self.store.set_state, SPECS_STATE, merged)
