"""Folding voting events into a target's vote state: totals from newer versions only, trending from every change."""
from datetime import datetime, timezone
from types import SimpleNamespace

from services.ideas.vote_counts import VoteRow, fold

T0 = datetime(2026, 5, 4, 9, 30, tzinfo=timezone.utc)


def _vote(up, down, version, value="up", previous=None):
    return SimpleNamespace(value=value, previous_value=previous, up_votes=up, down_votes=down, target_version=version)


def test_totals_come_from_the_newest_version_only():
    row = VoteRow(city_id="c", votes_version=0, trend_score=0.0, trend_at=None)
    fold(row, "comment", "vote_cast", _vote(3, 1, 3), T0)
    fold(row, "comment", "vote_cast", _vote(9, 9, 2), T0)
    assert (row.totals, row.votes_version, row.changed) == ((3, 1), 3, True)
    assert row.trend_score == 0.0  # comments have no trending score


def test_every_change_of_an_idea_moves_its_trending_score():
    row = VoteRow(city_id="c", votes_version=5, trend_score=0.0, trend_at=None)
    fold(row, "idea", "vote_cast", _vote(1, 0, 1), T0)  # an old version: totals stay, trending moves
    assert row.totals is None and row.trend_score == 1.0 and row.trend_at == T0
    fold(row, "idea", "vote_changed", _vote(0, 1, 6, value="down", previous="up"), T0)
    assert row.trend_score == -1.0 and row.totals == (0, 1)
    fold(row, "idea", "vote_withdrawn", _vote(0, 0, 7, value="down"), T0)
    assert row.trend_score == 0.0 and row.totals == (0, 0)
