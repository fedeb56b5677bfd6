"""`glean validator run|status|publish|deny|requests|adopt|decline`: run the validator, look at its leaderboard,
publish a release now, manage takedowns, decide dataset requests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from dataclasses import asdict

import typer
from rich.console import Console
from rich.table import Table

from chain import load_or_create_wallet, open_chain
from glean.config import load_catalog
from glean.context import state
from schemas.config import GleanConfig
from schemas.errors import NotRegisteredError
from validator.store import LeaderRow, ValidatorStore, database_url

# The service (scrapers, scoring, hub) is imported inside the commands that run it, so `glean --help` stays fast.

app = typer.Typer(help="Validate miners' data, set weights, publish the accepted dataset.", no_args_is_help=True)
console = Console()
PIPED_WIDTH = 160  # the leaderboard has many columns: do not squeeze it to 80 when piped or captured


def _config(ctx: typer.Context, **validator) -> GleanConfig:
    overrides = {k: v for k, v in validator.items() if v is not None}
    return state(ctx).config(validator=overrides) if overrides else state(ctx).config()


async def _ensure_registered(chain, wallet, config: GleanConfig, register: bool) -> None:
    hotkey = wallet.hotkey.ss58_address
    if (await chain.state()).by_hotkey(hotkey) is not None:
        return
    if register and config.chain.kind == "local":
        uid = await chain.register(wallet)
        console.print(f"registered validator hotkey {hotkey} as uid {uid} on the local chain")
        return
    hint = ("run `glean validator run --register` (local chain), then `glean chain stake` for a permit"
            if config.chain.kind == "local" else
            f"register first: `btcli subnets register --netuid {config.chain.netuid}`, then stake for a permit")
    raise NotRegisteredError(f"validator hotkey {hotkey} is not registered on netuid {config.chain.netuid}", hint=hint)


@app.command("run")
def run(
    ctx: typer.Context,
    steps: int | None = typer.Option(None, "--steps", min=1, help="Stop after this many steps (default: run on)."),
    step_seconds: float | None = typer.Option(None, "--step-seconds", help="Time budget and cadence of a step."),
    port: int | None = typer.Option(None, "--port", help="Port of the metrics/dashboard server (0: any free)."),
    register: bool = typer.Option(False, "--register", help="Register the hotkey first (local chain only)."),
) -> None:
    """Run the validator: pull from miners, verify, accept, score, set weights; serve /metrics on loopback and the
    public listener (dataset requests, desirability lists, miner feedback) announced on chain."""
    config = _config(ctx, step_seconds=step_seconds, dashboard_port=port)
    catalog = load_catalog(config)
    wallet = load_or_create_wallet(config.wallet.name, config.wallet.hotkey, config.wallet.path)

    async def main() -> None:
        from validator.service import Validator

        chain = open_chain(config.chain, config.data_dir)
        stop = asyncio.Event()
        _stop_on_signals(stop, asyncio.current_task())
        try:
            await _ensure_registered(chain, wallet, config, register)
            validator = Validator(config, chain=chain, wallet=wallet, catalog=catalog, serve_listener=True)
            print_subnet_advice(await validator.check_subnet())
            await validator.run(stop=stop, max_steps=steps)
        except asyncio.CancelledError:
            console.print("stopped in the middle of a step (every miner already committed is kept)")
        finally:
            await chain.close()

    asyncio.run(main())


def print_subnet_advice(advice) -> None:
    """The subnet's launch problems (weight copying, immunity, rate limit), each with the owner's btcli command."""
    for item in advice:
        console.print(f"[yellow]warning:[/yellow] {item.problem}.\n  the subnet owner fixes it with: "
                      f"[bold]{item.command}[/bold]", soft_wrap=True)
    if advice:
        console.print("  (see docs/owner.md, the subnet owner's launch checklist)")


def _stop_on_signals(stop: asyncio.Event, task: asyncio.Task | None) -> None:
    """First SIGINT/SIGTERM: finish the step in flight, then stop. Second: stop now (each miner's commit is atomic,
    so cutting a step short loses nothing that was accepted)."""
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if stop.is_set() and task is not None:
            task.cancel()
            return
        console.print("stopping after the current step (signal again to stop now)")
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)


def _short(key: str) -> str:
    return f"{key[:6]}…{key[-4:]}" if len(key) > 12 else key


def render_leaderboard(rows: list[LeaderRow], caption: str) -> Table:
    table = Table(title="glean validator leaderboard", caption=caption)
    table.add_column("uid", justify="right", style="bold")
    table.add_column("hotkey", no_wrap=True)
    for name in ("accepted", "shared", "rejected", "top reason", "checks p/f/unv/unk", "pending", "credibility",
                 "score", "weight"):
        table.add_column(name, justify="left" if name == "top reason" else "right")
    for r in rows:
        top = f"{r.top_reason} ({r.top_reason_count})" if r.top_reason else "-"
        table.add_row(str(r.uid), _short(r.hotkey), f"{r.accepted:,}", f"{r.shared:,}", f"{r.rejected:,}", top,
                      f"{r.verify_pass}/{r.verify_fail}/{r.verify_unverified}/{r.verify_unknown}",
                      f"{r.pending_records:,}",
                      f"{r.credibility:.3f}", f"{r.score:.5f}", f"{r.weight:.4f}")
    return table


@app.command("status")
def status(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON instead.")) -> None:
    """Leaderboard from the validator's database: accepted, rejected by top reason, credibility, score, weight."""
    config = _config(ctx)
    store = ValidatorStore.open(database_url(config))
    try:
        last = store.last_weights()
        weights = {int(k): float(v) for k, v in last.weights.items()} if last is not None else None
        rows = store.leaderboard(weights)
        accepted, _ = store.accepted_stats()
        step = int(store.get_state("step", 0))
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps({"step": step, "accepted": accepted, "weights_block": last.block if last else None,
                               "miners": [asdict(r) for r in rows]}, indent=2))
        return
    where = f"weights as set at block {last.block}" if last else "weights: normalised scores (none set yet)"
    out = console if console.is_terminal else Console(width=PIPED_WIDTH)
    out.print(render_leaderboard(rows, f"step {step} · {accepted:,} records accepted · {where}"))


