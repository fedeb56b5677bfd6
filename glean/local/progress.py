"""Live progress of a local network: a snapshot of the chain (block, epochs) and of every role (the miners' stored
records from `/v1/health` `newest_seq`, the validators' step and accepted records), and its rich rendering."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx
from rich.console import Group
from rich.table import Table
from rich.text import Text

from glean.local import constants as K
from glean.local.plan import NetworkPlan, Role
from glean.local.processes import RoleProcess


@dataclass(frozen=True)
class MinerProgress:
    name: str
    uid: int | None
    domains: tuple[str, ...]
    state: str  # starting | crawling | up | exited N | not started
    stored: int | None  # newest_seq from /v1/health
    incentive: float = 0.0
    emission: float = 0.0


@dataclass(frozen=True)
class ValidatorProgress:
    name: str
    uid: int | None
    state: str
    step: int | None
    accepted: int | None
    dividends: float = 0.0
    url: str = ""


@dataclass(frozen=True)
class Snapshot:
    phase: str
    block: int | None = None
    epochs: int = 0  # epochs the chain ran in this run
    epochs_target: int = 0
    next_epoch_in: int | None = None  # blocks
    elapsed: float = 0.0
    miners: tuple[MinerProgress, ...] = ()
    validators: tuple[ValidatorProgress, ...] = ()


@dataclass
class ChainView:
    """What the probe reads from the chain each poll."""

    block: int
    epochs_total: int
    last_epoch_block: int | None
    tempo: int
    uids: dict[str, int] = field(default_factory=dict)  # hotkey -> uid
    incentive: dict[int, float] = field(default_factory=dict)
    dividends: dict[int, float] = field(default_factory=dict)
    emission: dict[str, float] = field(default_factory=dict)  # hotkey -> total


class Probe:
    """Polls the chain and the roles; `snapshot()` never raises for a role that is down (it shows its state)."""

    def __init__(self, plan: NetworkPlan, chain, hotkeys: Mapping[str, str], processes: Mapping[str, RoleProcess],
                 *, epochs_before: int, epochs_target: int, started: float | None = None) -> None:
        self.plan = plan
        self.chain = chain
        self.hotkeys = dict(hotkeys)  # role name -> hotkey
        self.processes = processes
        self.epochs_before = epochs_before
        self.epochs_target = epochs_target
        self.started = started if started is not None else time.monotonic()
        self.client = httpx.AsyncClient(timeout=K.HEALTH_TIMEOUT_SECONDS)
        self.crawling: set[str] = set()  # miners whose first crawl round is not done yet

    async def aclose(self) -> None:
        await self.client.aclose()

    async def chain_view(self) -> ChainView:
        state = await self.chain.state()
        epochs = await self.chain.epochs()
        totals = await self.chain.emission_totals()
        return ChainView(block=state.block, epochs_total=len(epochs),
                         last_epoch_block=epochs[-1].block if epochs else None, tempo=state.tempo,
                         uids={n.hotkey: n.uid for n in state.neurons},
                         incentive={n.uid: n.incentive for n in state.neurons},
                         dividends={n.uid: n.dividends for n in state.neurons}, emission=totals)

    async def epochs_done(self) -> int:
        return len(await self.chain.epochs()) - self.epochs_before

    async def snapshot(self, phase: str) -> Snapshot:
        view = await self.chain_view()
        healths = await asyncio.gather(*(self._health(role) for role in self.plan.roles))
        by_name = dict(zip((r.name for r in self.plan.roles), healths, strict=True))
        miners = tuple(self._miner(m, view, by_name[m.name]) for m in self.plan.miners)
        validators = tuple(self._validator(v, view, by_name[v.name]) for v in self.plan.validators)
        since = view.block - view.last_epoch_block if view.last_epoch_block is not None else view.block
        return Snapshot(phase=phase, block=view.block, epochs=view.epochs_total - self.epochs_before,
                        epochs_target=self.epochs_target, next_epoch_in=max(0, view.tempo - since % view.tempo),
                        elapsed=time.monotonic() - self.started, miners=miners, validators=validators)

    async def miner_metrics(self, role: Role) -> str | None:
        return await self._get_text(f"{role.url}/metrics")

    async def _health(self, role: Role) -> dict | None:
        if not self._running(role):
            return None
        try:
            response = await self.client.get(f"{role.url}/v1/health")
            return response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None

    async def _get_text(self, url: str) -> str | None:
        try:
            response = await self.client.get(url)
        except httpx.HTTPError:
            return None
        return response.text if response.status_code == 200 else None

    def _running(self, role: Role) -> bool:
        proc = self.processes.get(role.name)
        return proc is not None and proc.running()

    def _state(self, role: Role, health: dict | None) -> str:
        proc = self.processes.get(role.name)
        if proc is None or proc.proc is None:
            return "not started"
        code = proc.returncode()
        if code is not None:
            return f"exited {code}"
        if health is None:
            return "starting"
        return "crawling" if role.name in self.crawling else "up"

    def _miner(self, role: Role, view: ChainView, health: dict | None) -> MinerProgress:
        hotkey = self.hotkeys.get(role.name, "")
        uid = view.uids.get(hotkey)
        return MinerProgress(name=role.name, uid=uid, domains=role.domains, state=self._state(role, health),
                             stored=health.get("newest_seq") if health else None,
                             incentive=view.incentive.get(uid, 0.0) if uid is not None else 0.0,
                             emission=view.emission.get(hotkey, 0.0))

    def _validator(self, role: Role, view: ChainView, health: dict | None) -> ValidatorProgress:
        uid = view.uids.get(self.hotkeys.get(role.name, ""))
        return ValidatorProgress(name=role.name, uid=uid, state=self._state(role, health),
                                 step=health.get("step") if health else None,
                                 accepted=health.get("accepted") if health else None,
                                 dividends=view.dividends.get(uid, 0.0) if uid is not None else 0.0,
                                 url=f"{role.url}/dashboard")


_SERIES = re.compile(r'^(glean_miner_crawl_pages_total|glean_miner_source_failures_total)\{([^}]*)\}', re.M)
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def crawled_sources(metrics_text: str) -> set[tuple[str, str]]:
    """(domain, source) pairs whose crawl finished at least once (fetched pages or failed), from a miner's /metrics."""
    done = set()
    for match in _SERIES.finditer(metrics_text):
        labels = dict(_LABEL.findall(match.group(2)))
        if "domain" in labels and "source" in labels:
            done.add((labels["domain"], labels["source"]))
    return done


