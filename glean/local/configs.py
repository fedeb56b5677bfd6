"""The TOML configuration of each role process: its own data directory, wallet and database, the shared chain file,
the demo domain folder, and the role's section (`glean --config FILE miner run` / `validator run` read it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from glean.local import constants as K
from glean.local.plan import LOOPBACK, Layout, NetworkPlan, Role
from glean.local.request_flow import policy
from glean.sampleweb import domain_specs
from schemas.errors import ConfigError

WALLET_HOTKEY = "default"


def role_config(role: Role, plan: NetworkPlan, layout: Layout, *, log_level: str = "INFO") -> dict[str, Any]:
    """The configuration of one role as nested mappings (sections are tables)."""
    config: dict[str, Any] = {
        "data_dir": str(layout.role_dir(role.name)),
        "log_level": log_level,
        "chain": {"kind": "local", "netuid": K.NETUID, "local_path": str(layout.chain_path),
                  "block_time": plan.block_time},
        "wallet": {"name": role.name, "hotkey": WALLET_HOTKEY, "path": str(layout.wallets)},
    }
    if plan.offline:
        folder = layout.miner_domains(role.name) if role.kind == "miner" else layout.domains
        config["domain_dirs"] = [str(folder)]
    if role.kind == "miner":
        config["miner"] = {"domains": list(role.domains), "host": LOOPBACK, "port": role.port,
                           "external_ip": LOOPBACK, "cadence_seconds": K.MINER_CADENCE_SECONDS,
                           "page_budget": K.MINER_PAGE_BUDGET, "max_store_bytes": K.MINER_MAX_STORE_BYTES}
        if plan.requester is not None:  # the network's list on top of the pinned demo domains: the requested one
            config["miner"].update(follow_network=True, network_domains=K.MINER_NETWORK_DOMAINS,
                                   network_refresh_seconds=K.MINER_NETWORK_REFRESH_SECONDS)
    else:
        config["validator"] = {"domains": list(role.domains), "step_seconds": K.VALIDATOR_STEP_SECONDS,
                               "dashboard_host": LOOPBACK, "dashboard_port": role.port,
                               # the public listener on any free loopback port (the one bound is announced)
                               "listener_host": LOOPBACK, "listener_port": 0}
        request_policy = policy(plan, role.index)
        if request_policy is not None:
            config["validator"]["request_policy"] = request_policy
        config["hub"] = {"local_dir": str(layout.hub_dir(role.name))}
    return config


def to_toml(config: dict[str, Any], prefix: str = "") -> str:
    """TOML for plain values (str, int, float, bool, lists of them) and nested tables (`[validator.request_policy]`).

    JSON's string and array syntax is valid TOML for these values, so json.dumps writes them."""
    lines = [f"{key} = {_value(value)}" for key, value in config.items() if not isinstance(value, dict)]
    for name, table in config.items():
        if isinstance(table, dict):
            lines.append(f"\n[{prefix}{name}]")
            lines.append(to_toml(table, f"{prefix}{name}.").rstrip("\n"))
    return "\n".join(line for line in lines if line) + "\n"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str | list):
        return json.dumps(value)
    raise TypeError(f"cannot write {type(value).__name__} as TOML here")


def write_role_config(role: Role, plan: NetworkPlan, layout: Layout, *, log_level: str = "INFO") -> Path:
    path = layout.config_path(role.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = f"# Written by `glean local up` for {role.name}; rewritten on every run.\n"
    path.write_text(header + to_toml(role_config(role, plan, layout, log_level=log_level)), encoding="utf-8")
    return path


def write_miner_domains(role: Role, base_url: str, layout: Layout) -> Path:
    """The sample web's demo specs for `role`'s domains, each with only the sources the miner crawls."""
    specs = domain_specs(base_url)
    folder = layout.miner_domains(role.name)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.yaml"):
        stale.unlink()
    for domain, sources in role.mix:
        spec = dict(specs[domain])
        if sources is not None:
            kept = [s for s in spec["sources"] if s.get("id", s["kind"]) in sources]
            if len(kept) != len(sources):
                raise ConfigError(f"{role.name}: domain {domain} has no source among {sources}",
                                  hint="fix glean/local/constants.py OFFLINE_MIXES")
            spec["sources"] = kept
        header = f"# Written by `glean local up` for {role.name}: the sources it crawls of {domain}.\n"
        (folder / f"{domain}.yaml").write_text(header + yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return folder