@app.command("publish")
def publish(ctx: typer.Context) -> None:
    """Publish the records accepted since the last release (hub.repo_id or the local hub folder) and commit it."""
    config = _config(ctx)
    catalog = load_catalog(config)
    wallet = load_or_create_wallet(config.wallet.name, config.wallet.hotkey, config.wallet.path)

    async def main():
        from validator.service import Validator

        chain = open_chain(config.chain, config.data_dir)
        validator = Validator(config, chain=chain, wallet=wallet, catalog=catalog, serve_http=False)
        try:
            return await validator.publish()
        finally:
            with contextlib.suppress(Exception):
                await validator.close()
            await chain.close()

    info = asyncio.run(main())
    if info is None:
        console.print("nothing new to publish since the last release")
        return
    rows = ", ".join(f"{d}: {n:,}" for d, n in sorted(info.rows_by_domain.items()))
    console.print(f"published release [bold]{info.release}[/] ({rows}) at {info.location}")


deny_app = typer.Typer(help="Takedowns: URIs, hosts or content hashes that every later release leaves out.",
                       no_args_is_help=True)
app.add_typer(deny_app, name="deny")


def _deny_list(ctx: typer.Context):
    from hub import DenyList
    from storage import make_engine

    return DenyList(make_engine(database_url(_config(ctx))))


@deny_app.command("add")
def deny_add(ctx: typer.Context,
             entry: str = typer.Argument(..., help="https://… URL, host (example.org or *.example.org) or sha256."),
             reason: str = typer.Option("", "--reason", help="Why (kept with the entry, e.g. a request id)."),
             ) -> None:
    """Leave rows of this URL, host or content hash out of every later release."""
    added = _deny_list(ctx).add(entry, reason)
    console.print(f"denied {added.kind} [bold]{added.value}[/]: the next release leaves matching rows out "
                  "(rows already published stay in earlier releases)")