# --- rendering ---------------------------------------------------------------------------------------------------


def _num(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def render(snapshot: Snapshot) -> Group:
    """The live view: a header line, then the miners and the validators."""
    header = Text.assemble(
        ("glean local network  ", "bold"), (snapshot.phase, "cyan"),
        f"   epoch {snapshot.epochs}/{snapshot.epochs_target}",
        f"   block {_num(snapshot.block)}",
        f"   next epoch in {_num(snapshot.next_epoch_in)} blocks",
        f"   {snapshot.elapsed:,.0f} s")
    miners = Table(title="miners", title_justify="left", expand=False)
    for column in ("miner", "uid", "domains", "state", "records stored", "incentive", "emission α (total)"):
        miners.add_column(column, justify="left" if column in ("miner", "domains", "state") else "right")
    for m in snapshot.miners:
        miners.add_row(m.name, _num(m.uid), ", ".join(m.domains), m.state, _num(m.stored), f"{m.incentive:.3f}",
                       f"{m.emission:,.2f}")
    validators = Table(title="validators", title_justify="left", expand=False)
    for column in ("validator", "uid", "state", "step", "records accepted", "dividends", "dashboard"):
        validators.add_column(column, justify="right" if column in ("uid", "step", "records accepted",
                                                                    "dividends") else "left")
    for v in snapshot.validators:
        validators.add_row(v.name, _num(v.uid), v.state, _num(v.step), _num(v.accepted), f"{v.dividends:.3f}",
                           v.url)
    return Group(header, miners, validators)
