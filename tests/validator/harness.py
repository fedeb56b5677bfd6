"""A small local network for the validator's tests: a LocalChain, a validator with a permit, real miners
(miner.app over uvicorn on loopback) or scripted servers registered with their axons, and the sample web as the
sources the validator re-fetches from."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import yaml
from bittensor.keyfiles import Keypair

from chain import LocalChain
from glean.local.configs import to_toml
from glean.sampleweb import SampleWeb, domain_specs
from miner.app import Miner
from schemas.config import GleanConfig
from schemas.domain import DomainCatalog, DomainSpec
from schemas.record import Record, utcnow
from scrapers import fetch_one
from tests.miner.support import serve_miner
from validator.ladder import judge_record

DOMAIN = "python-language"  # the sample web's language reference: 50 articles of real prose
BLOCK_TIME = 0.05  # fast blocks: seeds and tempos arrive quickly; weights need a tempo (20 blocks = 1 s)


def dev_wallet(name: str) -> SimpleNamespace:
    """An in-memory wallet (no files)."""
    cold, hot = Keypair.create_from_uri(f"//{name}"), Keypair.create_from_uri(f"//{name}//hot")
    return SimpleNamespace(coldkey=cold, coldkeypub=Keypair(ss58_address=cold.ss58_address), hotkey=hot)


async def registered(chain: LocalChain, name: str, *, stake: float = 0.0, axon: str | None = None):
    wallet = dev_wallet(name)
    await chain.register(wallet)
    if stake:
        await chain.add_stake(wallet.hotkey.ss58_address, stake)
        await chain.set_validator_permits()
    if axon:
        host, _, port = axon.rpartition(":")
        await chain.serve(wallet, host, int(port))
    return wallet


def write_domains(web: SampleWeb, folder: Path) -> Path:
    """The sample web's domain specs as YAML files (what `domain_dirs` points at)."""
    folder.mkdir(parents=True, exist_ok=True)
    for domain_id, spec in domain_specs(web.base_url).items():
        (folder / f"{domain_id}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return folder


# A validator process serves its public listener (validator/listener.py): in tests on loopback, on any free port
# (the default 0.0.0.0:8093 would clash with any other validator on the machine and face the network).
LISTENER = {"listener_host": "127.0.0.1", "listener_port": 0}


def validator_config(tmp_path: Path, domains_dir: Path, chain_path: Path, **validator) -> GleanConfig:
    settings = {"domains": [DOMAIN], "step_seconds": 20.0, "dashboard_port": 0, "concurrency": 4,
                "miner_timeout_seconds": 10.0, "ladder_processes": 0, **LISTENER, **validator}
    return GleanConfig(data_dir=tmp_path / "validator", domain_dirs=[domains_dir],
                       chain={"kind": "local", "local_path": chain_path, "block_time": BLOCK_TIME},
                       validator=settings)


async def honest_records(web: SampleWeb, spec: DomainSpec, keys: list[str]) -> list[Record]:
    """What an honest miner holds: each page fetched with the scrapers' own code (as its crawl would)."""
    def site_source(key: str):  # the web source of the key's area (python-stdlib also crawls an unlicensed area)
        area = key.split("/", 1)[0]
        return next(s for s in spec.sources if s.kind == "web" and f"/site/{area}/" in s.params["seeds"][0])

    gate = asyncio.Semaphore(4)

    async def fetch(key: str):
        async with gate:
            return await fetch_one(spec, site_source(key), web.article_url(key), timeout=60, allow_private=True)

    outcomes = await asyncio.gather(*(fetch(k) for k in keys))
    records = [o.record for o in outcomes if o.status == "content" and o.record is not None]
    assert len(records) == len(keys), [o.reason for o in outcomes if o.status != "content"]
    return records


def language_keys(web: SampleWeb) -> list[str]:
    return sorted(a.key for a in web.articles("language"))


_ACCEPTABLE: dict[str, list[Record]] = {}  # per sample web (base URL): fetched and judged once per session


async def acceptable_records(web: SampleWeb, spec: DomainSpec) -> list[Record]:
    """Every language article an honest miner could offer that passes the validator's quality and relevance."""
    if web.base_url not in _ACCEPTABLE:
        records = await honest_records(web, spec, language_keys(web))
        now = utcnow()
        _ACCEPTABLE[web.base_url] = [r for r in records
                                     if judge_record(0, 1, r.model_dump(mode="json"), spec, now)[0] is not None]
    return list(_ACCEPTABLE[web.base_url])


@dataclass
class Net:
    chain: LocalChain
    web: SampleWeb
    catalog: DomainCatalog
    domains_dir: Path
    validator: SimpleNamespace
    tmp_path: Path

    async def records(self, count: int, start: int = 0) -> list[Record]:
        """`count` distinct records of real pages that pass quality and relevance (an honest miner's holdings)."""
        found = await acceptable_records(self.web, self.spec)
        assert start + count <= len(found), f"only {len(found)} acceptable articles"
        return found[start:start + count]

    @property
    def spec(self) -> DomainSpec:
        return self.catalog.get(DOMAIN)

    def config(self, **validator) -> GleanConfig:
        return validator_config(self.tmp_path, self.domains_dir, self.chain.path, **validator)

    def write_validator_toml(self, path: Path, wallet: str, wallets: Path, **validator) -> None:
        """The config file of a `glean validator run` process on this chain, validating DOMAIN."""
        path.write_text(to_toml({
            "domain_dirs": [str(self.domains_dir)],
            "chain": {"kind": "local", "local_path": str(self.chain.path), "block_time": BLOCK_TIME},
            "wallet": {"name": wallet, "hotkey": "default", "path": str(wallets)},
            "validator": {"domains": [DOMAIN], **LISTENER, **validator},
        }))


@contextlib.asynccontextmanager
async def local_net(tmp_path: Path, web: SampleWeb, *, tempo: int = 20) -> AsyncIterator[Net]:
    """A fresh chain and validator over the (shared) sample web; edits and faults are undone on exit."""
    chain = LocalChain(tmp_path / "chain.sqlite", tempo=tempo, block_time=BLOCK_TIME, weights_rate_limit=5)
    try:
        domains_dir = write_domains(web, tmp_path / "domains")
        catalog = DomainCatalog.load([domains_dir])
        validator = await registered(chain, "validator", stake=1000.0)
        yield Net(chain, web, catalog, domains_dir, validator, tmp_path)
    finally:
        web.reset()
        await chain.close()


@dataclass
class RunningMiner:
    miner: Miner
    wallet: SimpleNamespace
    axon: str

    @property
    def hotkey(self) -> str:
        return self.wallet.hotkey.ss58_address


@contextlib.asynccontextmanager
async def real_miner(net: Net, name: str, records: list[Record]) -> AsyncIterator[RunningMiner]:
    """A real miner (miner.app) holding `records`, serving on a loopback port announced on the chain."""
    wallet = await registered(net.chain, name)
    config = GleanConfig(data_dir=net.tmp_path / f"miner-{name}",
                         miner={"host": "127.0.0.1", "requests_per_minute": 6000, "request_burst": 500})
    async with serve_miner(config, net.chain, wallet, records=records, catalog=net.catalog) as running:
        yield RunningMiner(running.miner, wallet, running.base_url.removeprefix("http://"))


def records_page(records: list[Record], *, first_seq: int = 1) -> bytes:
    """A RecordsResponse body holding all of `records` (for scripted miners)."""
    items = [{"seq": first_seq + i, "record": r.model_dump(mode="json")} for i, r in enumerate(records)]
    return json.dumps({"records": items, "next_seq": first_seq + len(records) - 1, "more": False}).encode()


def index_body(hotkey: str, records: list[Record]) -> bytes:
    from schemas.index import IndexBucket, MinerIndex

    buckets = [IndexBucket(domain=DOMAIN, source="web", day=records[0].fetched_at.date(), count=len(records),
                           bytes=sum(r.text_bytes for r in records), newest_seq=len(records))] if records else []
    return MinerIndex.from_buckets(hotkey, buckets, len(records)).model_dump_json().encode()
