"""`glean miner run|status`: run a miner (crawl, store, serve validators) and inspect its store and the network's
desirability it follows."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import asdict
from datetime import UTC, datetime

import typer
from rich.console import Console
from rich.table import Table

from glean.config import load_catalog
from glean.context import state
from schemas.config import GleanConfig
from schemas.errors import ConfigError

app = typer.Typer(help="Run a miner: crawl domains, store records, serve validators.", no_args_is_help=True)
console = Console()
log = logging.getLogger("glean.miner")


@app.command("run")
def run(
    ctx: typer.Context,
    domain: list[str] = typer.Option(None, "--domain", "-d",
                                     help="Domain to crawl (repeatable); default miner.domains."),
    host: str | None = typer.Option(None, "--host", help="Interface to listen on (default miner.host)."),
    port: int | None = typer.Option(None, "--port", help="Port to listen on (default miner.port)."),
    external_ip: str | None = typer.Option(None, "--external-ip", help="Address announced on chain."),
    register: bool = typer.Option(False, "--register", help="Register the hotkey first (local chain only)."),
    follow_network: bool | None = typer.Option(
        None, "--follow-network/--no-follow-network",
        help="Take domains from the network's desirability (default miner.follow_network: when no --domain)."),
) -> None:
    """Crawl the network's wanted domains (or the pinned ones) and serve the records to validators until
    SIGTERM/Ctrl-C."""
    config = state(ctx).config(miner={"domains": domain or None, "host": host, "port": port,
                                      "external_ip": external_ip, "follow_network": follow_network})
    if config.miner.follow_network is None:  # the default: follow the network unless domains are pinned
        config = config.model_copy(update={"miner": config.miner.model_copy(
            update={"follow_network": not config.miner.domains})})
    if not config.miner.domains and not config.miner.follow_network:
        raise ConfigError("no domain to crawl: none pinned and the network's desirability not followed",
                          hint="pass --domain ID (see `glean domains list`), set miner.domains in the config, or "
                               "drop --no-follow-network")
    asyncio.run(_run(config, register=register))


async def _run(config: GleanConfig, *, register: bool) -> None:
    from chain import load_or_create_wallet, open_chain
    from miner.app import build_miner, ensure_registered

    catalog = load_catalog(config)
    wallet = load_or_create_wallet(config.wallet.name, config.wallet.hotkey, config.wallet.path)
    chain = open_chain(config.chain, config.data_dir)
    try:
        uid = await ensure_registered(chain, wallet, register=register, chain_kind=config.chain.kind)
        log.info("miner starting uid=%d hotkey=%s netuid=%d chain=%s", uid, wallet.hotkey.ss58_address,
                 chain.netuid, config.chain.kind)
        miner = build_miner(config, wallet=wallet, chain=chain, catalog=catalog)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await miner.run(stop)
    finally:
        await chain.close()


@app.command("status")
def status(
    ctx: typer.Context,
    check: bool = typer.Option(False, "--check", help="Also recount every record and compare with the index."),
) -> None:
    """The miner store's index: records and bytes per domain, source and day."""
    from miner.app import database_url
    from miner.store import Store

    config = state(ctx).config()
    store = Store.open(database_url(config))
    try:
        buckets = store.buckets()
        table = Table(title=f"miner store  {database_url(config)}")
        for column in ("domain", "source", "day", "records", "text bytes", "newest seq"):
            table.add_column(column, justify="right" if column in ("records", "text bytes", "newest seq") else "left")
        for b in buckets:
            table.add_row(b.domain, b.source, b.day.isoformat(), f"{b.count:,}", f"{b.bytes:,}", str(b.newest_seq))
        table.add_section()
        table.add_row("total", "", "", f"{store.total_count:,}", f"{store.total_bytes:,}", str(store.newest_seq))
        console.print(table)
        text, disk = store.total_bytes, store.disk_bytes()
        ratio = f" ({disk / text:.2f} per byte of text)" if text else ""
        console.print(f"on disk: {disk:,} bytes{ratio}")
        _print_following(config)
        if check:
            recount = store.recount()
            if recount == buckets:
                console.print(f"[green]index matches a recount of {store.total_count:,} records[/]")
            else:
                console.print("[red]index differs from a recount of the records[/]")
                raise typer.Exit(1)
    finally:
        store.close()


