"""`glean chain status|register|stake`: look at the subnet; manage the local chain (register wallets, set stake)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from chain import Chain, LocalChain, SubnetState, load_or_create_wallet, open_chain
from glean.context import state
from schemas.config import GleanConfig
from schemas.errors import ConfigError

app = typer.Typer(help="Inspect the subnet; register and stake on the local chain.", no_args_is_help=True)
console = Console()

T = TypeVar("T")

WALLET_OPTION = typer.Option(None, "--wallet", "-w", help="Wallet name (default: wallet.name from the config).")
HOTKEY_OPTION = typer.Option(None, "--hotkey", "-H", help="Hotkey name (default: wallet.hotkey from the config).")


def _config(ctx: typer.Context, wallet: str | None = None, hotkey: str | None = None) -> GleanConfig:
    overrides = {"name": wallet, "hotkey": hotkey}
    if any(value is not None for value in overrides.values()):
        return state(ctx).config(wallet=overrides)
    return state(ctx).config()


def _with_chain(config: GleanConfig, work: Callable[[Chain], Awaitable[T]]) -> T:
    async def run() -> T:
        chain = open_chain(config.chain, config.data_dir)
        try:
            return await work(chain)
        finally:
            await chain.close()

    return asyncio.run(run())


def _local_only(config: GleanConfig, command: str) -> None:
    if config.chain.kind != "local":
        raise ConfigError(f"`glean chain {command}` manages the local chain only (chain.kind is {config.chain.kind})",
                          hint=f"on a real network use btcli, e.g. `btcli subnets register --netuid "
                               f"{config.chain.netuid}` (it burns TAO) or `btcli stake add`")


def _short(key: str) -> str:
    return f"{key[:6]}…{key[-4:]}" if len(key) > 12 else key


AXON_MIN_WIDTH = 100  # below this many columns the axon column is left out, so the rest fits an 80-column terminal


def render_status(subnet: SubnetState, where: str, *, width: int = 200) -> Table:
    """The subnet as a table; at fewer than AXON_MIN_WIDTH columns without the axon column (it fits 80 then)."""
    axons = width >= AXON_MIN_WIDTH
    table = Table(title=f"netuid {subnet.netuid} on {where}", box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1),
                  collapse_padding=True,
                  caption=f"block {subnet.block} · hash {subnet.block_hash[:12]}… · tempo {subnet.tempo} · "
                          f"{len(subnet.neurons)} uids, {len(subnet.validators())} validators"
                          + ("" if axons else f" · axons at ≥ {AXON_MIN_WIDTH} columns"))
    table.add_column("uid", justify="right", style="bold")
    table.add_column("hotkey", no_wrap=True)
    columns = ("stake", "permit", "axon", "incentive", "dividends", "vtrust", "emission")
    for name in columns if axons else tuple(c for c in columns if c != "axon"):
        table.add_column(name, justify="left" if name in ("permit", "axon") else "right", no_wrap=True)
    for n in subnet.neurons:
        cells = [str(n.uid), _short(n.hotkey), f"{n.stake:,.2f}", "✓" if n.validator_permit else "",
                 n.axon or "-", f"{n.incentive:.4f}", f"{n.dividends:.4f}", f"{n.validator_trust:.4f}",
                 f"{n.emission:.4f}"]
        table.add_row(*(cells if axons else cells[:4] + cells[5:]))
    return table


@app.command("status")
def status(ctx: typer.Context) -> None:
    """Table of the subnet: uid, hotkey, stake, permit, axon, incentive, dividends, validator trust, emission."""
    config = _config(ctx)
    subnet = _with_chain(config, lambda chain: chain.state())
    where = f"the local chain {config.chain_path()}" if config.chain.kind == "local" else config.chain.network
    console.print(render_status(subnet, where, width=console.width))


@app.command("register")
def register(ctx: typer.Context, wallet: str | None = WALLET_OPTION, hotkey: str | None = HOTKEY_OPTION) -> None:
    """Register the wallet's hotkey on the local chain (the wallet is created, unencrypted, if missing)."""
    config = _config(ctx, wallet, hotkey)
    _local_only(config, "register")
    keys = load_or_create_wallet(config.wallet.name, config.wallet.hotkey, config.wallet.path)
    uid = _with_chain(config, lambda chain: chain.register(keys))
    console.print(f"registered [bold]{config.wallet.name}/{config.wallet.hotkey}[/] "
                  f"({keys.hotkey.ss58_address}) as uid [bold]{uid}[/] on local netuid {config.chain.netuid}")


@app.command("stake")
def stake(ctx: typer.Context, amount: float = typer.Argument(..., help="Stake to add (negative removes)."),
          wallet: str | None = WALLET_OPTION, hotkey: str | None = HOTKEY_OPTION,
          hotkey_ss58: str | None = typer.Option(None, "--ss58", help="Stake on this hotkey address instead.")) -> None:
    """Set stake on the local chain as its owner; the top stakes hold validator permits."""
    config = _config(ctx, wallet, hotkey)
    _local_only(config, "stake")
    target = hotkey_ss58 or load_or_create_wallet(config.wallet.name, config.wallet.hotkey,
                                                  config.wallet.path).hotkey.ss58_address

    async def add(chain: Chain) -> tuple[float, bool]:
        if not isinstance(chain, LocalChain):  # _local_only guarantees it; keeps the type checker honest
            raise ConfigError("stake can only be set on the local chain", hint="set chain.kind = 'local'")
        total = await chain.add_stake(target, amount)
        neuron = (await chain.state()).by_hotkey(target)
        return total, bool(neuron and neuron.validator_permit)

    total, permit = _with_chain(config, add)
    console.print(f"{target} now has stake [bold]{total:,.2f}[/]"
                  f"{' and a validator permit' if permit else ' (no validator permit)'}")
