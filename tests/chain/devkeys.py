"""Deterministic in-memory wallets for chain tests (no files, no passwords)."""

from __future__ import annotations

from types import SimpleNamespace

from bittensor.keyfiles import Keypair


def dev_wallet(name: str) -> SimpleNamespace:
    """A wallet-shaped object (the SDK's KeyedWallet): coldkey, coldkeypub and hotkey derived from `//name`."""
    coldkey = Keypair.create_from_uri(f"//{name}")
    return SimpleNamespace(coldkey=coldkey, coldkeypub=Keypair(ss58_address=coldkey.ss58_address),
                           hotkey=Keypair.create_from_uri(f"//{name}//hot"))
