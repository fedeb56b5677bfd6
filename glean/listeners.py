"""Talking to validators' public listeners (validator/listener.py) from the command line: which validators announce
one, and one bounded, optionally signed call to each. Outside local mode every connection goes through the address
guard (scrapers.address): a validator announcing a private address cannot point a requester's machine at its own
network."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from chain import open_chain
from chain.auth import HotkeyAuth
from chain.state import Neuron, SubnetState
from schemas.config import GleanConfig
from schemas.errors import RequestError
from scrapers.address import GuardedClient, blocked_in

MAX_ANSWER_BYTES = 256 * 1024  # a listener's answer is a small JSON document
TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class Answer:
    """One validator's answer: its uid and hotkey, the HTTP status (0: no answer) and the JSON body (or the error)."""

    uid: int
    hotkey: str
    status: int
    body: dict[str, Any]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def problem(self) -> str:
        """The refusal or failure as one line: error, detail, hint."""
        parts = [str(self.body.get(key)) for key in ("error", "detail", "hint") if self.body.get(key)]
        return ": ".join(parts[:2]) + (f" ({parts[2]})" if len(parts) > 2 else "") or f"HTTP {self.status}"


def listeners(state: SubnetState, uid: int | None = None) -> list[Neuron]:
    """Validators (a permit) announcing a listener, or the one `uid`; RequestError when there is none to ask."""
    if uid is not None:
        neuron = state.by_uid(uid)
        if neuron is None or not neuron.axon:
            raise RequestError(f"uid {uid} announces no listener on netuid {state.netuid}",
                               hint="leave --validator out to ask every validator that announces one")
        return [neuron]
    found = [n for n in state.neurons if n.validator_permit and n.axon]
    if not found:
        raise RequestError(f"no validator on netuid {state.netuid} announces a listener",
                           hint="wait until validators run (their listener is announced at start-up)")
    return found


async def _read(response: httpx.Response) -> dict[str, Any]:
    data = bytearray()
    async for chunk in response.aiter_raw():
        data += chunk
        if len(data) > MAX_ANSWER_BYTES:
            return {"error": "answer_too_large", "detail": f"more than {MAX_ANSWER_BYTES} bytes"}
    try:
        body = json.loads(bytes(data))
    except ValueError:
        return {"error": "not_json", "detail": f"HTTP {response.status_code}, not a JSON answer"}
    return body if isinstance(body, dict) else {"error": "not_json", "detail": "not a JSON object"}


async def call(client: httpx.AsyncClient, neuron: Neuron, method: str, path: str, *, body: bytes = b"",
               signer=None) -> Answer:
    """One call to `neuron`'s listener, signed by `signer` (a Keypair) when given; failures become an Answer."""
    auth = HotkeyAuth(signer, neuron.hotkey) if signer is not None else None
    headers = {"Accept-Encoding": "identity", "Content-Type": "application/json"}
    try:
        async with client.stream(method, f"http://{neuron.axon}{path}", content=body, auth=auth,
                                 headers=headers) as response:
            return Answer(neuron.uid, neuron.hotkey, response.status_code, await _read(response))
    except httpx.HTTPError as exc:
        blocked = blocked_in(exc)
        detail = str(blocked) if blocked else f"{type(exc).__name__}: {exc}"
        return Answer(neuron.uid, neuron.hotkey, 0, {"error": "unreachable", "detail": detail})


async def ask_all(neurons: list[Neuron], *, local: bool,
                  one: Callable[[httpx.AsyncClient, Neuron], Awaitable[Answer]]) -> list[Answer]:
    """`one(client, neuron)` for every neuron at once, through the guarded client (private hosts only locally)."""
    async with GuardedClient(allow_private=local, timeout=TIMEOUT_SECONDS) as client:
        return list(await asyncio.gather(*(one(client, n) for n in neurons)))


def ask_validators(config: GleanConfig, uid: int | None, method: str, path: str, *, body: bytes = b"",
                   signer=None) -> list[Answer]:
    """One call to every validator announcing a listener on the configured chain (or to `uid`), by uid."""

    async def main() -> list[Answer]:
        chain = open_chain(config.chain, config.data_dir)
        try:
            neurons = listeners(await chain.state(), uid)
        finally:
            await chain.close()
        return await ask_all(neurons, local=config.chain.kind == "local", one=lambda client, n: call(
            client, n, method, path, body=body, signer=signer))

    return sorted(asyncio.run(main()), key=lambda a: a.uid)
