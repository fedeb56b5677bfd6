"""`glean chain register|stake|status` on the local chain, through the real command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from glean.cli import main


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("GLEAN_WALLET__PATH", str(tmp_path / "wallets"))
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str) -> tuple[int, str]:
        code = main(["--data-dir", str(tmp_path / "data"), *args])
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return run


def test_register_creates_the_wallet_and_prints_its_uid(cli) -> None:
    code, out = cli("chain", "register", "--wallet", "miner1")
    assert code == 0 and "as uid 0" in out
    code, out = cli("chain", "register", "--wallet", "miner2")
    assert code == 0 and "as uid 1" in out


def test_stake_gives_the_registered_wallet_a_permit(cli) -> None:
    cli("chain", "register", "--wallet", "validator")
    code, out = cli("chain", "stake", "250", "--wallet", "validator")
    assert code == 0 and "250.00" in out and "validator permit" in out


def test_status_lists_every_uid_with_stake_and_permit(cli) -> None:
    cli("chain", "register", "--wallet", "validator")
    cli("chain", "register", "--wallet", "miner")
    cli("chain", "stake", "42", "--wallet", "validator")
    code, out = cli("chain", "status")
    assert code == 0
    assert "42.00" in out and "✓" in out and "tempo 20" in out
    for column in ("uid", "hotkey", "stake", "permit", "axon", "incentive", "dividends", "emission"):
        assert column in out


def test_register_on_a_real_network_is_refused_with_the_btcli_command(cli, monkeypatch) -> None:
    monkeypatch.setenv("GLEAN_CHAIN__KIND", "bittensor")
    code, out = cli("chain", "register")
    assert code == 2 and "btcli subnets register --netuid 1" in out
