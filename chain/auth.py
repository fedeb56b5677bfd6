"""Signed HTTP between neurons (btauth/1 from `bittensor.http_auth`): an httpx signer and one verify wrapper."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx
from bittensor import http_auth

# Re-exported so callers never import the SDK directly.
AuthError = http_auth.AuthError
NonceStore = http_auth.InMemoryNonceStore
MAX_AGE_SECONDS = http_auth.DEFAULT_MAX_AGE
ALLOWED_SKEW_SECONDS = http_auth.DEFAULT_ALLOWED_SKEW


class HotkeyAuth(httpx.Auth):
    """Signs each request at send time (fresh nonce per attempt) for one receiver hotkey."""

    requires_request_body = True

    def __init__(self, signer, receiver_ss58: str) -> None:
        self.signer = signer  # a Keypair (wallet.hotkey), never the Wallet: 26x faster
        self.receiver = receiver_ss58

    def auth_flow(self, request: httpx.Request):
        request.headers.update(
            http_auth.sign(self.signer, method=request.method, path=request.url.raw_path.decode(),
                           body=request.content, receiver_ss58=self.receiver)
        )
        yield request


def sign_headers(signer, *, method: str, target: str, body: bytes, receiver_ss58: str,
                 nonce_ns: int | None = None) -> dict[str, str]:
    """Headers for one request (tests and hostile callers use this to craft requests by hand)."""
    return http_auth.sign(signer, method=method, path=target, body=body, receiver_ss58=receiver_ss58,
                          nonce_ns=nonce_ns)


@dataclass(frozen=True)
class VerifiedCaller:
    hotkey: str
    nonce_ns: int


def verify_request(headers: Mapping[str, str], body: bytes, *, method: str, target: str, self_hotkey: str,
                   nonce_store: NonceStore) -> VerifiedCaller:
    """Check a request signed for `self_hotkey`; raises AuthError (map to 401) when it is not valid."""
    caller = http_auth.verify(headers, body, method=method, path=target, self_hotkey_ss58=self_hotkey,
                              nonce_store=nonce_store)
    return VerifiedCaller(hotkey=caller.hotkey_ss58, nonce_ns=caller.nonce_ns)
