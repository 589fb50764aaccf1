"""Badges with levels, participation streaks and overall levels: plain functions over counts.

A badge level, once earned, is kept: counts can go down (a withdrawn vote, a hidden idea), but a badge
is a record of what a citizen achieved, so only new, higher levels are announced and stored.
"""
from __future__ import annotations

from datetime import date, timedelta


def level_for(count: int, thresholds: list[int]) -> int:
    """The level reached with `count` (0 below the first threshold); thresholds ascend."""
    level = 0
    for i, threshold in enumerate(thresholds):
        if count >= threshold:
            level = i + 1
        else:
            break
    return level


def new_levels(badge_counts: dict[str, int], thresholds: dict[str, list[int]], held: dict[str, int]) -> list[tuple[str, int]]:
    """`(badge, level)` for every level now reached and not held yet, lowest first."""
    earned = []
    for badge, count in sorted(badge_counts.items()):
        reached = level_for(count, thresholds.get(badge, []))
        for level in range(held.get(badge, 0) + 1, reached + 1):
            earned.append((badge, level))
    return earned


def longest_streak(days) -> int:
    """The longest run of consecutive days in `days` (any order, repeats allowed)."""
    ordered = sorted(set(days))
    best = run = 0
    previous: date | None = None
    for day in ordered:
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        best = max(best, run)
        previous = day
    return best


def badge_counts(*, ideas_posted: int, upvotes_received: int, comment_upvotes: int, ideas_accepted: int,
                 streak: int) -> dict[str, int]:
    """The count behind each badge, from what counts for a user now (see ledger.counting)."""
    return {
        "ideas_posted": ideas_posted,
        "upvotes_received": upvotes_received,
        "comments_upvoted": comment_upvotes,
        "ideas_accepted": ideas_accepted,
        "streak_days": streak,
    }
