"""Run every benchmark (or those named on the command line): python -m benchmarks [name ...]."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys

from rich.console import Console

import benchmarks


def main(argv: list[str]) -> int:
    console = Console()
    names = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_"))
    wanted = [n if n.startswith("bench_") else f"bench_{n}" for n in argv] or names
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        console.print(f"[red]unknown benchmark(s): {', '.join(unknown)}[/]; known: {', '.join(names)}")
        return 2
    console.print(f"[bold]glean benchmarks[/] on {os.cpu_count()} cores")
    for name in wanted:
        console.rule(name)
        importlib.import_module(f"benchmarks.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
