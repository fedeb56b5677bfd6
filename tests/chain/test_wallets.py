"""Local wallets: created unencrypted without prompts, loaded back unchanged, many at once."""

from __future__ import annotations

import os
from pathlib import Path

import bittensor as bt
import pytest

from chain import create_local_wallets, load_or_create_wallet
from schemas.errors import ConfigError


def test_missing_wallet_is_created_with_plain_keyfiles(tmp_path: Path) -> None:
    wallet = load_or_create_wallet("miner", "default", tmp_path)
    assert (tmp_path / "miner" / "coldkey").is_file()
    assert not wallet.coldkey_file.is_encrypted() and not wallet.hotkey_file.is_encrypted()
    assert oct((tmp_path / "miner" / "hotkeys" / "default").stat().st_mode & 0o777) == "0o600"


def test_existing_wallet_is_loaded_with_the_same_keys(tmp_path: Path) -> None:
    first = load_or_create_wallet("miner", "default", tmp_path)
    again = load_or_create_wallet("miner", "default", tmp_path)
    assert again.hotkey.ss58_address == first.hotkey.ss58_address
    assert again.coldkeypub.ss58_address == first.coldkeypub.ss58_address


def test_a_second_hotkey_shares_the_coldkey(tmp_path: Path) -> None:
    one = load_or_create_wallet("owner", "a", tmp_path)
    two = load_or_create_wallet("owner", "b", tmp_path)
    assert one.coldkeypub.ss58_address == two.coldkeypub.ss58_address
    assert one.hotkey.ss58_address != two.hotkey.ss58_address


def test_many_local_wallets_have_distinct_hotkeys(tmp_path: Path) -> None:
    wallets = create_local_wallets([f"miner{i}" for i in range(12)], tmp_path)
    assert len({w.hotkey.ss58_address for w in wallets}) == 12


def test_encrypted_hotkey_without_a_password_is_a_config_error_not_a_prompt(tmp_path: Path) -> None:
    wallet = bt.Wallet("secure", "default", path=str(tmp_path))
    wallet.create_new_coldkey(use_password=False, suppress=True)
    hotkey = Path(wallet.hotkey_file.path)
    hotkey.parent.mkdir(parents=True)
    hotkey.write_bytes(b"$NACL" + bytes(64))  # the encrypted-keyfile marker; real encryption costs ~2 s of KDF
    os.environ.pop(wallet.hotkey_file.env_var_name(), None)
    with pytest.raises(ConfigError, match="encrypted") as raised:
        load_or_create_wallet("secure", "default", tmp_path)
    assert wallet.hotkey_file.env_var_name() in raised.value.hint
