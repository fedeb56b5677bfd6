"""The dataset request of `glean local up --offline` in its parts: the requester in the plan, each validator's policy
and each miner's following written to the configs the processes load, and the summary's lines for it."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from glean.config import load_config
from glean.local import constants as K
from glean.local import leaderboard
from glean.local.configs import to_toml, write_role_config
from glean.local.plan import Layout, SavedState, make_plan
from glean.local.request_flow import with_requester
from glean.sampleweb.domains import SAMPLE_DOMAINS
from tests.glean.test_local import _summary

REQUESTER = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"


def _plan(validators: int = 3, offline: bool = True):
    return make_plan(SavedState(), miners=3, validators=validators, offline=offline, tempo=12, block_time=1.0)


def test_to_toml_writes_nested_tables() -> None:
    config = {"n": 1, "validator": {"port": 2, "request_policy": {"adopt_hotkeys": ["5X"], "weight": 1.0}},
              "hub": {"local_dir": "/h"}}
    text = to_toml(config)
    assert "[validator.request_policy]" in text
    assert tomllib.loads(text) == config


def test_the_requester_gets_a_wallet_offline_and_none_online(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    plan = with_requester(_plan(), layout, 2)
    assert plan.requester and plan.requester.startswith("5") and plan.request_adopters == 2
    assert with_requester(plan, layout, None).requester == plan.requester  # the same wallet on every run
    assert with_requester(_plan(), layout, None).request_adopters == 3
    assert with_requester(_plan(offline=False), layout, None).requester is None


def test_the_first_validators_policy_lists_the_requester_the_others_nobody(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("GLEAN_DATA_DIR", raising=False)
    plan, layout = replace(_plan(), requester=REQUESTER, request_adopters=2), Layout(tmp_path)
    configs = [load_config(write_role_config(v, plan, layout)) for v in plan.validators]
    assert [c.validator.request_policy.adopt_hotkeys for c in configs] == [[REQUESTER], [REQUESTER], []]
    assert all(c.validator.request_policy.weight == K.REQUEST_WEIGHT for c in configs)


def test_miners_follow_the_network_on_top_of_every_demo_domain_pinned(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("GLEAN_DATA_DIR", raising=False)
    plan, layout = replace(_plan(), requester=REQUESTER, request_adopters=3), Layout(tmp_path)
    for miner in plan.miners:
        config = load_config(write_role_config(miner, plan, layout))
        assert config.miner.follow_network is True
        assert config.miner.network_domains == K.MINER_NETWORK_DOMAINS == 1
        assert config.miner.network_refresh_seconds == K.MINER_NETWORK_REFRESH_SECONDS
        # every demo domain pinned: the one domain taken from the network's list is the requested one
        assert sorted(config.miner.domains) == sorted(SAMPLE_DOMAINS)


def test_without_a_requester_nothing_is_followed_or_adopted(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("GLEAN_DATA_DIR", raising=False)
    plan, layout = _plan(offline=False), Layout(tmp_path)
    assert load_config(write_role_config(plan.miners[0], plan, layout)).miner.follow_network is None
    assert load_config(write_role_config(plan.validators[0], plan, layout)).validator.request_policy.adopt_hotkeys \
        == []


def _text(renderable) -> str:
    console = Console(record=True, width=120)
    console.print(renderable)
    return console.export_text()


def test_the_summary_shows_the_request_and_a_line_per_domain() -> None:
    request = {"request_id": "ab" * 32, "domain": "python-builtins", "submitted_epoch": 1, "submitted_block": 108,
               "adopted_by": ["validator1", "validator2"], "first_accepted_epoch": 3, "seconds_to_first_accepted": 29.4,
               "validators": {"validator1": {"status": "adopted"}, "validator2": {"status": "adopted"},
                              "validator3": {"status": "pending"}}}
    summary = replace(_summary(), request=request,
                      rows_by_domain={"python-stdlib": 52, "python-builtins": 7},
                      accepted_by_domain={"python-stdlib": {"miner1": 40, "miner2": 12},
                                          "python-builtins": {"miner2": 7}})
    text = _text(leaderboard.render(summary))
    cells = {row.split("│")[1].strip(): [c.strip() for c in row.split("│")[2:-1]]
             for row in text.splitlines() if row.startswith("│") and row.count("│") == 5}
    # domain │ miner1 │ miner2 │ release rows
    assert cells["python-builtins (requested)"] == ["0", "7", "7"]
    assert cells["python-stdlib"] == ["40", "12", "52"] and cells["total"] == ["40", "19", "59"]
    assert ("request abababababababab… for python-builtins: submitted in epoch 1 (block 108); adopted by "
            "validator1, validator2; validator3 pending; first accepted record in epoch 3 (2 after, 29 s)"
            ) in " ".join(text.split())
