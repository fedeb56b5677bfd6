"""A running miner on a LocalChain follows the lists validators commit and serve: it crawls a requested domain (its
spec from the list, not from domains/) once it is wanted and stops it once it is not, without a restart."""

from __future__ import annotations

import asyncio
import contextlib
from types import SimpleNamespace

from chain.commitment import Commitment
from chain.desirability import DESIRABILITY_PATH
from miner.app import following_path
from miner.desirability import Following
from schemas import DomainCatalog
from schemas.desirability import DesirabilityEntry, DesirabilityList
from tests.chain.conftest import local_chain_at
from tests.miner.support import make_record, miner_config, registered, serve_miner
from tests.miner.test_desirability import spec
from tests.validator.servers import RawServer, send

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


async def commit(chain, wallet, server: RawServer, listed: DesirabilityList) -> None:
    """The validator commits its list's hash, serves the list, and the chain moves to the next epoch."""
    body = listed.canonical()
    server.routes[DESIRABILITY_PATH.format(hash=listed.hash())] = lambda handler: send(handler, 200, body)
    await chain.commit(wallet, Commitment(desirability=listed.hash()).encode())
    block = await chain.block()
    await chain.advance(TEMPO - block % TEMPO)


async def test_a_miner_crawls_a_requested_domain_while_the_network_wants_it(tmp_path):
    requested = spec("requested-docs", host="127.0.0.1:9")
    wanted = DesirabilityList.build([DesirabilityEntry.of(requested, 3.0)])
    later = DesirabilityList.build([DesirabilityEntry.of(CATALOG.get("ml-research"), 1.0)])
    chain = local_chain_at(tmp_path / "chain.sqlite", tempo=TEMPO)
    crawls = Crawls()
    config = miner_config(tmp_path, follow_network=True, network_domains=1, network_refresh_seconds=0.05,
                          cadence_seconds=3600)
    with contextlib.ExitStack() as stack:
        listener = stack.enter_context(RawServer())
        try:
            validator = await registered(chain, "validator", stake=50.0)
            host, port = listener.axon.split(":")
            await chain.serve(validator, host, int(port))
            await commit(chain, validator, listener, wanted)
            miner = await registered(chain, "miner")
            async with serve_miner(config, chain, miner, crawl=crawls, catalog=CATALOG) as running:
                await until(lambda: any(s.id == "requested-docs" for s in crawls.specs))
                assert next(s for s in crawls.specs if s.id == "requested-docs") == requested
                await commit(chain, validator, listener, later)
                await until(lambda: running.miner.scheduler.running() == ["ml-research"])
                following = Following.read(following_path(config))
                assert following.crawling() == ["ml-research"] and following.network_hash is not None
                assert "requested-docs" in {b.domain for b in running.store.buckets()}
        finally:
            await chain.close()