@deny_app.command("remove")
def deny_remove(ctx: typer.Context, entry: str = typer.Argument(..., help="An entry as given to `deny add`.")) -> None:
    """Stop denying an entry (later releases publish new matching rows again)."""
    if not _deny_list(ctx).remove(entry):
        console.print(f"{entry} was not on the deny-list")
        raise typer.Exit(1)
    console.print(f"removed {entry} from the deny-list")


@deny_app.command("list")
def deny_list(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON instead.")) -> None:
    """The deny-list: kind, value, reason, when it was added."""
    entries = _deny_list(ctx).entries()
    if as_json:
        typer.echo(json.dumps([{"kind": e.kind, "value": e.value, "reason": e.reason,
                                "added_at": e.added_at.isoformat() if e.added_at else None} for e in entries]))
        return
    table = Table(title=f"deny-list ({len(entries)} entries)")
    for name in ("kind", "value", "reason", "added"):
        table.add_column(name)
    for e in entries:
        table.add_row(e.kind, e.value, e.reason, f"{e.added_at:%Y-%m-%d %H:%M}" if e.added_at else "")
    (console if console.is_terminal else Console(width=PIPED_WIDTH)).print(table)


def _desk(ctx: typer.Context):
    """The request desk over this validator's database (the operator's decisions need no running validator)."""
    from validator.requests import RequestDesk

    config = _config(ctx)
    store = ValidatorStore.open(database_url(config))
    return RequestDesk(store, config.validator.request_policy, local=config.chain.kind == "local")


@app.command("requests")
def requests_list(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON instead."),
                  ) -> None:
    """Dataset requests this validator received: status, domain, requester, target, weight, accepted so far."""
    desk = _desk(ctx)
    try:
        desk.sweep()
        states = [(r, desk.state(r.request_id)) for r in desk.store.list_requests()]
    finally:
        desk.store.close()
    if as_json:
        typer.echo(json.dumps([{**s.model_dump(mode="json"), "requester": r.request.requester,
                                "target": r.request.target.model_dump(exclude_none=True), "note": r.request.note}
                               for r, s in states], indent=2))
        return
    table = Table(title=f"dataset requests ({len(states)})")
    for name in ("id", "domain", "status", "weight", "requester", "target", "accepted", "deadline", "decided by"):
        table.add_column(name)
    for r, s in states:
        target = r.request.target
        table.add_row(r.request_id[:12], s.domain, s.status, "-" if s.weight is None else f"{s.weight:g}",
                      _short(r.request.requester),
                      f"{target.records:,} records" if target.records else f"{target.words:,} words",
                      f"{s.accepted_records:,} / {s.accepted_words:,} w",
                      f"{s.deadline:%Y-%m-%d}" if s.deadline else "-", s.decided_by or "-")
    (console if console.is_terminal else Console(width=PIPED_WIDTH)).print(table)


@app.command("adopt")
def adopt(ctx: typer.Context, request_id: str = typer.Argument(..., help="A request id (or 8+ leading characters)."),
          weight: float = typer.Option(1.0, "--weight", help="Its weight in this validator's desirability list."),
          ) -> None:
    """Adopt a request: its domain joins this validator's desirability list with `--weight`."""
    desk = _desk(ctx)
    try:
        stored = desk.adopt(request_id, weight)
    finally:
        desk.store.close()
    console.print(f"adopted request {stored.request_id[:12]} (domain [bold]{stored.domain}[/], weight {weight:g}): "
                  "it joins the desirability list this validator commits next")


@app.command("decline")
def decline(ctx: typer.Context, request_id: str = typer.Argument(..., help="A request id (or 8+ leading characters)."),
            reason: str = typer.Option("", "--reason", help="Why (the requester sees it in `glean request status`)."),
            ) -> None:
    """Decline a request: this validator drops its vote for the domain (others may still adopt it)."""
    desk = _desk(ctx)
    try:
        stored = desk.decline(request_id, reason)
    finally:
        desk.store.close()
    console.print(f"declined request {stored.request_id[:12]} (domain {stored.domain})")
