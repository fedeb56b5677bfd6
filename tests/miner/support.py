"""Helpers of the miner tests: records, dev wallets, a LocalChain with validators, a miner served on loopback."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import httpx
from bittensor.keyfiles import Keypair

from chain import LocalChain
from chain.auth import HotkeyAuth
from miner.app import Miner, bind_socket, build_miner
from miner.store import Store
from schemas import Record, utcnow
from schemas.config import GleanConfig
from schemas.protocol import PROTOCOL_HEADER
from schemas.version import PROTOCOL_VERSION

PROTOCOL = {PROTOCOL_HEADER: str(PROTOCOL_VERSION)}  # what every glean validator sends with a signed request

WORDS = ("python data model train token network research paper result method value index store crawl "
         "validator miner subnet record query cursor page bytes text source domain").split()


def make_record(i: int, *, domain: str = "ml-research", source: str = "web", words: int = 60,
                fetched_at: datetime | None = None, version: int = 0, uri: str | None = None) -> Record:
    """A valid record whose text is unique to (i, version)."""
    body = " ".join(WORDS[(i * 7 + k * 3 + version) % len(WORDS)] for k in range(words))
    return Record.build(uri=uri or f"https://example.org/{domain}/{i}", text=f"Doc {i} v{version}. {body}",
                        source=source, domain=domain, title=f"Document {i}",
                        fetched_at=fetched_at or utcnow() - timedelta(minutes=1))


def dev_wallet(name: str) -> SimpleNamespace:
    """An in-memory wallet (no files): what chain and auth need of one."""
    cold, hot = Keypair.create_from_uri(f"//{name}"), Keypair.create_from_uri(f"//{name}//hot")
    return SimpleNamespace(coldkey=cold, coldkeypub=Keypair(ss58_address=cold.ss58_address), hotkey=hot)


async def registered(chain: LocalChain, name: str, *, stake: float = 0.0) -> SimpleNamespace:
    """A dev wallet registered on `chain`, with `stake` added (stake > 0 earns a permit on the LocalChain)."""
    wallet = dev_wallet(name)
    await chain.register(wallet)
    if stake:
        await chain.add_stake(wallet.hotkey.ss58_address, stake)
    return wallet


def miner_config(tmp_path: Path, **miner) -> GleanConfig:
    return GleanConfig(data_dir=tmp_path / "glean", miner={"host": "127.0.0.1", **miner})


@dataclass
class RunningMiner:
    miner: Miner
    base_url: str
    chain: LocalChain

    @property
    def hotkey(self) -> str:
        return self.miner.hotkey

    @property
    def store(self) -> Store:
        return self.miner.store.store

    def client(self, wallet, *, receiver: str | None = None) -> httpx.AsyncClient:
        """A client signing as `wallet` for this miner (or for `receiver`)."""
        auth = HotkeyAuth(wallet.hotkey, receiver or self.hotkey)
        return httpx.AsyncClient(base_url=self.base_url, auth=auth, headers=PROTOCOL, timeout=10)


@contextlib.asynccontextmanager
async def serve_miner(config: GleanConfig, chain: LocalChain, wallet, *, records: list[Record] = (),
                      crawl=None, catalog=None) -> AsyncIterator[RunningMiner]:
    """A miner with a real uvicorn on an ephemeral loopback port, stopped (and its store closed) on exit."""
    miner = build_miner(config, wallet=wallet, chain=chain, crawl=crawl, catalog=catalog)
    if records:
        miner.store.store.add(records)
    sock = bind_socket("127.0.0.1", 0)
    stop = asyncio.Event()
    task = asyncio.create_task(miner.run(stop, sock=sock))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with httpx.AsyncClient(base_url=base_url) as probe:
        for _ in range(500):  # bounded: ~10 s on a busy machine
            if task.done():
                task.result()
            with contextlib.suppress(httpx.TransportError):
                if (await probe.get("/v1/health")).status_code == 200:
                    break
            await asyncio.sleep(0.02)
        else:
            stop.set()
            raise RuntimeError("the miner did not answer /v1/health in time")
    try:
        yield RunningMiner(miner, base_url, chain)
    finally:
        stop.set()
        await task
