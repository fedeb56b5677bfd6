"""A process that hammers a shared LocalChain file: registers, serves, commits, moves the clock, sets weights."""

from __future__ import annotations

import asyncio

from chain import LocalChain
from tests.chain.devkeys import dev_wallet


def wallet_names(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{i}" for i in range(count)]


def exercise(path: str, prefix: str, count: int) -> None:
    """Entry point of one worker process (spawned, so it opens its own connection)."""
    asyncio.run(_exercise(path, prefix, count))


async def _exercise(path: str, prefix: str, count: int) -> None:
    chain = LocalChain(path)
    wallets = [dev_wallet(name) for name in wallet_names(prefix, count)]
    for i, wallet in enumerate(wallets):
        await chain.register(wallet)
        await chain.serve(wallet, "127.0.0.1", 10_000 + i)
        await chain.commit(wallet, f"{prefix}-{i}")
    for wallet in wallets:
        await chain.advance(1)  # whoever crosses a tempo boundary runs the pending epoch
        await chain.set_weights(wallet, {0: 1.0})
    await chain.close()
