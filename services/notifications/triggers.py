"""Who hears about what: bus events turned into notices for recipients. Plain functions, no I/O.

Each function takes the event's `data`, the actor, and the facts the service looked up in its read
models (idea titles, voters, participants, display names), and returns the notices to create. Nobody is
ever told about their own action.
"""
from __future__ import annotations

from dataclasses import dataclass, field

KINDS = (
    "comment_on_idea", "reply_to_comment", "status_changed", "official_feedback", "badge_earned",
    "level_up", "vote_milestone", "voting_opened", "results_published",
)
MILESTONES = (10, 50, 100)
EXCERPT_CHARS = 140


@dataclass(frozen=True)
class Notice:
    user_id: str
    kind: str
    data: dict = field(default_factory=dict)


def excerpt(text: str | None, limit: int = EXCERPT_CHARS) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _s(value) -> str | None:
    return None if value is None else str(value)


def comment_notices(data: dict, actor_id, idea_title: str | None, actor_name: str | None) -> list[Notice]:
    """A comment tells the idea's author; a reply tells the parent comment's author. Someone who is
    both hears once, as the reply."""
    actor = _s(data.get("author_id") or actor_id)
    common = {
        "idea_id": _s(data.get("idea_id")), "project_id": _s(data.get("project_id")),
        "comment_id": _s(data.get("comment_id")), "idea_title": idea_title, "actor_id": actor,
        "actor_name": actor_name, "excerpt": excerpt(data.get("body")),
    }
    notices: list[Notice] = []
    parent_author = _s(data.get("parent_author_id"))
    if data.get("parent_id") and parent_author and parent_author != actor:
        notices.append(Notice(parent_author, "reply_to_comment", {**common, "parent_id": _s(data["parent_id"])}))
    idea_author = _s(data.get("idea_author_id"))
    if idea_author and idea_author != actor and idea_author != parent_author:
        notices.append(Notice(idea_author, "comment_on_idea", common))
    return notices


def status_notices(data: dict, actor_id, voters, idea_title: str | None) -> list[Notice]:
    """A status change (or official feedback without a change) tells the author and every voter."""
    changed = data.get("old_status") != data.get("status")
    feedback = data.get("feedback") or None
    if not changed and not feedback:
        return []
    kind = "status_changed" if changed else "official_feedback"
    base = {
        "idea_id": _s(data.get("idea_id")), "project_id": _s(data.get("project_id")), "idea_title": idea_title,
        "old_status": data.get("old_status"), "status": data.get("status"), "feedback": feedback,
    }
    actor = _s(actor_id)
    author = _s(data.get("author_id"))
    notices = []
    if author and author != actor:
        notices.append(Notice(author, kind, {**base, "role": "author"}))
    for voter in sorted({str(v) for v in voters} - {author, actor}):
        notices.append(Notice(voter, kind, {**base, "role": "voter"}))
    return notices


def milestones_reached(up_votes: int, already: set[int]) -> list[int]:
    return [m for m in MILESTONES if up_votes >= m and m not in already]


def milestone_notice(data: dict, already: set[int], idea_title: str | None) -> tuple[Notice | None, list[int]]:
    """An idea passing 10, 50 or 100 up votes tells its author once per milestone (the highest newly
    passed when several are passed at once). Returns the notice and the milestones to record."""
    if data.get("target_type") != "idea" or not data.get("author_id"):
        return None, []
    reached = milestones_reached(int(data.get("up_votes") or 0), set(already))
    if not reached:
        return None, []
    notice = Notice(_s(data["author_id"]), "vote_milestone", {
        "idea_id": _s(data.get("idea_id") or data.get("target_id")), "project_id": _s(data.get("project_id")),
        "idea_title": idea_title, "milestone": max(reached), "up_votes": int(data["up_votes"]),
    })
    return notice, reached


def badge_notice(data: dict) -> Notice:
    return Notice(_s(data["user_id"]), "badge_earned", {"badge": data.get("badge"), "level": data.get("level")})


def level_notice(data: dict) -> Notice:
    return Notice(_s(data["user_id"]), "level_up", {"level": data.get("level"), "total": data.get("total")})


def phase_notices(data: dict, actor_id, participants, project_title: dict | None) -> list[Notice]:
    """A budgeting project opening its voting phase tells everyone who took part in the project."""
    if data.get("phase") != "voting":
        return []
    body = {"project_id": _s(data.get("project_id")), "project_title": project_title or {}}
    return [Notice(u, "voting_opened", body) for u in sorted({str(p) for p in participants} - {_s(actor_id)})]


def results_notices(data: dict, actor_id, participants, project_title: dict | None) -> list[Notice]:
    body = {
        "project_id": _s(data.get("project_id")), "project_title": project_title or {},
        "selected_count": len(data.get("selected") or []),
    }
    return [Notice(u, "results_published", body) for u in sorted({str(p) for p in participants} - {_s(actor_id)})]


def email_status(preference: str | None) -> str:
    """How a new notice is e-mailed under the recipient's preference."""
    return {"instant": "pending", "daily": "digest", "off": "none"}.get(preference or "instant", "pending")
