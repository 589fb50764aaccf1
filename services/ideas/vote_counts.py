"""The vote totals of ideas and comments, kept from the voting service's events, a batch at a time.

The rows of a batch are locked in one statement, in id order (two batches never wait on each other in a
circle), each event is folded into its row's state in arrival order (totals only from a newer version of
the target; the trending score from every change, in any order), and every changed row is written back
in one statement per table.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from services.common import logs
from services.common.errors import validate
from services.ideas import ranking, schemas
from services.ideas.models import TARGETS

_LOCK = {
    t.name: text(
        f"SELECT id, city_id, votes_version, trend_score, trend_at FROM ideas.{t.name} "
        "WHERE id = ANY(CAST(:ids AS uuid[])) ORDER BY id FOR UPDATE"
    )
    for t in TARGETS.values()
}


@dataclass
class _Row:
    city_id: object
    votes_version: int
    trend_score: float
    trend_at: datetime | None
    totals: tuple[int, int] | None = None
    changed: bool = False


def apply(tx, events) -> None:
    votes = [(event, validate(schemas.VoteEvent, event.data)) for event in events]
    for target_type, table in TARGETS.items():
        mine = [(e, v) for e, v in votes if v.target_type == target_type]
        if mine:
            _apply_to(tx, table, target_type, mine)


def _apply_to(tx, table, target_type: str, votes) -> None:
    ids = sorted({str(v.target_id) for _, v in votes})
    rows = {
        r.id: _Row(r.city_id, r.votes_version, r.trend_score, r.trend_at)
        for r in tx.execute(_LOCK[table.name], {"ids": ids})
    }
    for event, vote in votes:
        row = rows.get(vote.target_id)
        if row is None or row.city_id != event.city_id:
            logs.get().warning("vote_for_unknown_target", target_type=target_type, target_id=str(vote.target_id))
            continue
        if target_type == "idea":
            delta = ranking.vote_delta(event.name, vote.value, vote.previous_value)
            row.trend_score, row.trend_at = ranking.add_vote(row.trend_score, row.trend_at, delta, event.occurred_at)
            row.changed = True
        if vote.target_version > row.votes_version:
            row.votes_version, row.totals, row.changed = vote.target_version, (vote.up_votes, vote.down_votes), True
    changed = [(target_id, row) for target_id, row in rows.items() if row.changed]
    if changed:
        _write(tx, table.name, changed)


# One UPDATE for every changed row of a table; totals only where a newer version brought them.
_WRITE = {
    t.name: text(
        f"""
        UPDATE ideas.{t.name} AS t SET
            trend_score = u.trend_score, trend_at = u.trend_at,
            up_votes = COALESCE(u.up_votes, t.up_votes), down_votes = COALESCE(u.down_votes, t.down_votes),
            votes_version = u.votes_version, controversy = COALESCE(u.controversy, t.controversy)
        FROM unnest(CAST(:ids AS uuid[]), CAST(:scores AS float8[]), CAST(:ats AS timestamptz[]),
                    CAST(:ups AS integer[]), CAST(:downs AS integer[]), CAST(:versions AS bigint[]),
                    CAST(:controversies AS float8[]))
             AS u(id, trend_score, trend_at, up_votes, down_votes, votes_version, controversy)
        WHERE t.id = u.id
        """
    )
    for t in TARGETS.values()
}


def _write(tx, table_name: str, changed) -> None:
    tx.execute(
        _WRITE[table_name],
        {
            "ids": [str(i) for i, _ in changed],
            "scores": [r.trend_score for _, r in changed],
            "ats": [r.trend_at for _, r in changed],
            "ups": [r.totals[0] if r.totals else None for _, r in changed],
            "downs": [r.totals[1] if r.totals else None for _, r in changed],
            "versions": [r.votes_version for _, r in changed],
            "controversies": [ranking.controversy(*r.totals) if r.totals else None for _, r in changed],
        },
    )
