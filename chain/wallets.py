"""Local wallets without prompts: unencrypted keyfiles in a given directory, created on first use.

Encrypted keys cost ~2 s to create or unlock and may prompt; glean's local roles use plain hotkeys (as the SDK
does by default) and never need the coldkey's secret: registration on the LocalChain reads `coldkeypub` only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import bittensor as bt
from bittensor.keyfiles import resolve_key_password

from schemas.errors import ConfigError

log = logging.getLogger(__name__)


def load_or_create_wallet(name: str, hotkey: str, path: Path) -> bt.Wallet:
    """The wallet `path/name` with hotkey `hotkey`; missing keys are created unencrypted, never prompting."""
    wallet = bt.Wallet(name=name, hotkey=hotkey, path=str(Path(path).expanduser()))
    if not wallet.coldkeypub_file.exists_on_device():
        _create(lambda: wallet.create_new_coldkey(use_password=False, overwrite=False, suppress=True))
        log.info("created coldkey wallet=%s path=%s", name, path)
    if not wallet.hotkey_file.exists_on_device():
        _create(lambda: wallet.create_new_hotkey(use_password=False, overwrite=False, suppress=True))
        log.info("created hotkey wallet=%s hotkey=%s", name, hotkey)
    _unlock_hotkey(wallet)
    return wallet


def create_local_wallets(names: Iterable[str], path: Path, *, hotkey: str = "default") -> list[bt.Wallet]:
    """One wallet per name (created when missing), e.g. for the miners and validators of `glean local up`."""
    return [load_or_create_wallet(name, hotkey, path) for name in names]


def _create(write) -> None:
    try:
        write()
    except FileExistsError:
        pass  # another process created the same key a moment ago; it is read below


def _unlock_hotkey(wallet: bt.Wallet) -> None:
    """Load the hotkey now, so an encrypted one fails here with a fix instead of prompting later."""
    keyfile = wallet.hotkey_file
    if not keyfile.is_encrypted():
        _ = wallet.hotkey
        return
    password = resolve_key_password(None, env_var_name=keyfile.env_var_name(), allow_prompt=False)
    if password is None:
        raise ConfigError(
            f"hotkey {keyfile.path} is encrypted and no password is in the environment",
            hint=f"export {keyfile.env_var_name()} (see `btcli wallet`), or use an unencrypted hotkey",
        )
    wallet.get_hotkey(password)
