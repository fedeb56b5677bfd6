"""The final summary of a local network run: per miner what the validator made of its data and what the chain paid
it, per validator its dividends, the release and its rows per domain, and the `glean pull` command to get it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

TOP_REASONS = 2  # rejection reasons shown per miner


@dataclass(frozen=True)
class MinerLine:
    name: str
    uid: int | None
    hotkey: str
    domains: list[str]
    stored: int  # records in the miner's store
    accepted: int  # records accepted from it (the representative of their cluster)
    shared: int  # records credited in part (others delivered the same in the same step)
    rejected: int
    top_reasons: list[tuple[str, int]]
    value: float  # accepted value credited to the miner (shared credit included)
    credibility: float
    score: float
    weight: float  # as last set on chain by the first validator
    incentive: float  # last epoch
    emission: float  # alpha earned over the epochs of this run
    unverified: int = 0  # sampled records nobody could check (gone, not of their source's shape): never paid


@dataclass(frozen=True)
class ValidatorLine:
    name: str
    uid: int | None
    hotkey: str
    stake: float
    steps: int
    accepted: int
    dividends: float  # last epoch
    emission: float  # alpha earned over the epochs of this run
    dashboard: str
    release: str | None
    location: str | None


@dataclass(frozen=True)
class Summary:
    data_dir: str
    epochs: int  # epochs that ran with the validators up
    epochs_in_run: int  # every epoch of this run, the warm-up (start, first crawl) included
    block: int
    seconds: float
    interrupted: bool
    miners: list[MinerLine]
    validators: list[ValidatorLine]
    emission_split: dict[str, float]  # owner / miners / validators / recycled over this run's epochs
    rows_by_domain: dict[str, int]  # rows pulled back from the first validator's release
    release: str | None
    location: str | None
    hub_dir: str | None
    pull_commands: list[str] = field(default_factory=list)
    # --offline: pages the sample web published/changed/removed and what the network accepted of them
    sampleweb: dict[str, Any] | None = None
    # --offline: the dataset request (glean/local/request_flow.py `outcome`)
    request: dict[str, Any] | None = None
    # records accepted per domain and miner name (validator1's store, current versions)
    accepted_by_domain: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Summary:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["miners"] = [MinerLine(**{**m, "top_reasons": [tuple(r) for r in m["top_reasons"]]})
                          for m in data["miners"]]
        data["validators"] = [ValidatorLine(**v) for v in data["validators"]]
        return cls(**data)


def _uid(uid: int | None) -> str:
    return "-" if uid is None else str(uid)


def _short(key: str) -> str:
    return f"{key[:6]}…{key[-4:]}" if len(key) > 12 else key


def miners_table(summary: Summary) -> Table:
    table = Table(title="miners (as judged by validator1; emission from the chain)", title_justify="left")
    columns = ("miner", "uid", "domains", "stored", "accepted", "shared", "rejected (top reasons)", "unverified",
               "value", "credibility", "score", "weight", "incentive", "emission α (run)")
    for column in columns:
        table.add_column(column, justify="left" if column in ("miner", "domains", "rejected (top reasons)")
                         else "right")
    for m in summary.miners:
        reasons = ", ".join(f"{reason} {n:,}" for reason, n in m.top_reasons)
        rejected = f"{m.rejected:,}" + (f" ({reasons})" if reasons else "")
        table.add_row(m.name, _uid(m.uid), ", ".join(m.domains), f"{m.stored:,}", f"{m.accepted:,}",
                      f"{m.shared:,}", rejected, f"{m.unverified:,}", f"{m.value:.2f}", f"{m.credibility:.3f}",
                      f"{m.score:.4f}", f"{m.weight:.3f}", f"{m.incentive:.3f}", f"{m.emission:,.2f}")
    return table


def validators_table(summary: Summary) -> Table:
    table = Table(title="validators", title_justify="left")
    for column in ("validator", "uid", "hotkey", "stake", "steps", "accepted", "dividends", "emission α (run)",
                   "release"):
        table.add_column(column, justify="left" if column in ("validator", "hotkey", "release") else "right")
    for v in summary.validators:
        table.add_row(v.name, _uid(v.uid), _short(v.hotkey), f"{v.stake:,.0f}", f"{v.steps:,}", f"{v.accepted:,}",
                      f"{v.dividends:.3f}", f"{v.emission:,.2f}", v.release or "-")
    return table


def dataset_table(summary: Summary) -> Table:
    """A line per domain: the records validator1 accepted from each miner, and the rows of the release."""
    miners = [m.name for m in summary.miners]
    table = Table(title="domains: accepted per miner (validator1), rows pulled back from the release",
                  title_justify="left")
    table.add_column("domain")
    for name in miners:
        table.add_column(name, justify="right")
    table.add_column("release rows", justify="right")
    accepted = summary.accepted_by_domain
    requested = (summary.request or {}).get("domain")
    for domain in sorted(set(summary.rows_by_domain) | set(accepted)):
        per = accepted.get(domain, {})
        label = f"{domain} (requested)" if domain == requested else domain
        table.add_row(label, *(f"{per.get(name, 0):,}" for name in miners),
                      f"{summary.rows_by_domain.get(domain, 0):,}")
    table.add_section()
    table.add_row("total", *(f"{sum(d.get(name, 0) for d in accepted.values()):,}" for name in miners),
                  f"{sum(summary.rows_by_domain.values()):,}")
    return table


def request_line(request: dict[str, Any]) -> Text:
    """The dataset request on one line: id, domain, who adopted it, the epochs of submission and first acceptance."""
    validators = request.get("validators", {})
    others = ", ".join(f"{name} {v.get('status')}" for name, v in validators.items()
                       if name not in request.get("adopted_by", []))
    adopted = ", ".join(request.get("adopted_by", [])) or "nobody"
    first = request.get("first_accepted_epoch")
    when = (f"first accepted record in epoch {first} ({first - request['submitted_epoch']} after, "
            f"{request['seconds_to_first_accepted']:.0f} s)" if first is not None else "no record accepted yet")
    return Text(f"request {request['request_id'][:16]}… for {request['domain']}: submitted in epoch "
                f"{request['submitted_epoch']} (block {request['submitted_block']:,}); adopted by {adopted}"
                + (f"; {others}" if others else "") + f"; {when}")


def sampleweb_line(web: dict[str, Any]) -> Text:
    """What the living sample web did and how the network answered, on one line."""
    accepted = web.get("accepted_new_per_epoch", {})
    published = web.get("published_per_epoch", {})
    per_epoch = ", ".join(f"{k}: {accepted.get(k, 0)}/{n}" for k, n in published.items() if k != "0")
    return Text(f"sample web: {web['published']} pages published, {web['changed']} changed, {web['removed']} removed; "
                f"accepted records/new pages per epoch {per_epoch or '-'}; changed pages re-verified "
                f"{web.get('changed_reverified', 0)}; removed pages found gone by a check "
                f"{web.get('removed_unverified', 0)}")


def render(summary: Summary) -> Group:
    """The leaderboard printed at the end of `glean local up`."""
    split = summary.emission_split
    status = "interrupted" if summary.interrupted else "done"
    head = Text.assemble(
        ("glean local network ", "bold"), (status, "green" if not summary.interrupted else "yellow"),
        f": {summary.epochs} epochs with the validators up, {summary.epochs_in_run} in all, in "
        f"{summary.seconds:,.0f} s (block {summary.block:,}); these emitted {sum(split.values()):,.1f} α: "
        f"miners {split.get('miners', 0):,.1f}, validators "
        f"{split.get('validators', 0):,.1f}, owner {split.get('owner', 0):,.1f}, recycled "
        f"{split.get('recycled', 0):,.1f}")
    parts: list = [head, miners_table(summary), validators_table(summary), dataset_table(summary)]
    if summary.request:
        parts.append(request_line(summary.request))
    if summary.sampleweb:
        parts.append(sampleweb_line(summary.sampleweb))
    if summary.location:
        parts.append(Text.assemble("release ", (summary.release or "", "bold"), f" written to {summary.hub_dir}"))
    else:
        parts.append(Text("no release was published (nothing was accepted)", style="yellow"))
    if summary.pull_commands:
        parts.append(Text("get it with:", style="bold"))
        parts.extend(Text(f"  {command}") for command in summary.pull_commands)
    parts.extend(Text(f"{v.name}'s dashboard was at {v.dashboard} while the network ran", style="dim")
                 for v in summary.validators)
    parts.append(Text(f"everything is under {summary.data_dir} (logs in {summary.data_dir}/logs); run again to "
                      "resume, or add --fresh to start clean", style="dim"))
    return Group(*parts)
