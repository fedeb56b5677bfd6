"""Which domains a miner crawls when it follows the network's desirability (DESIGN §11, docs/miner.md).

The network list (`schemas.desirability.NetworkDesirability`, computed by `chain.desirability` the same way on every
node) gives each wanted domain a weight. A miner takes `count` of them by weighted sampling without replacement,
seeded by its hotkey (Efraimidis–Spirakis): domain i gets the key ln(u_i) / w_i, with u_i a uniform number in (0, 1)
drawn from sha256(hotkey, spec hash), and the miner takes the largest keys.

- Spread: with `count` = 1 a miner takes domain i with probability w_i / Σw, so across miners the number on each
  domain is proportional to its desirability — where each domain's pay per miner is the same, so no domain is
  crowded for what it pays (pay for a domain ∝ w_i, split among n_i miners). A miner takes a domain at most once,
  so with a larger `count` the heaviest domains get less than their weight's share of the places. The list carries
  no count of miners per domain, so the rule does not react to crowding beyond that.
- Stable: a miner's keys depend only on its hotkey and each spec's hash, so a newly adopted domain takes the place of
  at most the miner's weakest choice (only where its key beats it), an expired one frees only its own place, and a
  weight change moves only the miners near the margin.

Pinned domains (`--domain`) are always crawled, from the local catalog; a network entry with a pinned domain's id is
left to the pin. An entry whose spec the miner may not crawl (`crawl_problem`) is skipped and shown with the reason.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from miner.constants import UNIFORM_BITS
from miner.scheduler import CrawlScheduler, DomainPlan
from schemas.desirability import DesirabilityEntry, DesirabilityList, NetworkDesirability, NetworkEntry, combine
from schemas.domain import DomainSpec
from schemas.errors import GleanError
from schemas.validation import first_problem

log = logging.getLogger(__name__)

FOLLOWING_FILE = "desirability.json"  # beside the store: what `glean miner status` shows
CATALOG = "catalog"  # the name the catalog's own list goes by in `catalog_network`

# fetch(previous lists by validator hotkey) -> the network's desirability (chain.desirability.network_desirability)
FetchNetwork = Callable[[Mapping[str, DesirabilityList]], Awaitable[NetworkDesirability]]


@dataclass(frozen=True)
class Choice:
    """One network entry as this miner sees it: crawled or not, and why not when it may not be."""

    entry: NetworkEntry
    crawling: bool
    problem: str | None = None  # why the miner skips it (a pinned domain, a spec it may not crawl)


def uniform(hotkey: str, spec_hash: str) -> float:
    """A number in (0, 1) fixed by the miner's hotkey and the spec: the miner's private dice for that domain."""
    digest = hashlib.sha256(f"{hotkey}\n{spec_hash}".encode()).digest()
    n = int.from_bytes(digest[:8], "big") >> (64 - UNIFORM_BITS)
    return (n + 0.5) / 2**UNIFORM_BITS


def sample_key(hotkey: str, entry: NetworkEntry) -> float:
    """The entry's key for this miner (larger is taken first): ln(u) / w, the log of Efraimidis–Spirakis' u^(1/w)."""
    return math.log(uniform(hotkey, entry.spec_hash)) / entry.weight


def choose(entries: Iterable[NetworkEntry], hotkey: str, count: int, *,
           skip: dict[str, str] | None = None) -> list[Choice]:
    """Every entry with whether this miner crawls it: the `count` largest keys among the entries not in `skip`
    (spec hash -> reason), one spec per domain id. Result in the list's order."""
    entries = list(entries)
    skip = skip or {}
    eligible = [e for e in entries if e.spec_hash not in skip]
    ranked = sorted(eligible, key=lambda e: (-sample_key(hotkey, e), e.spec_hash))
    taken: dict[str, str] = {}  # domain id -> spec hash
    for entry in ranked:
        if len(taken) >= count:
            break
        taken.setdefault(entry.domain_id, entry.spec_hash)
    chosen = set(taken.values())
    return [Choice(e, e.spec_hash in chosen, skip.get(e.spec_hash)) for e in entries]


