"""Dataset requests for tests: a spec of the sample web's kind, requester keys, a listener on loopback."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from bittensor.keyfiles import Keypair

from chain.auth import HotkeyAuth
from schemas.config import RequestPolicy
from schemas.request import DatasetRequest
from validator.listener import Limits, build_listener
from validator.requests import RequestDesk
from validator.store import ValidatorStore
from validator.web import HttpServer

VALIDATOR = Keypair.create_from_uri("//Validator//hot")
ALICE = Keypair.create_from_uri("//Alice//hot")
MALLORY = Keypair.create_from_uri("//Mallory//hot")


def spec(domain: str = "rust-async", **source: Any) -> dict[str, Any]:
    """A requested domain: one web source with a path rule (what a request must give)."""
    params = {"seeds": ["https://docs.example-rust.org/async/"], "allow_patterns": ["^https://docs\\.example-rust"
                                                                                     "\\.org/async/"]}
    return {"id": domain, "title": "Async Rust", "sources": [source or {"kind": "web", "params": params}],
            "relevance": {"keywords": {"async": 1.0, "tokio": 1.0}}}


def request(domain: str = "rust-async", *, requester: Keypair = ALICE, **extra: Any) -> DatasetRequest:
    return DatasetRequest(spec=extra.pop("spec", None) or spec(domain), requester=requester.ss58_address,
                          target=extra.pop("target", {"records": 50}), **extra)


@dataclass
class Running:
    """A listener on loopback and what it answers from."""

    base_url: str
    desk: RequestDesk
    store: ValidatorStore

    def client(self, signer: Keypair | None = None) -> httpx.AsyncClient:
        auth = HotkeyAuth(signer, VALIDATOR.ss58_address) if signer is not None else None
        return httpx.AsyncClient(base_url=self.base_url, auth=auth, timeout=10)


@contextlib.asynccontextmanager
async def serve_listener(store: ValidatorStore, *, policy: RequestPolicy | None = None, local: bool = True,
                         limits: Limits | None = None, stake: dict[str, float] | None = None,
                         ) -> AsyncIterator[Running]:
    """The listener app over `store` on an ephemeral loopback port, as VALIDATOR."""
    desk = RequestDesk(store, policy or RequestPolicy(), local=local, builtin=("python-ecosystem",),
                       stake_of=(stake or {}).get)
    server = HttpServer(build_listener(desk, store, VALIDATOR.ss58_address, limits=limits), "127.0.0.1", 0)
    server.start()
    try:
        yield Running(f"http://127.0.0.1:{server.port}", desk, store)
    finally:
        await server.stop()
