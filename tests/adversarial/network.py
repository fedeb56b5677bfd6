"""The adversarial network: a LocalChain, the sample web, honest miners (`glean miner run`, crawling), hostile miners
(`python -m tests.adversarial.hostile`) and a validator (`glean validator run`), every one a real process on
loopback, plus the faults the suite injects (SIGKILL of a validator and of a miner at seeded random points).

Built from the pieces the rest of the project already has: `glean.local` (role configs as TOML, role processes in
their own process groups, crawl progress from /metrics), `tests.validator.harness` (domain specs of the sample web,
dev wallets, registration) and the sample web's page edits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

from chain import LocalChain, load_or_create_wallet
from glean.local.configs import to_toml
from glean.local.processes import RoleProcess, child_environment, glean_command, stop_all
from glean.local.progress import crawled_sources
from glean.sampleweb import SampleWeb, domain_specs
from glean.sampleweb.corpus import stdlib_article
from schemas.domain import DomainCatalog
from tests.adversarial.cheats import publish_pages
from tests.validator.harness import LISTENER, dev_wallet, write_domains
from validator.store import ValidatorStore

log = logging.getLogger(__name__)

# --- the chain and the validator: short epochs so a run spans many of them in a couple of minutes ------------------
TEMPO = 10
BLOCK_TIME = 0.5
WEIGHTS_RATE_LIMIT = 5
VALIDATOR_STAKE = 1000.0
STEP_SECONDS = 12.0
MINER_TIMEOUT_SECONDS = 4.0
# Twelve re-fetches per miner and step: enough to catch a batch with a few fabricated records. Credibility moves once
# per verified batch however many are re-fetched, so it stays low in a run this short (0.19-0.34 for honest miners)
# and pay follows evidence-weighted value, not value (test_run.py checks the pay rule link by link).
SAMPLE_SIZE = 12
# Honest miners re-crawl this often, so they pick up the pages the run edits (a crawl of the sample web costs a
# few CPU-seconds: more often would starve the validator on two cores).
CRAWL_CADENCE_SECONDS = 15.0
START_TIMEOUT_SECONDS = 120.0
HOSTILE_UA = "hostile-miner/1.0"

LANGUAGE, STDLIB = "python-language", "python-stdlib"
DOMAINS = (LANGUAGE, STDLIB)


@dataclass(frozen=True)
class HonestPlan:
    """An honest miner: its domain and the slice of the sample web it crawls (deny patterns on the site source)."""

    name: str
    domain: str
    area: str
    deny: str | None = None  # regex of slugs this miner leaves to another

    def owns(self, slug: str) -> bool:
        import re

        return self.deny is None or re.match(self.deny, slug) is None


HONEST = (
    HonestPlan("honest1", LANGUAGE, "language"),
    HonestPlan("honest2", STDLIB, "stdlib", deny=r"[i-z]"),
    HonestPlan("honest3", STDLIB, "stdlib", deny=r"[a-h]"),
)

# New prose for the pages the run edits (never served before, good quality, relevant to both domains): documentation
# of standard-library modules that have no page on the sample web. Disjoint from the fabricator's texts.
EDIT_SOURCES = ("code", "pyclbr", "py_compile", "bdb", "traceback", "sys", "importlib.util", "marshal", "readline",
                "shelve", "dbm", "urllib.request", "http.server", "wsgiref.simple_server", "venv", "asyncio.streams",
                "logging.handlers", "unittest.mock", "xml.sax.saxutils", "os.path", "pydoc", "getpass")


@dataclass
class Member:
    """One process of the network and what the test knows about it."""

    name: str
    role: str  # "honest", "hostile:<kind>" or "validator"
    hotkey: str
    proc: RoleProcess | None = None
    port: int | None = None
    data_dir: Path | None = None

    @property
    def kind(self) -> str:
        return self.role.split(":", 1)[-1]


@dataclass
class Events:
    """What happened during the run (for the report and the assertions)."""

    kills: list[tuple[float, str]] = field(default_factory=list)
    edits: list[tuple[float, str, str, str]] = field(default_factory=list)  # (time, miner, page key, UTC ISO time)
    credibility: dict[str, list[float]] = field(default_factory=dict)  # honest miner -> credibility samples


class AdversarialNet:
    """Starts and watches the processes; every method that waits is bounded by a deadline."""

    def __init__(self, root: Path, *, seed: int = 20250101) -> None:
        self.root = root
        self.rng = random.Random(seed)
        self.members: dict[str, Member] = {}
        self.events = Events()
        self.chain: LocalChain | None = None
        self.web: SampleWeb | None = None
        self.catalog: DomainCatalog | None = None
        self.domains_dir = root / "domains"
        self.wallets_dir = root / "wallets"
        self.started = time.monotonic()
        self._edit_texts = iter(())

    # -- infrastructure ------------------------------------------------------------------------------------------------

    async def open(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.chain = LocalChain(self.root / "chain.sqlite", tempo=TEMPO, block_time=BLOCK_TIME,
                                weights_rate_limit=WEIGHTS_RATE_LIMIT)
        self.web = SampleWeb(data_dir=self.root / "sampleweb").start()
        write_domains(self.web, self.domains_dir)
        self.catalog = DomainCatalog.load([self.domains_dir])
        texts = (stdlib_article(name) for name in EDIT_SOURCES)
        self._edit_texts = iter([a.plain_text() for a in texts if a is not None and a.words >= 150])

    async def close(self) -> None:
        procs = [m.proc for m in self.members.values() if m.proc is not None]
        await asyncio.to_thread(stop_all, procs, 20.0)
        if self.web is not None:
            self.web.stop()
        if self.chain is not None:
            await self.chain.close()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def validator_db(self) -> Path:
        return self.root / "validator" / "validator" / "validator.sqlite"

    def store(self) -> ValidatorStore:
        return ValidatorStore.open(f"sqlite:///{self.validator_db}")

    def miner_db(self, name: str) -> Path:
        return self.root / name / "miner" / "miner.sqlite"

    def _write(self, path: Path, config: dict[str, Any]) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_toml(config), encoding="utf-8")
        return path

    def _common(self, name: str) -> dict[str, Any]:
        return {"data_dir": str(self.root / name), "log_level": "INFO",
                "chain": {"kind": "local", "local_path": str(self.root / "chain.sqlite"), "block_time": BLOCK_TIME},
                "wallet": {"name": name, "hotkey": "default", "path": str(self.wallets_dir)}}

    async def _register_files_wallet(self, name: str) -> str:
        wallet = await asyncio.to_thread(load_or_create_wallet, name, "default", self.wallets_dir)
        if (await self.chain.state()).by_hotkey(wallet.hotkey.ss58_address) is None:
            await self.chain.register(wallet)
        return wallet.hotkey.ss58_address

    # -- honest miners -------------------------------------------------------------------------------------------------

    def _honest_domains(self, plan: HonestPlan) -> Path:
        """The miner's own copy of its domain's spec: only the site source, minus the slice another miner crawls."""
        spec = dict(domain_specs(self.web.base_url)[plan.domain])
        web = json.loads(json.dumps(next(s for s in spec["sources"]  # the site source of the plan's area
                                         if s["kind"] == "web" and f"/site/{plan.area}/" in s["params"]["seeds"][0])))
        if plan.deny:
            web["params"]["deny_patterns"] = [f"/site/{plan.area}/{plan.deny}"]
        spec["sources"] = [web]
        folder = self.root / plan.name / "domains"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{plan.domain}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
        return folder

    async def add_honest(self, plan: HonestPlan) -> Member:
        hotkey = await self._register_files_wallet(plan.name)
        port = _free_port()
        config = self._common(plan.name) | {
            "domain_dirs": [str(self._honest_domains(plan))],
            "miner": {"domains": [plan.domain], "host": "127.0.0.1", "port": port, "external_ip": "127.0.0.1",
                      "cadence_seconds": CRAWL_CADENCE_SECONDS, "page_budget": 600, "max_store_bytes": 1024**3,
                      "requests_per_minute": 6000, "request_burst": 500, "user_agent": f"{plan.name}/1.0"}}
        path = self._write(self.root / plan.name / "config.toml", config)
        member = Member(plan.name, "honest", hotkey, port=port, data_dir=self.root / plan.name)
        member.proc = RoleProcess(plan.name, glean_command("miner", "run"), self.root / "logs" / f"{plan.name}.log",
                                  env=child_environment({"GLEAN_CONFIG": str(path)}))
        self.members[plan.name] = member
        member.proc.start()
        return member

    async def wait_first_crawl(self, names: Iterable[str], timeout: float = START_TIMEOUT_SECONDS) -> None:
        """Until each named honest miner has crawled its site source once (from its /metrics)."""
        waiting = set(names)
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2.0) as client:
            while waiting:
                for name in sorted(waiting):
                    member = self.members[name]
                    self.check_alive(member)
                    with contextlib.suppress(httpx.HTTPError):
                        text = (await client.get(f"http://127.0.0.1:{member.port}/metrics")).text
                        if any(source == "web" for _d, source in crawled_sources(text)):
                            waiting.discard(name)
                assert time.monotonic() < deadline, f"first crawl not done by {waiting}"
                await asyncio.sleep(0.5)

    # -- the validator -------------------------------------------------------------------------------------------------

    async def register_validator(self, name: str = "validator") -> str:
        """Register and stake the validator before any miner starts: miners load who may call them at start."""
        hotkey = await self._register_files_wallet(name)
        if (await self.chain.state()).by_hotkey(hotkey).stake < VALIDATOR_STAKE:
            await self.chain.add_stake(hotkey, VALIDATOR_STAKE)
        await self.chain.set_validator_permits()
        return hotkey

    async def add_validator(self, name: str = "validator") -> Member:
        hotkey = await self.register_validator(name)
        config = self._common(name) | {
            "domain_dirs": [str(self.domains_dir)],
            "validator": {"domains": list(DOMAINS), "step_seconds": STEP_SECONDS, "miners_per_step": 64,
                          "concurrency": 8, "miner_timeout_seconds": MINER_TIMEOUT_SECONDS,
                          "sample_size": SAMPLE_SIZE, "dashboard_port": 0, "ladder_processes": 1,
                          **LISTENER},
            "hub": {"local_dir": str(self.root / "hub")}}
        path = self._write(self.root / name / "config.toml", config)
        member = Member(name, "validator", hotkey, data_dir=self.root / name)
        member.proc = RoleProcess(name, glean_command("validator", "run"), self.root / "logs" / f"{name}.log",
                                  env=child_environment({"GLEAN_CONFIG": str(path)}))
        self.members[name] = member
        member.proc.start()
        return member

    def validator_steps(self) -> int:
        """Steps the validator finished (0 before its database exists)."""
        return finished_steps(self.validator_db) if self.validator_db.exists() else 0

    async def wait_steps(self, more: int, timeout: float = 90.0) -> int:
        """Until the validator finished `more` further steps (it may be restarted meanwhile)."""
        target = await asyncio.to_thread(self.validator_steps) + more
        deadline = time.monotonic() + timeout
        while (done := await asyncio.to_thread(self.validator_steps)) < target:
            self.check_alive(self.members["validator"])
            assert time.monotonic() < deadline, f"validator finished {done} of {target} steps in {timeout:.0f} s"
            await asyncio.sleep(0.5)
        return done

    # -- hostile miners ------------------------------------------------------------------------------------------------

    async def add_hostile(self, kind: str, name: str, *, source: str | None = None, lag: float = 0.0) -> Member:
        wallet = dev_wallet(name)
        hotkey = wallet.hotkey.ss58_address
        if (await self.chain.state()).by_hotkey(hotkey) is None:
            await self.chain.register(wallet)
        info = self.root / name / "info.json"
        info.unlink(missing_ok=True)
        argv = [sys.executable, "-m", "tests.adversarial.hostile", "--kind", kind, "--name", name,
                "--chain", str(self.root / "chain.sqlite"), "--domains", str(self.domains_dir),
                "--data-dir", str(self.root / name), "--info", str(info), "--lag", str(lag),
                "--accepted", str(self.validator_db)]
        if source is not None:
            argv += ["--source", str(self.miner_db(source))]
        if kind == "self-publisher":  # the attacker posted its pages on the wiki before it starts serving them
            pages = self.root / name / "pages.json"
            publish_pages(self.web, pages, self.catalog, LANGUAGE)
            argv += ["--pages", str(pages)]
        member = Member(name, f"hostile:{kind}", hotkey, data_dir=self.root / name)
        member.proc = RoleProcess(name, argv, self.root / "logs" / f"{name}.log", env=child_environment({}))
        self.members[name] = member
        member.proc.start()
        return member

    async def wait_serving(self, names: Iterable[str], timeout: float = START_TIMEOUT_SECONDS) -> None:
        """Until each hostile process wrote its info file (it serves and its axon is on chain)."""
        deadline = time.monotonic() + timeout
        for name in names:
            member = self.members[name]
            info = self.root / name / "info.json"
            while not info.is_file():
                self.check_alive(member)
                assert time.monotonic() < deadline, f"{name} did not start serving"
                await asyncio.sleep(0.2)
            member.port = json.loads(info.read_text())["port"]

    # -- faults and edits ----------------------------------------------------------------------------------------------

    def check_alive(self, member: Member) -> None:
        if member.proc is not None and not member.proc.running():
            raise AssertionError(f"{member.name} exited with {member.proc.returncode()}:\n{member.proc.tail()}")

    async def sigkill(self, name: str, *, restart_after: float = 0.5) -> None:
        """SIGKILL a process (and what it started) at this moment, then start it again."""
        member = self.members[name]
        member.proc.kill()
        await asyncio.to_thread(member.proc.proc.wait, 30)
        self.events.kills.append((self.elapsed(), name))
        log.info("killed %s at %.1f s", name, self.elapsed())
        await asyncio.sleep(restart_after)
        member.proc.start()

    def edit_pages(self, plan: HonestPlan, count: int) -> list[str]:
        """Replace `count` pages of the miner's slice with new prose (a site publishing new articles)."""
        slugs = sorted(a.slug for a in self.web.articles(plan.area) if plan.owns(a.slug))
        edited = [key for key, _ in self.events_edits() if key.startswith(f"{plan.area}/")]
        keys = [f"{plan.area}/{s}" for s in slugs if f"{plan.area}/{s}" not in edited][:count]
        for key in keys:
            text = next(self._edit_texts, None)
            if text is None:
                break
            edited_at = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
            self.web.edit(key, text=text)
            self.events.edits.append((self.elapsed(), plan.name, key, edited_at))
        return keys

    def events_edits(self) -> list[tuple[str, str]]:
        return [(key, miner) for _t, miner, key, _at in self.events.edits]

    # -- what the chain paid -----------------------------------------------------------------------------------------

    async def miner_emission(self) -> dict[str, float]:
        """Miner emission per member name, summed over every epoch of the run."""
        by_hotkey: dict[str, float] = {}
        for record in await self.chain.emissions():
            by_hotkey[record.hotkey] = by_hotkey.get(record.hotkey, 0.0) + record.miner_emission
        return {name: by_hotkey.get(m.hotkey, 0.0) for name, m in self.members.items() if m.role != "validator"}


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def finished_steps(db: Path) -> int:
    """Steps a validator process finished, read from its SQLite database (0 while it cannot be read)."""
    import sqlite3

    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("SELECT count(*) FROM validator_steps WHERE finished_at IS NOT NULL").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0
