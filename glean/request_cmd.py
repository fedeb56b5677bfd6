"""`glean request new|submit|status`: ask the network for a domain dataset (docs/requests.md).

`new` writes a spec skeleton (the format of domains/*.yaml) from a few flags; `submit` checks it here as a
validator would (file, field, fix), then sends it, signed by the wallet's hotkey, to every validator announcing a
listener (or one); `status` asks each what it did with the request and what it accepted so far.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.console import Console
from rich.table import Table

from chain import load_or_create_wallet
from glean.context import state
from glean.listeners import Answer, ask_validators
from schemas.domain import load_domain_file
from schemas.errors import RequestError
from schemas.record import utcnow
from schemas.request import DatasetRequest, request_from
from schemas.times import as_utc

app = typer.Typer(help="Ask the network for a domain dataset, and follow the request.", no_args_is_help=True)
console = Console()


def skeleton(domain: str, kind: str, params: list[str], keywords: list[str], title: str | None) -> dict[str, Any]:
    """A spec from flags: `--param k=v` values are read as YAML (`subreddits=[rust]`, `min_score=20`)."""
    parsed: dict[str, Any] = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise RequestError(f"--param {item!r} is not key=value", hint="e.g. --param seeds=[https://example.org/]")
        parsed[key.strip()] = yaml.safe_load(value)
    return {"id": domain, "title": title or domain.replace("-", " ").capitalize(), "description": "",
            "languages": ["en"], "sources": [{"kind": kind, "params": parsed}],
            "relevance": {"keywords": {word: 1.0 for word in keywords} or {domain.split("-")[0]: 1.0},
                          "min_score": 0.1},
            "quality": {"min_quality": 0.5, "min_words": 50}}


@app.command("new")
def new(
    domain: str = typer.Option(..., "--id", help="The requested domain's id (lower case, e.g. rust-async)."),
    kind: str = typer.Option("web", "--kind", help="Source kind: web, feed, wikipedia, arxiv, stackexchange, …"),
    param: list[str] = typer.Option([], "--param", help="A source param as key=value (YAML value); repeat."),
    keyword: list[str] = typer.Option([], "--keyword", help="A relevance keyword; repeat."),
    title: str | None = typer.Option(None, "--title", help="A human title (default: from the id)."),
    out: Path | None = typer.Option(None, "--out", help="Where to write it (default: ./<id>.yaml)."),
) -> None:
    """Write a spec skeleton to edit, then `glean request submit` it."""
    path = out or Path(f"{domain}.yaml")
    if path.exists():
        raise RequestError(f"{path} exists", hint="give another --out, or remove the file")
    path.write_text(yaml.safe_dump(skeleton(domain, kind, param, keyword, title), sort_keys=False), encoding="utf-8")
    console.print(f"wrote {path}: edit its sources and keywords, then `glean request submit {path}`")


def build_request(path: Path, requester: str, *, records: int | None, words: int | None, deadline: str | None,
                  note: str, local: bool) -> DatasetRequest:
    """The request of a spec file, checked as a validator checks it; errors name the file, the field, the fix."""
    from validator.request_checks import check_request

    if (records is None) == (words is None):
        raise RequestError("give one target: --target-records N or --target-words N",
                           hint="how much data you want; validators mark the request done once it is accepted")
    spec = load_domain_file(path)
    target = {"records": records} if words is None else {"words": words}
    data = {"spec": spec.model_dump(mode="json"), "requester": requester, "target": target, "note": note,
            "deadline": _deadline(deadline)}
    try:
        request = request_from(data, where=str(path))
        check_request(request, local=local, now=utcnow())
    except RequestError as exc:
        raise RequestError(exc.message if exc.message.startswith(str(path)) else f"{path}: {exc.message}",
                           hint=exc.hint) from None
    return request


def _deadline(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return as_utc(datetime.fromisoformat(value)).isoformat()
    except ValueError:
        raise RequestError(f"--deadline {value!r} is not an ISO date",
                           hint="e.g. 2027-03-01 or 2027-03-01T12:00Z") from None


def _answers_table(title: str, answers: list[Answer], columns: tuple[str, ...]) -> Table:
    table = Table(title=title)
    for name in ("uid", "validator", *columns):
        table.add_column(name)
    for a in answers:
        cells = [str(a.body.get(c.replace(" ", "_"), "")) if a.ok else "" for c in columns]
        if not a.ok:
            cells[-1] = f"[red]{a.problem}[/]"
        table.add_row(str(a.uid), f"{a.hotkey[:8]}…", *cells)
    return table


@app.command("submit")
def submit(
    ctx: typer.Context,
    spec: Path = typer.Argument(..., help="The spec file (YAML, the format of domains/*.yaml)."),
    validator: int | None = typer.Option(None, "--validator", help="Send to this validator uid only."),
    target_records: int | None = typer.Option(None, "--target-records", min=1, help="Records wanted."),
    target_words: int | None = typer.Option(None, "--target-words", min=1, help="Words wanted (instead)."),
    deadline: str | None = typer.Option(None, "--deadline", help="ISO date after which validators drop it."),
    note: str = typer.Option("", "--note", help="A note for the validators' operators (≤ 500 characters)."),
) -> None:
    """Check a spec here, then send it signed to every validator announcing a listener (or one)."""
    config = state(ctx).config()
    wallet = load_or_create_wallet(config.wallet.name, config.wallet.hotkey, config.wallet.path)
    local = config.chain.kind == "local"
    request = build_request(spec, wallet.hotkey.ss58_address, records=target_records, words=target_words,
                            deadline=deadline, note=note, local=local)
    answers = ask_validators(config, validator, "POST", "/v1/requests", body=request.canonical(),
                             signer=wallet.hotkey)
    console.print(f"request [bold]{request.request_id}[/] for domain [bold]{request.spec['id']}[/]")
    console.print(_answers_table("submitted", answers, ("status", "created")))
    if not any(a.ok for a in answers):
        raise typer.Exit(1)


@app.command("status")
def status(
    ctx: typer.Context,
    request_id: str = typer.Argument(..., help="The id `glean request submit` printed."),
    validator: int | None = typer.Option(None, "--validator", help="Ask this validator uid only."),
) -> None:
    """Per validator: the request's status, weight, records and words accepted so far, the release holding them."""
    answers = ask_validators(state(ctx).config(), validator, "GET", f"/v1/requests/{request_id}")
    console.print(_answers_table(f"request {request_id[:16]}…", answers,
                                 ("status", "weight", "accepted records", "accepted words", "release")))
