"""A running miner on a LocalChain follows what validators want: a request a validator adopts reaches the miner
through the validator's committed list and public listener, and the miner crawls it (its spec from the list, not
from domains/) until the validator drops it — without a restart."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import httpx
from bittensor.keyfiles import Keypair

from miner.app import following_path
from miner.desirability import Following
from schemas import DomainCatalog
from schemas.config import RequestPolicy
from tests.chain.conftest import local_chain_at
from tests.miner.support import make_record, miner_config, registered, serve_miner
from tests.validator.requests_support import ALICE, VALIDATOR, request, serve_listener
from validator.desirability import Desirability
from validator.store import ValidatorStore

TEMPO = 10
CATALOG = DomainCatalog.load()


class Crawls:
    """Stores one record per crawl and remembers the spec each crawl was given."""

    def __init__(self) -> None:
        self.specs = []

    async def __call__(self, spec, *, page_budget, sink, sources, user_agent, **_incremental):
        self.specs.append(spec)
        await sink([make_record(len(self.specs), domain=spec.id, source=sources[0])])
        return SimpleNamespace(pages=1, records=1, errors={}, robots_disallowed=0, seconds=0.0)


async def until(condition, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def next_epoch(chain) -> None:
    block = await chain.block()
    await chain.advance(TEMPO - block % TEMPO)


async def test_a_miner_crawls_an_adopted_request_until_the_validator_drops_it(tmp_path):
    chain = local_chain_at(tmp_path / "chain.sqlite", tempo=TEMPO)
    store = ValidatorStore.open(f"sqlite:///{tmp_path / 'validator.sqlite'}")
    cold = Keypair.create_from_uri("//Validator")
    wallet = SimpleNamespace(coldkey=cold, coldkeypub=Keypair(ss58_address=cold.ss58_address), hotkey=VALIDATOR)
    crawls = Crawls()
    config = miner_config(tmp_path, follow_network=True, network_domains=2, network_refresh_seconds=0.05,
                          cadence_seconds=3600)
    policy = RequestPolicy(adopt_hotkeys=[ALICE.ss58_address], weight=2.0)
    try:
        await chain.register(wallet)
        await chain.add_stake(VALIDATOR.ss58_address, 50.0)
        async with serve_listener(store, policy=policy) as listener, httpx.AsyncClient() as client:
            port = int(listener.base_url.rsplit(":", 1)[1])
            await chain.serve(wallet, "127.0.0.1", port)
            validator = Desirability(chain=chain, wallet=wallet, store=store, catalog=CATALOG,
                                     domains=["ml-research"], local=True, client=client)
            wanted = request()  # a domain that is not built in, adopted by the policy (listed requester)
            async with listener.client(ALICE) as http:
                assert (await http.post("/v1/requests", content=wanted.canonical())).json()["status"] == "adopted"
            await validator.commit()
            await next_epoch(chain)
            miner = await registered(chain, "miner")
            async with serve_miner(config, chain, miner, crawl=crawls, catalog=CATALOG) as running:
                await until(lambda: any(s.id == "rust-async" for s in crawls.specs))
                assert next(s for s in crawls.specs if s.id == "rust-async") == wanted.domain
                listener.desk.decline(wanted.request_id, "collected enough")
                await validator.commit()
                await next_epoch(chain)
                await until(lambda: running.miner.scheduler.running() == ["ml-research"])
                following = Following.read(following_path(config))
                assert following.crawling() == ["ml-research"] and not following.from_catalog
                assert "rust-async" in {b.domain for b in running.store.buckets()}
    finally:
        store.close()
        await chain.close()


async def test_a_miner_with_pins_crawls_only_them_until_a_validator_list_counts(tmp_path):
    """No validator has committed a list: a miner following the network on top of its pins takes nothing from its
    catalog (offline, the built-in specs there point at the real internet)."""
    chain = local_chain_at(tmp_path / "chain.sqlite", tempo=TEMPO)
    crawls = Crawls()
    config = miner_config(tmp_path, domains=["ml-research"], follow_network=True, network_refresh_seconds=0.05,
                          cadence_seconds=3600)
    try:
        miner = await registered(chain, "miner")
        async with serve_miner(config, chain, miner, crawl=crawls, catalog=CATALOG) as running:
            await until(lambda: following_path(config).is_file() and crawls.specs)
            following = Following.read(following_path(config))
            assert following.from_catalog and following.crawling() == []
            assert running.miner.scheduler.domains() == ["ml-research"]
            assert {s.id for s in crawls.specs} == {"ml-research"}
    finally:
        await chain.close()
