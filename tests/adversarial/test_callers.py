"""Hostile callers against an honest miner: a real `glean miner run` process (crawling the sample web, serving on
loopback), called the way an attacker would. Every one is refused with the right status and error, and the honest
validator's signed requests keep being answered throughout, a flood included. Clock skew within btauth's window is
accepted, beyond it refused."""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from chain import LocalChain, load_or_create_wallet
from chain.auth import ALLOWED_SKEW_SECONDS, MAX_AGE_SECONDS, sign_headers
from glean.local.configs import to_toml
from schemas.protocol import MAX_REQUEST_BYTES, PROTOCOL_HEADER, ErrorResponse, RecordsRequest
from schemas.version import PROTOCOL_VERSION
from tests.validator.harness import dev_wallet, registered, write_domains

RATE_PER_MINUTE = 60
BURST = 10
FLOOD = 60  # requests a flooding validator sends at once


@dataclass
class Target:
    url: str
    hotkey: str
    validator: SimpleNamespace  # permitted, staked: the honest caller
    rival: SimpleNamespace  # another permitted validator, the one that floods
    miner_caller: SimpleNamespace  # registered, no permit
    stranger: SimpleNamespace  # never registered


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _network(root: Path, web) -> tuple[LocalChain, dict]:
    chain = LocalChain(root / "chain.sqlite")
    wallets = {
        "validator": await registered(chain, "callers-validator", stake=1000.0),
        "rival": await registered(chain, "callers-rival", stake=500.0),
        "miner_caller": await registered(chain, "callers-miner"),
        "stranger": dev_wallet("callers-stranger"),
    }
    miner = load_or_create_wallet("callers-target", "default", root / "wallets")
    await chain.register(miner)
    return chain, {**wallets, "target": miner}


@pytest.fixture(scope="module")
def target(tmp_path_factory, web) -> Iterator[Target]:
    root = tmp_path_factory.mktemp("callers")
    chain, wallets = asyncio.run(_network(root, web))
    asyncio.run(chain.close())
    port = _free_port()
    config = root / "miner.toml"
    config.write_text(to_toml({
        "data_dir": str(root / "miner"), "domain_dirs": [str(write_domains(web, root / "domains"))],
        "chain": {"kind": "local", "local_path": str(root / "chain.sqlite")},
        "wallet": {"name": "callers-target", "hotkey": "default", "path": str(root / "wallets")},
        "miner": {"domains": ["python-language"], "host": "127.0.0.1", "port": port, "external_ip": "127.0.0.1",
                  "requests_per_minute": RATE_PER_MINUTE, "request_burst": BURST, "user_agent": "callers-miner/1"},
    }))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLEAN_")} | {"GLEAN_CONFIG": str(config)}
    log = root / "miner.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "glean", "miner", "run"], env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            try:
                if httpx.get(f"{url}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield Target(url, wallets["target"].hotkey.ss58_address, wallets["validator"], wallets["rival"],
                     wallets["miner_caller"], wallets["stranger"])
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _signed(signer, target: Target, *, method: str = "GET", path: str = "/v1/index", body: bytes = b"",
            receiver: str | None = None, skew: float = 0.0) -> dict[str, str]:
    nonce = time.time_ns() + int(skew * 1e9)
    headers = sign_headers(signer.hotkey, method=method, target=path, body=body,
                           receiver_ss58=receiver or target.hotkey, nonce_ns=nonce)
    return headers | {PROTOCOL_HEADER: str(PROTOCOL_VERSION)}  # as every glean validator sends