async def crawl_problem(spec: DomainSpec, *, local: bool) -> str | None:
    """Why this miner may not crawl `spec`, or None. A list entry is untrusted input: its sources' params must
    validate and, outside local mode, every host they name must resolve to public addresses only, so that no entry
    points the miner's crawl at its own network (the crawl's connections are not pinned: checked at each refresh).
    A spec none of whose sources can run here (API credentials missing) is left to miners that can crawl it."""
    from scrapers.kinds import kind_of, load_params

    try:
        params = [load_params(source, spec.id) for source in spec.sources]
    except GleanError as exc:
        return exc.message
    unready = []
    for source, loaded in zip(spec.sources, params, strict=True):
        try:
            kind_of(source.kind).check_ready(loaded)
        except GleanError as exc:
            unready.append(f"{source.source_id}: {exc.message}")
    if len(unready) == len(spec.sources):
        return f"no source can run here ({'; '.join(unready)})"
    if local:
        return None
    hosts = {rule.host for p in params for rule in (*p.request_hosts().hosts, *p.page_hosts().hosts)}
    for host in sorted(hosts):
        why = await _host_refusal(host)
        if why is not None:
            return f"host {host} {why}"
    return None


async def _host_refusal(host: str) -> str | None:
    from scrapers.address import refusal, resolve

    try:
        addresses = await resolve(host, 443)
    except OSError as exc:
        return f"does not resolve ({exc})"
    for address in addresses:  # one private answer refuses the host, as scrapers.address does at connect time
        why = refusal(ipaddress.ip_address(address.split("%", 1)[0]))
        if why is not None:
            return f"resolves to {address} ({why})"
    return None


def catalog_network(specs: Iterable[DomainSpec]) -> NetworkDesirability:
    """The list a miner follows while the network has none (no validator committed one yet): its catalog's domains
    weighted by their specs' `desirability`, combined as one validator's list would be."""
    catalog = DesirabilityList.build(DesirabilityEntry.of(spec, spec.desirability) for spec in specs)
    return combine({CATALOG: catalog}, {CATALOG: 1.0}, {})


@dataclass
class Following:
    """What the miner follows, as `glean miner status` shows it (kept in FOLLOWING_FILE beside the store)."""

    updated_at: float | None  # wall time of the last refresh that read the network's list (None: none yet)
    block: int  # the block the network list was evaluated at (0: the catalog's list)
    network_hash: str | None
    from_catalog: bool  # the network has no list yet: the catalog's domains are followed
    count: int  # domains taken from the list
    pinned: list[str]
    entries: list[dict[str, Any]] = field(default_factory=list)  # domain_id, spec_hash, weight, crawling, problem
    error: str | None = None  # why the last refresh failed (the domains crawled stay as they were)

    def crawling(self) -> list[str]:
        return [e["domain_id"] for e in self.entries if e["crawling"]]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def read(cls, path: Path) -> Following | None:
        """The file's content; None when there is none (a miner that does not follow the network)."""
        if not path.is_file():
            return None
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            raise GleanError(f"{path}: unreadable ({exc})",
                             hint="the running miner rewrites it at its next refresh; delete it if it stays") from exc


