"""At start, a validator on a real network checks its subnet's commit-reveal, immunity period and weights rate
limit, and says (log and console) the btcli command the owner needs. BittensorChain runs over the fake Substrate."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from chain import BittensorChain
from glean.validator_cmd import print_subnet_advice
from schemas.config import GleanConfig
from schemas.domain import DomainCatalog
from tests.chain.devkeys import dev_wallet
from tests.chain.fake_substrate import FakeSubstrate
from validator.service import Validator


@pytest.fixture(autouse=True)
def _token_cache(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BTCLI_TOKEN_SYMBOLS_CACHE", str(tmp_path / "symbols.json"))


async def validator_on(tmp_path: Path, fake: FakeSubstrate, kind: str = "bittensor") -> Validator:
    config = GleanConfig(data_dir=tmp_path / "validator", chain={"kind": kind, "netuid": 1},
                         validator={"ladder_processes": 0, "dashboard_port": 0})
    chain = BittensorChain.for_network("local", 1, substrate=fake)
    return Validator(config, chain=chain, wallet=dev_wallet("validator"), catalog=DomainCatalog([]),
                     serve_http=False)


async def test_a_subnet_without_commit_reveal_is_reported_with_the_owners_command(tmp_path, caplog, capsys):
    v = await validator_on(tmp_path, FakeSubstrate(commit_reveal=False, immunity_period=4096))
    try:
        with caplog.at_level(logging.WARNING, logger="validator.service"):
            advice = await v.check_subnet()
        assert [a.name for a in advice] == ["commit_reveal_weights_enabled"]
        command = "btcli sudo set --netuid 1 --name commit_reveal_weights_enabled --value true"
        assert command in caplog.text
        print_subnet_advice(advice)
        assert command in capsys.readouterr().out
    finally:
        await v.close()


async def test_a_well_set_subnet_gives_no_warning(tmp_path):
    v = await validator_on(tmp_path, FakeSubstrate(commit_reveal=True, immunity_period=4096))
    try:
        assert await v.check_subnet() == []
    finally:
        await v.close()


async def test_the_local_chain_is_not_checked(tmp_path):
    fake = FakeSubstrate(commit_reveal=False)
    v = await validator_on(tmp_path, fake, kind="local")
    try:
        assert await v.check_subnet() == [] and fake.reads == []
        assert v.verifier.allow_private  # local mode: re-fetches may reach loopback (the sample web)
    finally:
        await v.close()


async def test_a_validator_on_a_network_refetches_only_public_addresses(tmp_path):
    v = await validator_on(tmp_path, FakeSubstrate(commit_reveal=True))
    try:
        assert v.verifier.allow_private is False and v.verifier._client().allow_private is False
    finally:
        await v.close()
