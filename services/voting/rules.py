"""The rules of voting on ideas and comments, and what a vote change does to a target's totals.

Plain functions, no I/O: the service loads the facts (target, project, the voter's vote) and asks here.
"""
from __future__ import annotations

from dataclasses import dataclass

from services.common.errors import Conflict

UP, DOWN = "up", "down"


@dataclass(frozen=True)
class Target:
    target_type: str  # idea | comment
    target_id: str
    idea_id: str | None
    project_id: str | None
    author_id: str | None
    deleted: bool = False
    hidden: bool = False


@dataclass(frozen=True)
class Project:
    status: str  # draft | active | closed
    allow_down_votes: bool = True
    method: str | None = None


def check_vote(target: Target, project: Project, voter_id: str, value: str, idea: Target | None = None) -> None:
    """Raise Conflict when `voter_id` may not cast `value` on `target`.

    `idea` is the idea a comment belongs to, when known: a comment of a deleted or hidden idea
    takes no votes either.
    """
    what = target.target_type
    if target.deleted or (idea is not None and idea.deleted):
        raise Conflict(f"This {what} was deleted; it takes no votes.")
    if target.hidden or (idea is not None and idea.hidden):
        raise Conflict(f"This {what} is hidden pending moderation; it takes no votes.")
    if target.author_id is not None and str(target.author_id) == str(voter_id):
        raise Conflict(f"You cannot vote on your own {what}.")
    check_project_open(project)
    if value == DOWN and not project.allow_down_votes:
        raise Conflict("Down votes are switched off in this project.")


def check_withdraw(project: Project) -> None:
    """A vote can be withdrawn while the project is open (also on content hidden since)."""
    check_project_open(project)


def check_project_open(project: Project) -> None:
    if project.status == "closed":
        raise Conflict("The project is closed; votes can no longer change.")
    if project.status != "active":
        raise Conflict("The project is not open for participation yet.")


@dataclass(frozen=True)
class Change:
    """What one vote operation did: the event to publish (None: nothing changed) and the deltas."""

    event: str | None
    up: int = 0
    down: int = 0


NOTHING = Change(None)


def _delta(value: str | None, sign: int) -> tuple[int, int]:
    if value == UP:
        return sign, 0
    if value == DOWN:
        return 0, sign
    return 0, 0


def transition(previous: str | None, new: str | None) -> Change:
    """The change from the voter's previous value to the new one (None: no vote)."""
    if previous == new:
        return NOTHING
    up_old, down_old = _delta(previous, -1)
    up_new, down_new = _delta(new, +1)
    if previous is None:
        event = "voting.vote_cast"
    elif new is None:
        event = "voting.vote_withdrawn"
    else:
        event = "voting.vote_changed"
    return Change(event, up_old + up_new, down_old + down_new)


def opposite(value: str) -> str:
    return DOWN if value == UP else UP


def totals_after_each(changes) -> dict:
    """The totals `(up, down, version)` of each target just after each of its changes, from the totals
    after all of them: `changes` is `[(target, (up, down, version) after all, Change), ...]` in the
    order the changes are to be seen; each change counts one version. Returns {target: [after 1st, ...]}."""
    by_target: dict = {}
    for target, final, change in changes:
        by_target.setdefault(target, (final, []))[1].append(change)
    out = {}
    for target, ((up, down, version), seen) in by_target.items():
        states = []
        for change in reversed(seen):
            states.append((up, down, version))
            up, down, version = up - change.up, down - change.down, version - 1
        out[target] = states[::-1]
    return out
