"""Freshness: how much a record's age discounts its value, per domain (a half-life, or evergreen)."""

from __future__ import annotations

from datetime import datetime


def freshness(published_at: datetime | None, fetched_at: datetime, half_life_days: float | None,
              now: datetime) -> float:
    """0.5 ** (age / half-life) in (0, 1]; 1 for an evergreen domain (no half-life).

    Age runs from the publication time, or from the fetch time when the source gives none; a timestamp in the
    future counts as age 0."""
    if half_life_days is None:
        return 1.0
    if half_life_days <= 0:
        raise ValueError(f"half_life_days must be positive, got {half_life_days}")
    born = published_at or fetched_at
    age_days = max(0.0, (now - born).total_seconds() / 86_400)
    return 0.5 ** (age_days / half_life_days)
