"""The vote totals of ideas and comments, kept from the voting service's events, a batch at a time.

The rows of a batch are locked in one statement, in id order (two batches never wait on each other in a
circle; store.lock_vote_rows), each event is folded into its row's state in arrival order (here: totals
only from a newer version of the target; the trending score from every change, in any order), and every
changed row is written back in one statement per table (store.write_vote_rows).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.ideas import ranking


@dataclass
class VoteRow:
    """A target's vote state as locked for a batch, and what the batch changes of it."""

    city_id: object
    votes_version: int
    trend_score: float
    trend_at: datetime | None
    totals: tuple[int, int] | None = None
    changed: bool = False


def fold(row: VoteRow, target_type: str, event_name: str, vote, occurred_at: datetime) -> None:
    """Apply one voting event (`vote`: schemas.VoteEvent) to its target's row."""
    if target_type == "idea":
        delta = ranking.vote_delta(event_name, vote.value, vote.previous_value)
        row.trend_score, row.trend_at = ranking.add_vote(row.trend_score, row.trend_at, delta, occurred_at)
        row.changed = True
    if vote.target_version > row.votes_version:
        row.votes_version, row.totals, row.changed = vote.target_version, (vote.up_votes, vote.down_votes), True