def _print_following(config: GleanConfig) -> None:
    """The network's desirability as the miner last read it, and which domains it crawls (if it follows it)."""
    from miner.desirability import FOLLOWING_FILE, Following

    following = Following.read(config.data_dir / "miner" / FOLLOWING_FILE)
    if following is None:
        return
    if following.from_catalog:
        title = "the catalog's domains (the network has no desirability list yet)"
    else:
        title = f"network desirability at block {following.block} ({(following.network_hash or '-')[:12]})"
    when = ("never read" if following.updated_at is None
            else datetime.fromtimestamp(following.updated_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC"))
    table = Table(title=f"{title}; {following.count} taken, read {when}", title_justify="left")
    for column in ("domain", "spec", "weight", "this miner"):
        table.add_column(column, justify="right" if column == "weight" else "left", overflow="fold")
    for entry in following.entries:
        doing = "crawling" if entry["crawling"] else (entry["problem"] or "-")
        table.add_row(entry["domain_id"], entry["spec_hash"][:12], f"{entry['weight']:.4f}", doing)
    console.print(table)
    if following.pinned:
        console.print(f"pinned (--domain): {', '.join(following.pinned)}")
    if following.error:
        console.print(f"[yellow]last refresh failed: {following.error}; the domains crawled stay as they were[/]")


@app.command("check")
def check(
    ctx: typer.Context,
    domain: list[str] = typer.Option(None, "--domain", "-d", help="Check only this domain (repeatable)."),
    limit: int = typer.Option(20_000, "--limit", min=1,
                              help="Newest records per domain to judge (default: what one validator step reads)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON instead of tables."),
) -> None:
    """What a validator would reject in this store and why, per domain: the validator's ladder (schema, source,
    licence, quality, relevance) and duplicates within the store. Verification by re-fetch and duplicates of other
    miners' records are left to validators."""
    from glean.config import load_catalog
    from glean.miner_check import check_store
    from miner.app import database_url
    from miner.store import Store

    config = state(ctx).config()
    store = Store.open(database_url(config))
    try:
        with console.status("judging records as a validator would…") as status:
            results = check_store(store, load_catalog(config), domains=domain or None, limit=limit,
                                  on_domain=lambda d: status.update(f"judging {d}…"))
    finally:
        store.close()
    if as_json:
        console.print_json(data=[asdict(r) for r in results])
        return
    if not results:
        console.print("the store holds no records" + (f" of {', '.join(domain)}" if domain else ""))
    for result in results:
        console.print(_check_table(result))


def _check_table(result) -> Table:
    from glean.miner_check import advice

    share = result.would_accept / result.checked if result.checked else 0.0
    table = Table(title=f"{result.domain}: {result.would_accept:,} of {result.checked:,} records would pass the "
                        f"ladder and novelty ({share:.0%}); validators still re-fetch a sample", title_justify="left")
    for column in ("rejected for", "records", "for example", "what to do"):
        table.add_column(column, justify="right" if column == "records" else "left", overflow="fold")
    for reason, count in result.rejected.most_common():
        table.add_row(reason, f"{count:,}", "\n".join(result.examples.get(reason, [])), advice(reason))
    return table


@app.command("feedback")
def feedback(
    ctx: typer.Context,
    validator: int | None = typer.Option(None, "--validator", help="Ask this validator uid only."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead."),
) -> None:
    """What validators did with this miner's records (signed by its hotkey): accepted, rejected by reason, checks
    by outcome, and per source the verified-fraction bound its batches are paid by."""
    import json

    from chain import load_or_create_wallet
    from glean.listeners import ask_validators

    config = state(ctx).config()
    wallet = load_or_create_wallet(config.wallet.name, config.wallet.hotkey, config.wallet.path)
    answers = ask_validators(config, validator, "GET", "/v1/feedback", signer=wallet.hotkey)
    if as_json:
        typer.echo(json.dumps([{"uid": a.uid, "status": a.status, **a.body} for a in answers], indent=2))
        return
    from glean.validator_cmd import PIPED_WIDTH  # the same width as the other tables when piped

    (console if console.is_terminal else Console(width=PIPED_WIDTH)).print(render_feedback(answers))


FEEDBACK_SHOWN_URIS = 3  # unverified URIs the table shows per validator (--json has them all)


def render_feedback(answers) -> Table:
    """One row per validator: accepted, top rejections, checks pass/fail/unverified/unknown, bound per source."""
    table = Table(title="feedback from validators")
    for column in ("validator uid", "accepted", "rejected (top reasons)", "checks p/f/unv/unk", "bound per source",
                   "unverified (newest)"):
        table.add_column(column, overflow="fold")
    for a in answers:
        if not a.ok:
            table.add_row(str(a.uid), "", f"[red]{a.problem}[/]", "", "", "")
            continue
        body = a.body
        rejected = ", ".join(f"{reason} {n:,}" for reason, n in list(body.get("rejected", {}).items())[:3]) or "-"
        checks = body.get("verification", {})
        bounds = ", ".join(f"{s['source']} {s['bound']:.2f} ({s['passed']}/{s['checks']})"
                           for s in body.get("sources", [])) or "-"
        table.add_row(str(a.uid), f"{body.get('accepted', 0):,}", rejected,
                      "/".join(str(checks.get(k, 0)) for k in ("pass", "fail", "unverified", "unknown")), bounds,
                      "\n".join(body.get("unverified_uris", [])[:FEEDBACK_SHOWN_URIS]) or "-")
    return table
