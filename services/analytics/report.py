"""Shaping analytics answers: when a topic model is due for a rebuild, the topics answer, the dashboard.

Plain functions over rows already read; no Nameko, no I/O.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from services.analytics.topics import MIN_IDEAS
from services.common.demographics import DIMENSIONS, age_group, group_of

REBUILD_AFTER_CHANGES = 20
"""Idea changes (new, edited, hidden, deleted) since the last build that make a model stale."""
REBUILD_MAX_AGE = timedelta(hours=1)
"""A model with any change older than this is rebuilt even when the changes are few."""
KINDS = ("idea", "comment", "vote", "ballot", "poll")


@dataclass(frozen=True)
class BuildState:
    """What the rebuild timer knows of one project."""

    ideas_version: int
    visible: int
    refresh_requested_at: datetime | None = None
    built_version: int | None = None  # None: never built
    started_at: datetime | None = None  # when the last build started
    status: str | None = None  # ok | not_enough_ideas


def rebuild_due(s: BuildState, now: datetime, *, after_changes: int = REBUILD_AFTER_CHANGES,
                max_age: timedelta = REBUILD_MAX_AGE, min_ideas: int = MIN_IDEAS) -> bool:
    """Whether a project's topic model should be (re)built now."""
    if s.refresh_requested_at is not None and (s.started_at is None or s.refresh_requested_at > s.started_at):
        return True
    if s.built_version is None:
        return s.visible >= min_ideas
    changes = s.ideas_version - s.built_version
    if changes <= 0:
        return False
    if s.status != "ok":
        return s.visible >= min_ideas
    if changes >= after_changes:
        return True
    return s.started_at is not None and now - s.started_at >= max_age


def topics_answer(model: dict | None, members: list[tuple], have: int, ideas_version: int,
                  needed: int = MIN_IDEAS) -> dict:
    """`GET .../topics`: the model's topics with their current ideas, or why there are none.

    ``model``: the stored model row (status, model_version, built_at, topics [{id, label, keywords}],
    have, needed, built_version) or None; ``members``: (idea_id, topic_id) of the project's visible
    ideas assigned by this model; ``have``: visible ideas of the project now; ``ideas_version``: the
    project's current version of its ideas. Without a model the answer is still 200 with
    ``topics: []`` and a ``status``: ``not_enough_ideas`` (with ``needed`` and ``have``: usable ideas,
    those with at least one meaningful word) or ``pending`` (enough ideas, no build finished yet).
    """
    if model is None or model.get("status") != "ok":
        answer = {"status": "not_enough_ideas", "model_version": None, "built_at": None, "topics": [],
                  "needed": needed, "have": have}
        if model is not None and model.get("built_version", -1) >= ideas_version:
            answer.update(needed=model.get("needed") or needed, have=model.get("have", have))
        elif have >= needed:
            answer["status"] = "pending"
        return answer
    by_topic: dict[int, list[str]] = {}
    for idea_id, topic_id in members:
        by_topic.setdefault(topic_id, []).append(str(idea_id))
    topics = []
    for t in model["topics"]:
        ids = by_topic.get(t["id"], [])
        topics.append({"id": t["id"], "label": t["label"], "keywords": t["keywords"], "size": len(ids),
                       "idea_ids": ids})
    assigned = sum(len(v) for v in by_topic.values())
    built_at = model.get("built_at")
    return {"status": "ok", "model_version": model["model_version"],
            "built_at": built_at.isoformat() if isinstance(built_at, datetime) else built_at,
            "topics": topics, "have": have, "unassigned": max(have - assigned, 0)}


# -- dashboard ------------------------------------------------------------------------------------
def period(from_: date | datetime | None, to: date | datetime | None, today: date, days: int = 30
           ) -> tuple[date, date]:
    """The dashboard's days, `to` included (default: the 30 days up to today)."""
    hi = to.date() if isinstance(to, datetime) else (to or today)
    lo = from_.date() if isinstance(from_, datetime) else from_
    return (lo or hi - timedelta(days=days - 1)), hi


def daily_series(rows: list[tuple], start: date, end: date) -> list[dict]:
    """One entry per day from ``start`` to ``end``: counts per kind and distinct participants.

    ``rows``: (day, kind, count) and (day, "participants", count), days without activity missing.
    """
    by_day: dict[date, dict] = {}
    for day, kind, count in rows:
        by_day.setdefault(day, {})[kind] = int(count)
    out = []
    day = start
    while day <= end:
        counts = by_day.get(day, {})
        out.append({"date": day.isoformat(), **{f"{k}s": counts.get(k, 0) for k in KINDS},
                    "participants": counts.get("participants", 0)})
        day += timedelta(days=1)
    return out


def participants_by_group(rows: list[tuple], today: date | None = None) -> dict[str, dict[str, int]]:
    """Participants by demographic group for every dimension, from (birth_year, gender, district, count)
    rows (people with no known profile count as ``unknown``)."""
    result: dict[str, Counter] = {d: Counter() for d in DIMENSIONS}
    for birth_year, gender, district, count in rows:
        profile = {"birth_year": birth_year, "gender": gender, "district": district}
        for d in DIMENSIONS:
            result[d][group_of(profile, d, today)] += int(count)
    return {d: dict(sorted(c.items())) for d, c in result.items()}


def input_item(r, today: date | None = None) -> dict:
    """One idea of the input manager's list (never the author's id or e-mail: demographics only)."""
    return {
        "id": str(r.id), "title": r.title, "status": r.status, "topics": list(r.tags or []), "topic_id": r.topic,
        "up_votes": r.up_votes, "down_votes": r.down_votes, "comments": int(r.comments or 0),
        "flags": r.flags, "hidden": r.hidden, "created_at": r.created_at.isoformat() if r.created_at else None,
        "author": {"age_group": age_group(r.birth_year, today), "gender": r.gender or "unknown",
                   "district": r.district or "unknown"},
    }
