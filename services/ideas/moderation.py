"""Flags and moderation: when content is hidden, who sees it, and what a moderator's decision does."""
from __future__ import annotations

from services.common.errors import Conflict

def threshold(project_threshold: int | None, default: int) -> int:
    """The project's own threshold, else the platform's (`Settings.flag_threshold`)."""
    return project_threshold if project_threshold else default


def should_hide(open_flags: int, limit: int, hidden: bool) -> bool:
    """True when this flag is the one that hides the content (it reached the threshold and was visible)."""
    return not hidden and open_flags >= limit


def reason_counts(reasons: list[str]) -> dict[str, int]:
    """How many open flags give each reason."""
    counts: dict[str, int] = {}
    for reason in reasons:
        counts[reason] = counts.get(reason, 0) + 1
    return counts


def check_can_flag(user_id, author_id) -> None:
    if str(user_id) == str(author_id):
        raise Conflict("You cannot flag your own content.")


def visible(row, is_moderator: bool) -> bool:
    """Deleted content is gone for everyone; hidden content only moderators see."""
    if row.deleted_at is not None:
        return False
    return is_moderator or row.hidden_at is None


def decide(decision: str, hidden: bool) -> dict:
    """What a moderator's decision changes: `restore` unhides and dismisses the open flags; `remove` deletes."""
    if decision == "restore":
        return {"hidden": False, "deleted": False, "event": "content_restored" if hidden else None}
    if decision == "remove":
        return {"hidden": hidden, "deleted": True, "event": "deleted"}
    raise ValueError(f"unknown decision {decision!r}")
