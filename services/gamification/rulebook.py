"""The rule book: points per action, badge thresholds and levels: data, per city, with sensible defaults.

A city's rules are stored as a JSON document holding only what it changed; `effective` merges it over
the defaults. Down votes earn nothing and cost nothing: only up votes appear in the points table.
"""
from __future__ import annotations

import copy

# What each action earns, and for whom.
POINTS = {
    "idea_posted": 1,        # the author, when an idea is posted
    "comment_posted": 1,     # the author, when a comment is posted
    "idea_upvoted": 5,       # the idea's author, per up vote
    "comment_upvoted": 2,    # the comment's author, per up vote
    "idea_accepted": 20,     # the idea's author, when the city accepts it
    "idea_implemented": 50,  # the idea's author, when the city implements it
    "ballot_submitted": 3,   # the voter, once per participatory budget
}

# At most this many up votes a day from one voter to one author earn points (anti-farming).
DAILY_CAP_PER_PAIR = 3

# Badge -> the count needed for level 1, 2, 3, ...
BADGES = {
    "ideas_posted": [1, 5, 25, 100],
    "upvotes_received": [10, 50, 250, 1000],
    "comments_upvoted": [5, 25, 100, 500],
    "ideas_accepted": [1, 3, 10, 25],
    "streak_days": [3, 7, 30, 100],
}

BADGE_DESCRIPTIONS = {
    "ideas_posted": "ideas posted (and still visible)",
    "upvotes_received": "up votes received on ideas and comments (within the daily cap)",
    "comments_upvoted": "up votes received on comments (within the daily cap)",
    "ideas_accepted": "ideas accepted by the city",
    "streak_days": "days in a row of participation (posting, commenting, voting, budgeting), longest run",
}

# All-time points needed for level 1, 2, 3, ... (level 0 below the first threshold).
LEVELS = [10, 50, 150, 400, 1000, 2500, 5000, 10000]

DEFAULTS = {
    "points": POINTS,
    "daily_cap_per_pair": DAILY_CAP_PER_PAIR,
    "badges": BADGES,
    "levels": LEVELS,
}


def effective(overrides: dict | None) -> dict:
    """The defaults with a city's overrides applied (`points` and `badges` merge key by key)."""
    rules = copy.deepcopy(DEFAULTS)
    overrides = overrides or {}
    rules["points"].update(overrides.get("points") or {})
    rules["badges"].update(overrides.get("badges") or {})
    if overrides.get("daily_cap_per_pair") is not None:
        rules["daily_cap_per_pair"] = overrides["daily_cap_per_pair"]
    if overrides.get("levels"):
        rules["levels"] = list(overrides["levels"])
    return rules


def merge_overrides(current: dict | None, change: dict) -> dict:
    """A city's stored overrides after an admin's change (only the keys it sent change)."""
    merged = copy.deepcopy(current or {})
    for key in ("points", "badges"):
        if change.get(key):
            merged.setdefault(key, {}).update(change[key])
    for key in ("daily_cap_per_pair", "levels"):
        if change.get(key) is not None:
            merged[key] = change[key]
    return merged


def describe(rules: dict) -> dict:
    """The rules as served to clients: points per action, the cap, badges with levels, levels."""
    return {
        "points": dict(rules["points"]),
        "daily_cap_per_pair": rules["daily_cap_per_pair"],
        "down_votes": 0,
        "badges": [
            {"badge": name, "description": BADGE_DESCRIPTIONS.get(name, ""),
             "levels": [{"level": i + 1, "threshold": t} for i, t in enumerate(thresholds)]}
            for name, thresholds in rules["badges"].items()
        ],
        "levels": [{"level": i + 1, "points": t} for i, t in enumerate(rules["levels"])],
    }


def vote_reason(target_type: str, value: str) -> str:
    """What a vote is, as a subject: `idea_upvoted`, `idea_downvoted`, `comment_upvoted`, ..."""
    return f"{target_type}_{'upvoted' if value == 'up' else 'downvoted'}"


def vote_points(rules: dict, reason: str) -> int:
    """What a vote is worth when it counts: down votes are worth nothing (they are not in the table)."""
    return rules["points"].get(reason, 0)


def booked_as(kind: str, reason: str, target_type: str | None) -> str:
    """The reason a subject's points are booked under. A vote earns only as an up vote, so what it earns
    or gives back (withdrawn, changed to down, hidden) is booked as the up vote's."""
    return f"{target_type}_upvoted" if kind == "vote" else reason


STATUS_RULES = {"accepted": "idea_accepted", "implemented": "idea_implemented"}
