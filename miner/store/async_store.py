"""The store for asyncio code."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from miner.store.reads import PageRows
from schemas.record import Record

if TYPE_CHECKING:  # the facade imports this module
    from miner.store import AddResult, Store


class AsyncStore:
    """The store for asyncio code: writes on one dedicated thread (in seq order), reads on the default pool."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="miner-store-writer")
        self._closed = False

    async def add(self, batch: Sequence[Record]) -> AddResult:
        # A cancelled caller does not stop the thread: the batch in flight still commits before close() returns.
        return await asyncio.get_running_loop().run_in_executor(self._writer, self.store.add, list(batch))

    async def prune(self) -> int:
        return await asyncio.get_running_loop().run_in_executor(self._writer, self.store.prune)

    async def page(self, after_seq: int, *, limit: int, max_bytes: int, domain: str | None = None) -> PageRows:
        return await asyncio.to_thread(self.store.page, after_seq, limit=limit, max_bytes=max_bytes, domain=domain)

    async def lookup(self, *, uris: Sequence[str], hashes: Sequence[str], max_bytes: int) -> list[tuple[int, bytes]]:
        return await asyncio.to_thread(self.store.lookup, uris=uris, hashes=hashes, max_bytes=max_bytes)

    async def close(self) -> None:
        """Wait for the batch in flight, then close the database."""
        if self._closed:
            return
        self._closed = True
        await asyncio.to_thread(self._writer.shutdown, wait=True)
        self.store.close()
