"""The card's chart: rows per day and the quality histogram of each config, drawn from the published statistics."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

from hub import constants
from hub.stats import QUALITY_BINS, DomainStats

CHART_PATH = "overview.png"  # at the top of the dataset repo; the card links to it; each release redraws it


def draw_chart(totals: Mapping[str, DomainStats], path: Path) -> Path:
    """Write the PNG to `path`: left, rows per day (the date `--since` filters on) per config; right, rows per
    tenth of quality per config. Deterministic for the same statistics (no timestamps in the file)."""
    import matplotlib

    matplotlib.use("Agg")  # no display: the publisher runs in a service
    from matplotlib.figure import Figure

    fig = Figure(figsize=constants.CHART_INCHES, dpi=constants.CHART_DPI)
    days, quality = fig.subplots(1, 2, width_ratios=(2, 1))
    shown = {d: s for d, s in sorted(totals.items()) if s.rows}
    for domain, stats in shown.items():
        per_day = sorted((date.fromisoformat(k), n) for k, n in stats.counts["day"].items())
        if per_day:
            days.plot([d for d, _ in per_day], [n for _, n in per_day], marker=".", linewidth=1, label=domain)
    days.set_title("rows per day (claimed publication date, else fetch date)")
    days.set_ylabel("rows")
    fig.autofmt_xdate()
    edges = [i / QUALITY_BINS for i in range(QUALITY_BINS)]
    bottom = [0] * QUALITY_BINS
    for domain, stats in shown.items():
        heights = [stats.counts["quality_bin"].get(str(i), 0) for i in range(QUALITY_BINS)]
        quality.bar(edges, heights, width=1 / QUALITY_BINS, align="edge", bottom=bottom, label=domain,
                    edgecolor="white")
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    quality.set_title("quality (validator's score)")
    quality.set_xlim(0, 1)
    quality.set_xlabel("quality")
    if shown:
        days.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, format="png", metadata={"Software": None})
    return path