class DesirabilityFollower:
    """Keeps the scheduler on the pinned domains plus `count` domains of the network's desirability, read again at
    each new epoch: a newly adopted domain starts and an expired one stops without a restart."""

    def __init__(self, scheduler: CrawlScheduler, *, hotkey: str, fetch: FetchNetwork, count: int,
                 pinned: Sequence[DomainPlan], plan_for: Callable[[DomainSpec], DomainPlan],
                 catalog: Sequence[DomainSpec] = (), refresh_seconds: float = 12.0, local: bool = False,
                 epoch: Callable[[], Awaitable[int | None]] | None = None, path: Path | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.scheduler = scheduler
        self.hotkey = hotkey
        self._fetch = fetch
        self.count = count
        self.pinned = list(pinned)
        self._plan_for = plan_for
        self._catalog = list(catalog)
        self.refresh_seconds = refresh_seconds
        self._epoch = epoch  # the current epoch's fixed block (None: unknown); without it every check reads the list
        self.local = local
        self.path = path
        self._clock = clock
        self.previous: dict[str, DesirabilityList] = {}  # each validator's last list: the fallback of `combine`
        self.following: Following | None = None
        self._problems: dict[str, str | None] = {}  # spec hash -> its problem at the last refresh (logged once)

    async def run(self, stop: asyncio.Event) -> None:
        """Read the list now, then check every `refresh_seconds` and read it again when a new epoch began (the list is
        evaluated at the epoch's first block, so it changes only then) or the last read failed, until `stop`."""
        ok = False
        while not stop.is_set():
            if not ok or await self._new_epoch():
                ok = await self.refresh()
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.refresh_seconds)
            except TimeoutError:
                pass

    async def _new_epoch(self) -> bool:
        if self._epoch is None or self.following is None:
            return True
        try:
            return await self._epoch() != self.following.block
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the read that follows says what is wrong
            log.info("epoch check failed error=%s:%s", type(exc).__name__, exc)
            return True

    async def refresh(self) -> bool:
        """Read the network's desirability and set the scheduler's domains; on failure keep the current ones."""
        try:
            network = await self._fetch(self.previous)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the chain or every listener unreachable: keep crawling what we crawl
            error = f"{type(exc).__name__}: {exc}"
            log.warning("network desirability unavailable error=%s: the domains crawled stay as they are", error)
            self._record(error)
            return False
        self.previous.update(network.sources)
        block, from_catalog = network.block, not network.entries
        if from_catalog:
            network = catalog_network(self._catalog)
        choices = choose(network.entries, self.hotkey, self.count, skip=await self._skips(network.entries))
        self.scheduler.set_plans(self.pinned + [self._plan_for(c.entry.domain_spec()) for c in choices if c.crawling])
        self.following = Following(
            updated_at=self._clock(), block=block, network_hash=network.hash(), from_catalog=from_catalog,
            count=self.count, pinned=[p.spec.id for p in self.pinned],
            entries=[{"domain_id": c.entry.domain_id, "spec_hash": c.entry.spec_hash, "weight": c.entry.weight,
                      "crawling": c.crawling, "problem": c.problem} for c in choices])
        self._record()
        log.info("following network desirability block=%d entries=%d crawling=%s from_catalog=%s", block,
                 len(network.entries), ",".join(self.scheduler.domains()) or "-", from_catalog)
        return True

    async def _skips(self, entries: Sequence[NetworkEntry]) -> dict[str, str]:
        """Spec hash -> why the miner leaves the entry out: a pinned domain's id, or a spec it may not crawl."""
        pinned = {p.spec.id for p in self.pinned}
        skip: dict[str, str] = {}
        problems: dict[str, str | None] = {}
        for entry in entries:
            if entry.domain_id in pinned:
                skip[entry.spec_hash] = "pinned: crawled with the local catalog's spec"
                continue
            problems[entry.spec_hash] = problem = await self._problem(entry)
            if problem is not None:
                skip[entry.spec_hash] = problem
        self._problems = problems
        return skip

    async def _problem(self, entry: NetworkEntry) -> str | None:
        try:
            problem = await crawl_problem(entry.domain_spec(), local=self.local)
        except ValidationError as exc:
            problem = f"not a valid domain spec: {first_problem(exc)}"
        if problem is not None and problem != self._problems.get(entry.spec_hash):
            log.warning("network domain refused domain=%s spec=%s reason=%s", entry.domain_id, entry.spec_hash[:12],
                        problem)
        return problem

    def _record(self, error: str | None = None) -> None:
        if self.following is None:
            self.following = Following(updated_at=None, block=0, network_hash=None, from_catalog=False,
                                       count=self.count, pinned=[p.spec.id for p in self.pinned])
        self.following.error = error
        if self.path is not None:
            self.following.save(self.path)
