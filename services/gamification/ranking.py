"""Leaderboard periods and ranks with ties.

Ranking is standard competition ranking ("1224"): equal points share a rank, and the next rank skips
as many places as there were ties, so a rank always says "1 + how many have more points than you".
Periods are UTC calendar buckets: `all`, the calendar month (`month:2026-05`) and the ISO week
(`week:2026-W19`); points count in the bucket of the moment they were earned.
"""
from __future__ import annotations

from datetime import datetime, timezone

PERIODS = ("all", "month", "week")


def period_key(period: str, at: datetime) -> str:
    if period == "all":
        return "all"
    at = at.astimezone(timezone.utc) if at.tzinfo else at
    if period == "month":
        return f"month:{at.year:04d}-{at.month:02d}"
    if period == "week":
        year, week, _ = at.isocalendar()
        return f"week:{year:04d}-W{week:02d}"
    raise ValueError(f"unknown period {period!r}")


def period_keys(at: datetime) -> list[str]:
    """Every bucket a point earned at `at` counts in."""
    return [period_key(p, at) for p in PERIODS]


def ranks(points: list[int], first_rank: int = 1, position: int | None = None) -> list[int]:
    """Standard competition ranks of one page of a leaderboard sorted by points, highest first.

    `first_rank`: the rank of the page's first row (1 + how many users have more points).
    `position`: how many rows precede the page (for the first page, 0). Rows tying with the previous
    row share its rank; any other row's rank is its place in the whole list, 1-based.
    """
    position = first_rank - 1 if position is None else position
    out: list[int] = []
    for i, p in enumerate(points):
        if i == 0:
            out.append(first_rank)
        elif p == points[i - 1]:
            out.append(out[-1])
        else:
            out.append(position + i + 1)
    return out
