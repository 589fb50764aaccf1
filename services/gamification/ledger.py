"""What each thing that earns points is worth now, and the ledger entries that make it so.

A *subject* is one thing that earns points for one user: an idea posted, a comment posted, a vote, an
idea reaching a status, a ballot. Its key names it (`vote:<vote_id>`, `idea:<id>:posted`, ...), so
whichever event touches it, it is the same subject. Each subject remembers the points awarded for it
so far; the ledger books `worth - awarded` whenever the two differ. Reversals are therefore exact
(a withdrawn vote gives back what it earned, no more), replays book nothing, and the final totals
depend only on the final state of the subjects, not on the order of the events that led there.

A subject counts when it is active, its content is visible (not hidden, not deleted) and, for votes,
it is an up vote by someone other than the author and within the daily cap for that voter and author:
only the first `cap` counting up votes of one voter to one author on one day (by when they were cast)
count, so freeing a slot (a withdrawal, a hidden idea) lets the next one count.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class Subject:
    key: str
    user_id: str               # who earns the points
    kind: str                  # idea_posted | comment_posted | idea_accepted | idea_implemented | ballot_submitted | vote
    points: int                # what it is worth when it counts (fixed by the rules when it was earned)
    active: bool = True
    awarded: int = 0           # net points booked for it so far
    target: tuple | None = None  # (target_type, target_id) of the content it belongs to
    voter_id: str | None = None
    value: str | None = None   # votes: "up" | "down"
    anchor_at: datetime | None = None

    @property
    def day(self) -> date | None:
        return self.anchor_at.date() if self.anchor_at else None

    @property
    def pair_day(self) -> tuple:
        return (self.voter_id, self.user_id, self.day)


def counting(subjects: list[Subject], hidden: set, cap: int) -> dict[str, bool]:
    """Whether each subject counts now (see the module's description)."""
    result: dict[str, bool] = {}
    groups: dict[tuple, list[Subject]] = {}
    for s in subjects:
        ok = s.active and (s.target is None or tuple(s.target) not in hidden)
        if s.kind == "vote":
            ok = ok and s.value == "up" and s.voter_id != s.user_id
            if ok:
                groups.setdefault(s.pair_day, []).append(s)
                continue
        result[s.key] = ok
    for group in groups.values():
        group.sort(key=lambda s: (s.anchor_at, s.key))
        for i, s in enumerate(group):
            result[s.key] = i < max(cap, 0)
    return result


def worth(subject: Subject, counts: bool) -> int:
    return subject.points if counts else 0


def deltas(subjects: list[Subject], hidden: set, cap: int) -> list[tuple[Subject, int, bool]]:
    """`(subject, points to book, counts)` for every subject: the points are what it is worth now minus
    what it was awarded (0 when nothing changes), `counts` whether it counts now (for badges)."""
    counts = counting(subjects, hidden, cap)
    out = []
    for s in subjects:
        delta = worth(s, counts[s.key]) - s.awarded
        out.append((s, delta, counts[s.key]))
    return out
