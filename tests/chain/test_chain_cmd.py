"""`glean chain register|stake|status` on the local chain, through the real command line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from chain.state import Neuron, SubnetState
from glean.chain_cmd import render_status
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
    for column in ("uid", "hotkey", "stake", "permit", "axon", "incentive", "dividends", "vtrust", "emission"):
        assert column in out


def test_status_fits_80_columns_with_every_column_but_the_axon_in_full() -> None:
    neurons = tuple(Neuron(uid=uid, hotkey=f"5{'F' * 47}{uid}", coldkey="c", stake=12_345.67, validator_permit=uid < 2,
                           active=True, axon="203.0.113.200:65535", commitment=None, incentive=0.1234,
                           dividends=0.5, emission=123.4567, last_update=0, block_at_registration=0,
                           validator_trust=0.9876 if uid < 2 else 0.0)
                    for uid in range(12))
    subnet = SubnetState(netuid=7, block=1_234_567, block_hash="0x" + "ab" * 32, tempo=360, neurons=neurons)
    narrow = Console(width=80, file=io.StringIO(), record=True)
    narrow.print(render_status(subnet, "finney", width=80))
    text = narrow.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    header = next(line for line in text.splitlines() if line.lstrip().startswith("uid"))
    assert header.split() == ["uid", "hotkey", "stake", "permit", "incentive", "dividends", "vtrust", "emission"]
    assert "0.9876" in text and "12,345.67" in text and "123.4567" in text
    wide = Console(width=120, file=io.StringIO(), record=True)
    wide.print(render_status(subnet, "finney", width=120))
    assert "203.0.113.200:65535" in wide.export_text()


def test_register_on_a_real_network_is_refused_with_the_btcli_command(cli, monkeypatch) -> None:
    monkeypatch.setenv("GLEAN_CHAIN__KIND", "bittensor")
    code, out = cli("chain", "register")
    assert code == 2 and "btcli subnets register --netuid 1" in out
