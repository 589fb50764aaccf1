"""A vote's state as gamification sees it, converging whatever the order its events arrive in.

Cast, changed and withdrawn events of one vote carry the target's version, which grows with every
change; the event with the highest version is the vote's current state. An older event arriving late
is ignored, so a withdrawal that overtakes its cast leaves a tombstone (inactive, at the withdrawal's
version) and the late cast awards nothing; a change overtaking its cast sets the value, and the cast
that follows is ignored. Points follow the state, never the event: the ledger books the difference
between what the state is worth and what was awarded for it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

KINDS = ("cast", "changed", "withdrawn")


@dataclass(frozen=True)
class VoteState:
    version: int
    value: str | None      # "up" | "down": the value cast, or the last value held when withdrawn
    active: bool           # False once withdrawn (a tombstone when the withdrawal came first)
    anchor_at: datetime    # when the vote first became known: its day for the cap and its period


def apply(state: VoteState | None, kind: str, value: str | None, version: int, occurred_at: datetime) -> VoteState:
    """The vote's state after one of its events (a stale event leaves it as it is)."""
    if kind not in KINDS:
        raise ValueError(f"unknown vote event {kind!r}")
    if state is not None and version <= state.version:
        return state
    active = kind != "withdrawn"
    if state is None:
        return VoteState(version=version, value=value, active=active, anchor_at=occurred_at)
    return replace(state, version=version, value=value if value is not None else state.value, active=active)
