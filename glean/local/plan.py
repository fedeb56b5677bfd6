"""What a local network is made of: where everything lives under its data directory, which roles run (name, wallet,
port, domains, stake), and the small state file that lets a second run resume on the same ports and wallets."""

from __future__ import annotations

import contextlib
import json
import socket
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from glean.local import constants as K
from schemas.errors import ConfigError

STATE_FILE = "local.json"
STATE_VERSION = 1
LOOPBACK = "127.0.0.1"

RoleKind = Literal["miner", "validator"]


@dataclass(frozen=True)
class Layout:
    """Every path of a local network, under one root folder."""

    root: Path

    @property
    def state_file(self) -> Path:
        return self.root / STATE_FILE

    @property
    def chain_path(self) -> Path:
        return self.root / "chain.sqlite"

    @property
    def wallets(self) -> Path:
        return self.root / "wallets"

    @property
    def domains(self) -> Path:
        return self.root / "domains"

    @property
    def sampleweb(self) -> Path:
        return self.root / "sampleweb"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def summary_file(self) -> Path:
        return self.root / "summary.json"

    def role_dir(self, name: str) -> Path:
        return self.root / name

    def config_path(self, name: str) -> Path:
        return self.role_dir(name) / "config.toml"

    def log_path(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def miner_domains(self, miner: str) -> Path:
        """A miner's own copy of the demo specs, with only the sources it crawls (validators get them all)."""
        return self.role_dir(miner) / "domains"

    def hub_dir(self, validator: str) -> Path:
        """Each validator publishes to its own local hub folder (releases are numbered per validator)."""
        return self.root / "hub" / validator


@dataclass(frozen=True)
class Role:
    """One process of the network: a miner (API on `port`) or a validator (dashboard and metrics on `port`)."""

    kind: RoleKind
    index: int  # 1-based within its kind
    port: int
    mix: K.Mix  # (domain, source ids or None for all) crawled (miners) or curated (validators)
    stake: float = 0.0

    @property
    def domains(self) -> tuple[str, ...]:
        return tuple(domain for domain, _sources in self.mix)

    @property
    def name(self) -> str:
        return f"{self.kind}{self.index}"

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"


@dataclass(frozen=True)
class NetworkPlan:
    """The roles of one run and the chain parameters they share."""

    miners: tuple[Role, ...]
    validators: tuple[Role, ...]
    offline: bool
    tempo: int
    block_time: float
    sampleweb_port: int | None = None  # offline only
    requester: str | None = None  # offline: the hotkey of the dataset request's requester (glean/local/request_flow)
    request_adopters: int = 0  # the first this many validators adopt the request by policy

    @property
    def roles(self) -> tuple[Role, ...]:
        return self.miners + self.validators

    @property
    def curated_domains(self) -> tuple[str, ...]:
        """What the validators curate: every domain some miner crawls, in first-seen order."""
        return tuple(dict.fromkeys(d for m in self.miners for d in m.domains))


@dataclass
class SavedState:
    """What `local.json` keeps between runs: ports (reused when free) and the processes last started (pids)."""

    version: int = STATE_VERSION
    ports: dict[str, int] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)
    runs: int = 0

    @classmethod
    def load(cls, path: Path) -> SavedState:
        if not path.is_file():
            return cls()
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}",
                              hint="start clean with `glean local up --fresh` (or delete the file)") from exc
        if data.get("version") != STATE_VERSION:
            raise ConfigError(f"{path} was written by another version of `glean local up`",
                              hint="start clean with `glean local up --fresh`")
        return cls(**{k: data[k] for k in ("version", "ports", "pids", "runs") if k in data})

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")
        tmp.replace(path)


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def free_port(taken: set[int]) -> int:
    """A loopback port nothing listens on (and not already handed out in this plan)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((LOOPBACK, 0))
            port = sock.getsockname()[1]
        if port not in taken:
            return port
    raise ConfigError("no free loopback port found", hint="close some programs listening on 127.0.0.1")


def _port(name: str, saved: SavedState, taken: set[int]) -> int:
    previous = saved.ports.get(name)
    port = previous if previous and previous not in taken and port_is_free(previous) else free_port(taken)
    taken.add(port)
    saved.ports[name] = port
    return port


def make_plan(saved: SavedState, *, miners: int, validators: int, offline: bool, tempo: int,
              block_time: float) -> NetworkPlan:
    """Roles for `miners` miners and `validators` validators; ports from the previous run are reused when free."""
    if miners < 1 or validators < 1:
        raise ConfigError("a local network needs at least one miner and one validator",
                          hint="pass --miners N and --validators M with N, M >= 1")
    mixes = K.OFFLINE_MIXES if offline else K.ONLINE_MIXES
    taken: set[int] = set()
    sampleweb_port = _port("sampleweb", saved, taken) if offline else None
    miner_roles = tuple(Role("miner", i, _port(f"miner{i}", saved, taken), mixes[(i - 1) % len(mixes)])
                        for i in range(1, miners + 1))
    plan = NetworkPlan(miners=miner_roles, validators=(), offline=offline, tempo=tempo, block_time=block_time,
                       sampleweb_port=sampleweb_port)
    stakes = [K.VALIDATOR_STAKE + K.VALIDATOR_STAKE_STEP * (validators - i) for i in range(1, validators + 1)]
    curated = tuple((domain, None) for domain in plan.curated_domains)
    validator_roles = tuple(Role("validator", i, _port(f"validator{i}", saved, taken), curated, stake=stakes[i - 1])
                            for i in range(1, validators + 1))
    return replace(plan, validators=validator_roles)


def stale_pids(saved: SavedState, root: Path) -> dict[str, int]:
    """Processes a previous run started and left behind (its orchestrator was killed): still alive, and their command
    line names this network's folder. Checked through /proc so an unrelated process that reused a pid is left alone."""
    found = {}
    for name, pid in saved.pids.items():
        with contextlib.suppress(OSError):
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
            if str(root) in cmdline or str(root) in environ:
                found[name] = pid
    return found
