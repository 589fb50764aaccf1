"""How ideas are ranked: the formulas behind `?sort=popular|trending|controversial`.

- popular:       up − down.
- controversial: many votes, split evenly: (up + down) ** (min(up, down) / max(up, down)), and 0 when
                 either side has no votes (reddit's formula). 10 up / 10 down → 20.0; 10 up / 1 down → 1.35;
                 100 up / 0 down → 0.
- trending:      recent votes weigh more. Every vote event changes the net count by `delta` (+1 for an up
                 vote cast, −1 for a down vote, +2 for down → up, −1 for an up vote withdrawn, ...) and each
                 change counts with weight 2 ** (−age / HALF_LIFE): a vote cast HALF_LIFE ago counts half
                 as much as one cast now.

                     trending(now) = Σ delta_i · 2 ** (−(now − t_i) / HALF_LIFE)

                 Stored as a pair (score, at) = the sum decayed to the time `at` of the newest vote seen,
                 so each vote event is an O(1) update (`add_vote`), events may arrive in any order, and the
                 value at any time is score · 2 ** (−(t − at) / HALF_LIFE) (`trending_at`; the SQL in
                 listing.py computes the same). All ideas decay at the same rate, so their order changes
                 only when votes arrive; a list fixes `now` in its cursor so its pages agree with each other.
"""
from __future__ import annotations

from datetime import datetime

HALF_LIFE_SECONDS = 12 * 3600.0
# The smallest exponent used: 2 ** -1000 is about 1e-301, still a normal float (PostgreSQL refuses to underflow).
MIN_EXPONENT = -1000.0

_SIGN = {"up": 1, "down": -1, None: 0}


def popular(up: int, down: int) -> int:
    return int(up) - int(down)


def controversy(up: int, down: int) -> float:
    up, down = int(up), int(down)
    if up <= 0 or down <= 0:
        return 0.0
    return float((up + down) ** (min(up, down) / max(up, down)))


def vote_delta(event_name: str, value: str | None, previous_value: str | None = None) -> int:
    """How much one voting event changes the net (up − down) count of its target."""
    if event_name in ("vote_cast", "vote_changed"):
        return _SIGN[value] - _SIGN[previous_value]
    if event_name == "vote_withdrawn":
        return -_SIGN[value]
    raise ValueError(f"not a voting event: {event_name!r}")


def _factor(seconds: float) -> float:
    """2 ** (seconds / HALF_LIFE), floored so that very old scores become ~0 rather than underflow."""
    return 2.0 ** max(seconds / HALF_LIFE_SECONDS, MIN_EXPONENT)


def add_vote(score: float, at: datetime | None, delta: int, voted_at: datetime) -> tuple[float, datetime]:
    """The trending pair after one more vote change of `delta` at `voted_at` (in any order of arrival)."""
    if at is None:
        return float(delta), voted_at
    ref = max(at, voted_at)
    new = score * _factor((at - ref).total_seconds()) + delta * _factor((voted_at - ref).total_seconds())
    return new, ref


def trending_at(score: float, at: datetime | None, now: datetime) -> float:
    """The trending value of a stored pair at time `now`."""
    if at is None:
        return 0.0
    return score * _factor((at - now).total_seconds())


def trending(changes: list[tuple[int, datetime]], now: datetime) -> float:
    """The definition, straight: Σ delta · 2 ** (−age / HALF_LIFE). Used to check `add_vote`."""
    return sum(delta * _factor((t - now).total_seconds()) for delta, t in changes)
