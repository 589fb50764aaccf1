"""The city's status workflow of an idea: proposed → under_review → accepted / rejected → implemented."""
from __future__ import annotations

from services.common.errors import Conflict

INITIAL = "proposed"
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "proposed": ("under_review",),
    "under_review": ("accepted", "rejected"),
    "accepted": ("implemented",),
    "rejected": (),
    "implemented": (),
}

# Methods of participation whose projects take ideas from citizens.
METHODS_TAKING_IDEAS = ("ideation", "budgeting")


def allowed_next(status: str) -> tuple[str, ...]:
    return TRANSITIONS.get(status, ())


def check_transition(old: str, new: str) -> None:
    """Conflict, naming the allowed next statuses, unless `old → new` is a step of the workflow."""
    allowed = allowed_next(old)
    if new not in allowed:
        options = ", ".join(allowed) if allowed else "none, it is final"
        raise Conflict(f"An idea cannot go from {old} to {new}; from {old} it can go to: {options}.",
                       [{"field": "status", "issue": f"allowed: {list(allowed)}"}])


def check_takes_ideas(method: str, status: str) -> None:
    """Conflict unless a project of this method and status accepts new ideas."""
    if method not in METHODS_TAKING_IDEAS:
        raise Conflict(f"A {method} project does not take ideas.")
    if status != "active":
        raise Conflict(f"The project is {status}; it takes ideas only while active.")
