"""Ranks with ties, periods, badge levels, streaks and the rules as data."""
from datetime import date, datetime, timezone

import pytest
from pydantic import ValidationError

from services.gamification import badges, ranking, rulebook
from services.gamification.schemas import EngagedQuery, RulesChange


def test_standard_competition_ranking():
    assert ranking.ranks([50, 40, 40, 30, 30, 30, 10]) == [1, 2, 2, 4, 4, 4, 7]
    assert ranking.ranks([]) == []
    assert ranking.ranks([7, 7, 7]) == [1, 1, 1]


def test_ranks_of_a_later_page():
    # everyone: 50 40 40 | 40 30 20 ; the second page starts after 3 rows, its first row ties at rank 2
    assert ranking.ranks([40, 30, 20], first_rank=2, position=3) == [2, 5, 6]
    assert ranking.ranks([30, 20], first_rank=5, position=4) == [5, 6]


def test_period_keys_are_utc_calendar_buckets():
    at = datetime(2026, 1, 1, 0, 30, tzinfo=timezone.utc)  # a Thursday in ISO week 1 of 2026
    assert ranking.period_keys(at) == ["all", "month:2026-01", "week:2026-W01"]
    assert ranking.period_key("week", datetime(2027, 1, 1, tzinfo=timezone.utc)) == "week:2026-W53"
    with pytest.raises(ValueError):
        ranking.period_key("year", at)


def test_badge_levels():
    assert badges.level_for(0, [1, 5, 25]) == 0
    assert badges.level_for(5, [1, 5, 25]) == 2
    assert badges.level_for(1000, [1, 5, 25]) == 3
    assert badges.new_levels({"ideas_posted": 6}, {"ideas_posted": [1, 5, 25]}, {}) == [
        ("ideas_posted", 1), ("ideas_posted", 2)]
    assert badges.new_levels({"ideas_posted": 6}, {"ideas_posted": [1, 5, 25]}, {"ideas_posted": 2}) == []
    # counts going down never take a level back
    assert badges.new_levels({"ideas_posted": 0}, {"ideas_posted": [1, 5]}, {"ideas_posted": 1}) == []


def test_longest_streak():
    d = date(2026, 5, 1)
    days = [d, date(2026, 5, 2), date(2026, 5, 3), date(2026, 5, 5), date(2026, 5, 2)]
    assert badges.longest_streak(days) == 3
    assert badges.longest_streak([]) == 0
    assert badges.longest_streak([date(2026, 2, 28), date(2026, 3, 1)]) == 2


def test_rules_defaults_and_overrides():
    r = rulebook.effective(None)
    assert r["points"]["idea_upvoted"] == 5 and r["points"]["comment_upvoted"] == 2
    assert r["points"]["idea_accepted"] == 20 and r["points"]["idea_implemented"] == 50
    assert r["points"]["idea_posted"] == 1 and r["daily_cap_per_pair"] == 3
    over = rulebook.merge_overrides(None, {"points": {"idea_upvoted": 10}, "daily_cap_per_pair": 5})
    over = rulebook.merge_overrides(over, {"badges": {"ideas_posted": [2, 4]}})
    r = rulebook.effective(over)
    assert r["points"]["idea_upvoted"] == 10 and r["points"]["comment_upvoted"] == 2
    assert r["daily_cap_per_pair"] == 5 and r["badges"]["ideas_posted"] == [2, 4]
    assert rulebook.DEFAULTS["points"]["idea_upvoted"] == 5  # defaults untouched
    described = rulebook.describe(r)
    assert described["down_votes"] == 0
    assert {b["badge"] for b in described["badges"]} == set(rulebook.BADGES)


def test_rules_changes_are_validated():
    RulesChange.model_validate({"points": {"idea_upvoted": 7}, "levels": [5, 10]})
    for bad in ({"points": {"idea_flagged": 1}}, {"points": {"idea_upvoted": -5}},
                {"badges": {"ideas_posted": [5, 5]}}, {"badges": {"nope": [1]}}, {"levels": []},
                {"daily_cap_per_pair": -1}, {"surprise": 1}):
        with pytest.raises(ValidationError):
            RulesChange.model_validate(bad)


def test_engaged_query_accepts_dates_and_refuses_an_empty_period():
    q = EngagedQuery.model_validate({"from": "2026-05-01", "to": "2026-06-01T00:00:00Z", "format": "csv"})
    assert q.from_.day == 1 and q.format == "csv"
    with pytest.raises(ValidationError):
        EngagedQuery.model_validate({"from": "2026-06-01", "to": "2026-05-01"})


def test_a_vote_is_what_it_is_but_earns_and_gives_back_as_an_up_vote():
    assert rulebook.vote_reason("idea", "up") == "idea_upvoted"
    assert rulebook.vote_reason("comment", "down") == "comment_downvoted"
    r = rulebook.effective(None)
    assert rulebook.vote_points(r, "idea_upvoted") == 5 and rulebook.vote_points(r, "idea_downvoted") == 0
    assert rulebook.booked_as("vote", "idea_downvoted", "idea") == "idea_upvoted"
    assert rulebook.booked_as("idea_posted", "idea_posted", "idea") == "idea_posted"