def _index(target: Target, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.get(f"{target.url}/v1/index", headers=headers or {}, timeout=10)


def _refused(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    body = ErrorResponse.model_validate_json(response.content)
    assert body.error == error and body.hint


def test_the_honest_validator_is_served(target):
    assert _index(target, _signed(target.validator, target)).status_code == 200


def test_an_unsigned_request_is_refused_with_401(target):
    _refused(_index(target), 401, "malformed_auth")


def test_a_replayed_request_is_refused_with_401(target):
    headers = _signed(target.validator, target)
    assert _index(target, headers).status_code == 200
    _refused(_index(target, headers), 401, "replayed_request")


def test_a_request_signed_for_another_miner_is_refused_with_401(target):
    _refused(_index(target, _signed(target.validator, target, receiver=target.rival.hotkey.ss58_address)), 401,
             "wrong_receiver")


@pytest.mark.parametrize("skew", [-(MAX_AGE_SECONDS + 5.0), ALLOWED_SKEW_SECONDS + 3.0])
def test_a_request_outside_the_freshness_window_is_refused_with_401(target, skew):
    _refused(_index(target, _signed(target.validator, target, skew=skew)), 401, "stale_request")


@pytest.mark.parametrize("skew", [-(MAX_AGE_SECONDS - 3.0), ALLOWED_SKEW_SECONDS - 0.5])
def test_a_validator_whose_clock_is_off_within_the_window_is_served(target, skew):
    assert _index(target, _signed(target.validator, target, skew=skew)).status_code == 200


def test_a_tampered_body_is_refused_with_401(target):
    body = RecordsRequest(after_seq=0, limit=5).model_dump_json().encode()
    headers = _signed(target.validator, target, method="POST", path="/v1/records", body=body)
    tampered = body.replace(b'"limit":5', b'"limit":9')
    response = httpx.post(f"{target.url}/v1/records", content=tampered, timeout=10,
                          headers=headers | {"Content-Type": "application/json"})
    _refused(response, 401, "bad_signature")


def test_an_unregistered_caller_is_refused_with_403(target):
    _refused(_index(target, _signed(target.stranger, target)), 403, "not_registered")


def test_a_registered_caller_without_a_permit_is_refused_with_403(target):
    _refused(_index(target, _signed(target.miner_caller, target)), 403, "no_validator_permit")


def test_an_oversized_request_is_refused_with_413(target):
    body = json.dumps({"uris": ["x" * 100] * (MAX_REQUEST_BYTES // 100)}).encode()
    response = httpx.post(f"{target.url}/v1/records/lookup", content=body, timeout=10,
                          headers=_signed(target.validator, target, method="POST", path="/v1/records/lookup",
                                          body=body) | {"Content-Type": "application/json"})
    _refused(response, 413, "request_too_large")


async def test_a_flood_is_refused_with_429_while_the_honest_validator_is_served(target):
    """A permitted rival floods the miner (plus unsigned and unregistered junk at once); the rival gets 429 with
    Retry-After past its burst, the junk 401/403, and every request of the honest validator in between is served."""
    async with httpx.AsyncClient(base_url=target.url, timeout=30) as http:
        async def index(headers):
            response = await http.get("/v1/index", headers=headers)
            return response.status_code, response.headers.get("Retry-After")

        flood = [index(_signed(target.rival, target)) for _ in range(FLOOD)]
        junk = [index({}) for _ in range(FLOOD)] + [index(_signed(target.stranger, target)) for _ in range(FLOOD)]
        honest = [index(_signed(target.validator, target)) for _ in range(BURST // 2)]
        began = time.monotonic()
        answers = await asyncio.gather(*flood, *junk, *honest)
        refilled = math.ceil((time.monotonic() - began) * RATE_PER_MINUTE / 60)  # tokens the bucket regained
        after, _ = await index(_signed(target.validator, target))
    statuses = [status for status, _ in answers]
    rival, unsigned = statuses[:FLOOD], statuses[FLOOD:2 * FLOOD]
    stranger, served = statuses[2 * FLOOD:3 * FLOOD], statuses[3 * FLOOD:]
    assert rival.count(200) <= BURST + refilled and set(rival) <= {200, 429} and rival.count(429) >= FLOOD // 2
    assert all(retry is not None and int(retry) >= 1 for status, retry in answers[:FLOOD] if status == 429)
    assert set(unsigned) == {401} and set(stranger) == {403}
    assert set(served) == {200} and after == 200
