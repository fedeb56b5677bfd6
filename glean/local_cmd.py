"""`glean local up`: the whole network on this machine, with live progress and a final leaderboard."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.live import Live

from glean.context import state
from glean.local import constants as K
from glean.local import leaderboard, progress
from glean.local.network import LocalNetwork, LocalOptions
from glean.local.plan import Layout
from glean.local.progress import Snapshot
from glean.logs import setup_logging

app = typer.Typer(help="Run a whole glean network (chain, miners, validators) on this machine.",
                  no_args_is_help=True)
# Off a terminal (CI, pipes) rich would wrap the leaderboard at 80 columns: give it room unless COLUMNS says otherwise.
console = Console() if sys.stdout.isatty() else Console(width=int(os.environ.get("COLUMNS", "200")))
log = logging.getLogger("glean.local")


def _root(ctx: typer.Context, data_dir: Path | None) -> Path:
    """--data-dir of `local up`, else the global --data-dir, else `<configured data_dir>/local`."""
    if data_dir is not None:
        return data_dir
    cli = state(ctx)
    if cli.data_dir is not None:
        return cli.data_dir
    return cli.config().data_dir / "local"


class _Lines:
    """Progress for a console that is not a terminal (CI, pipes): one line per phase or epoch change."""

    def __init__(self) -> None:
        self._last: tuple[str, int] | None = None

    def __call__(self, snapshot: Snapshot) -> None:
        key = (snapshot.phase, snapshot.epochs)
        if key == self._last:
            return
        self._last = key
        if snapshot.block is None:
            console.print(f"[{snapshot.elapsed:6.0f} s] {snapshot.phase}", highlight=False)
            return
        stored = " ".join(f"{m.name}={m.stored if m.stored is not None else '-'}" for m in snapshot.miners)
        accepted = " ".join(f"{v.name}={v.accepted if v.accepted is not None else '-'}" for v in snapshot.validators)
        console.print(f"[{snapshot.elapsed:6.0f} s] {snapshot.phase}: epoch {snapshot.epochs}/{snapshot.epochs_target}"
                      f" block {snapshot.block if snapshot.block is not None else '-'}"
                      + (f" | stored {stored}" if stored else "") + (f" | accepted {accepted}" if accepted else ""),
                      highlight=False)


class _Dashboards:
    """Says each validator's dashboard address once, as soon as the validator answers (terminal or not)."""

    def __init__(self, show) -> None:
        self._show = show
        self._told: set[str] = set()

    def __call__(self, snapshot: Snapshot) -> None:
        for v in snapshot.validators:
            if v.name not in self._told and v.state in ("up", "crawling"):
                self._told.add(v.name)
                console.print(f"{v.name}'s dashboard: {v.url}", highlight=False)
        self._show(snapshot)


@app.command("up")
def up(
    ctx: typer.Context,
    miners: int = typer.Option(K.DEFAULT_MINERS, "--miners", min=1, help="Miner processes."),
    validators: int = typer.Option(K.DEFAULT_VALIDATORS, "--validators", min=1, help="Validator processes."),
    epochs: int = typer.Option(K.DEFAULT_EPOCHS, "--epochs", min=1, help="Run until this many epochs have passed."),
    offline: bool = typer.Option(False, "--offline", help="Crawl the local sample web instead of the internet."),
    data_dir: Path | None = typer.Option(None, "--data-dir",
                                         help="Folder for everything (default: the global --data-dir, else "
                                              "<data_dir>/local)."),
    fresh: bool = typer.Option(False, "--fresh", help="Start clean instead of resuming the previous run."),
    tempo: int = typer.Option(K.DEFAULT_TEMPO, "--tempo", min=1, help="Blocks per epoch (fixed when the chain is "
                                                                     "created)."),
    block_time: float = typer.Option(K.DEFAULT_BLOCK_TIME, "--block-time", min=0.05,
                                     help="Seconds per block (fixed when the chain is created)."),
) -> None:
    """Start a LocalChain, N miners and M validators on loopback; run K epochs; publish, pull back, show the board."""
    root = _root(ctx, data_dir).expanduser().resolve()
    layout = Layout(root)
    layout.logs.mkdir(parents=True, exist_ok=True)
    level = logging.getLevelName(logging.getLogger().level)
    # The live view owns the terminal: the orchestrator's own log lines go to a file like every role's.
    log_file = open(layout.log_path("local"), "a", encoding="utf-8")  # noqa: SIM115 - closed below
    setup_logging(level, stream=log_file)
    os.environ.setdefault("HF_DATASETS_CACHE", str(root / "hf-cache"))  # `datasets`' cache of the pulled release
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")  # they would break the live view
    options = LocalOptions(root=root, miners=miners, validators=validators, epochs=epochs, offline=offline,
                           fresh=fresh, tempo=tempo, block_time=block_time, log_level=level)
    console.print(f"glean local network in {root} ({miners} miners, {validators} validator(s), {epochs} epochs"
                  f"{', offline sample web' if offline else ''}); Ctrl-C stops it early, twice stops it now",
                  highlight=False)
    try:
        if console.is_terminal:  # console.print during Live writes above the live view
            with Live(console=console, refresh_per_second=4, transient=True) as live:
                summary = _run(options, _Dashboards(lambda s: live.update(progress.render(s))))
        else:
            summary = _run(options, _Dashboards(_Lines()))
    finally:
        setup_logging(level)
        log_file.close()
    console.print(leaderboard.render(summary))


def _run(options: LocalOptions, on_progress) -> leaderboard.Summary:
    network = LocalNetwork(options, on_progress=on_progress)

    async def main() -> leaderboard.Summary:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def interrupt() -> None:
            if stop.is_set():  # the second Ctrl-C: no more waiting for clean shutdowns
                for proc in network.processes.values():
                    proc.kill()
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, interrupt)
        return await network.up(stop)

    return asyncio.run(main())
