"""`glean domains list|show`: the domains this installation knows."""

from __future__ import annotations

import typer
import yaml
from rich.console import Console
from rich.table import Table

from glean.config import load_catalog
from glean.context import state

app = typer.Typer(help="Inspect the domain specs (built-in and from domain_dirs).", no_args_is_help=True)
console = Console()


@app.command("list")
def list_domains(ctx: typer.Context) -> None:
    """Table of every known domain."""
    catalog = load_catalog(state(ctx).config())
    table = Table(title="glean domains")
    table.add_column("id", no_wrap=True, style="bold")
    for col in ("title", "sources", "languages", "half-life (days)", "desirability"):
        table.add_column(col)
    for spec in catalog:
        half_life = "evergreen" if spec.freshness_half_life_days is None else f"{spec.freshness_half_life_days:g}"
        table.add_row(spec.id, spec.title, ", ".join(s.source_id for s in spec.sources),
                      ", ".join(spec.languages), half_life, f"{spec.desirability:g}")
    console.print(table)


@app.command("show")
def show_domain(
    ctx: typer.Context, domain_id: str = typer.Argument(..., help="domain id, e.g. python-ecosystem")
) -> None:
    """The full spec of one domain, as YAML."""
    spec = load_catalog(state(ctx).config()).get(domain_id)
    console.print(yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False, allow_unicode=True))
