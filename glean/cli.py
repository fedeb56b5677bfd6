"""The `glean` command line: one typer application; GleanError becomes one clear line and an exit code."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

from glean import __version__, pull_cmd
from glean.chain_cmd import app as chain_app
from glean.context import CliState
from glean.domains_cmd import app as domains_app
from glean.local_cmd import app as local_app
from glean.logs import setup_logging
from glean.miner_cmd import app as miner_app
from schemas.errors import GleanError

app = typer.Typer(
    name="glean",
    help="glean: an incentivized dataset-collection network on Bittensor.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(domains_app, name="domains")
app.command("pull")(pull_cmd.pull)
app.add_typer(chain_app, name="chain")
app.add_typer(miner_app, name="miner")
app.add_typer(__import__("glean.validator_cmd").validator_cmd.app, name="validator")
app.add_typer(local_app, name="local")
app.add_typer(__import__("glean.request_cmd").request_cmd.app, name="request")

err = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"glean {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Path | None = typer.Option(None, "--config", "-c", envvar="GLEAN_CONFIG",
                                       help="TOML configuration file."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Where glean keeps its state (default ~/.glean)."),
    log_level: str = typer.Option("INFO", "--log-level", envvar="GLEAN_LOG_LEVEL", help="DEBUG, INFO, WARNING, ERROR."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    setup_logging(log_level.upper())
    ctx.obj = CliState(config_path=config, data_dir=data_dir)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; usage errors are click's (exit 2), GleanError ours."""
    try:
        app(args=argv, prog_name="glean")
    except GleanError as exc:
        err.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        if exc.hint:
            err.print(f"[yellow]hint:[/] {exc.hint}", highlight=False)
        return exc.exit_code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
