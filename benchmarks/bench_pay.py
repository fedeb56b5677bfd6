"""The pay rule against padding: what a padder earns over what it would earn serving only its real records, for
padding fractions 0.5 / 0.9 / 0.99 and batches of 10 / 1,000 / 20,000 records per step, padded with invented URLs
(404 on re-fetch) or with spins (a live page with ~6% of its words changed: beyond the pass band). Also what 2%
pages deleted between crawl and check, and 10% validator-side faults, cost an honest miner.

The simulation (tests/validator/paysim.py) runs the validator's real sampling, judging, batch verdict, Wilson bound
and credibility over STEPS steps for each of SEEDS seeds; no network. Run: python -m benchmarks pay.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.table import Table

from tests.validator.paysim import Miner, simulate

STEPS = 60
SEEDS = (1, 2, 3)
SIZES = (10, 1_000, 20_000)
FRACTIONS = (0.5, 0.9, 0.99)
LIGHT = (0.02, 0.05, 0.1, 0.2, 0.3, 0.4)  # padding as light as honest deletions, where it stops being visible


def _pay(miner: Miner) -> float:
    return sum(simulate(miner, STEPS, seed) for seed in SEEDS)


def padding_table() -> Table:
    table = Table(title=f"padder pay / its honest part ({STEPS} steps x {len(SEEDS)} seeds; < 1.00 = padding loses)")
    table.add_column("records / step", justify="right")
    for fraction in FRACTIONS:
        for padding in ("invented", "spin"):
            table.add_column(f"{fraction:.0%} {padding}", justify="right")
    for size in SIZES:
        cells = []
        for fraction in FRACTIONS:
            honest = _pay(Miner(records=size, padded=fraction).honest_part())
            for padding in ("invented", "spin"):
                cells.append(f"{_pay(Miner(records=size, padded=fraction, padding=padding)) / honest:.3f}")
        table.add_row(f"{size:,}", *cells)
    return table


def light_padding_table(size: int = 1_000) -> Table:
    table = Table(title=f"light padding with invented URLs, {size:,} records / step: pay / honest part")
    for fraction in LIGHT:
        table.add_column(f"{fraction:.0%}", justify="right")
    honest = [_pay(Miner(records=size, padded=f).honest_part()) for f in LIGHT]
    table.add_row(*(f"{_pay(Miner(records=size, padded=f)) / h:.3f}" for f, h in zip(LIGHT, honest, strict=True)))
    return table


def honest_table() -> Table:
    table = Table(title="honest miner: pay kept relative to no deletions and no faults")
    table.add_column("records / step", justify="right")
    table.add_column("2% pages deleted before the check", justify="right")
    table.add_column("10% checks hit validator faults", justify="right")
    for size in SIZES:
        clean = _pay(Miner(records=size))
        table.add_row(f"{size:,}", f"{_pay(Miner(records=size, deleted=0.02)) / clean:.3f}",
                      f"{_pay(Miner(records=size, faults=0.1)) / clean:.3f}")
    return table


def main() -> None:
    console = Console()
    began = time.perf_counter()
    console.print(padding_table())
    console.print(light_padding_table())
    console.print(honest_table())
    console.print(f"[dim]{time.perf_counter() - began:.1f} s[/]")


if __name__ == "__main__":
    main()
