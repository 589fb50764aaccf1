"""The ranking formulas behind the idea sorts."""
import random
from datetime import datetime, timedelta, timezone

import pytest

from services.ideas import ranking

T0 = datetime(2026, 5, 4, 9, 30, tzinfo=timezone.utc)
H = timedelta(seconds=ranking.HALF_LIFE_SECONDS)


def test_popular_is_up_minus_down():
    assert ranking.popular(10, 3) == 7 and ranking.popular(0, 2) == -2


def test_controversial_wants_many_votes_split_evenly():
    c = ranking.controversy
    assert c(10, 0) == 0 == c(0, 10) == c(0, 0)
    assert c(10, 10) == 20.0
    assert c(10, 10) > c(10, 9) > c(10, 1)          # more even is more controversial
    assert c(50, 50) > c(10, 10)                    # more votes is more controversial
    assert c(3, 7) == c(7, 3)


@pytest.mark.parametrize("name, value, previous, delta", [
    ("vote_cast", "up", None, 1), ("vote_cast", "down", None, -1),
    ("vote_changed", "up", "down", 2), ("vote_changed", "down", "up", -2),
    ("vote_withdrawn", "up", None, -1), ("vote_withdrawn", "down", None, 1),
])
def test_vote_delta(name, value, previous, delta):
    assert ranking.vote_delta(name, value, previous) == delta


def test_vote_delta_rejects_other_events():
    with pytest.raises(ValueError):
        ranking.vote_delta("poll_answered", "up")


def test_a_vote_counts_half_after_one_half_life():
    score, at = ranking.add_vote(0.0, None, 1, T0)
    assert ranking.trending_at(score, at, T0) == 1.0
    assert ranking.trending_at(score, at, T0 + H) == pytest.approx(0.5)
    assert ranking.trending_at(score, at, T0 + 3 * H) == pytest.approx(0.125)
    assert ranking.trending_at(0.0, None, T0) == 0.0


def test_recent_votes_beat_more_old_votes():
    old = (0.0, None)
    for _ in range(6):
        old = ranking.add_vote(*old, 1, T0 - timedelta(days=3))
    recent = ranking.add_vote(*ranking.add_vote(0.0, None, 1, T0), 1, T0)
    assert ranking.trending_at(*recent, T0) > ranking.trending_at(*old, T0)


def test_stored_pair_matches_the_definition_in_any_order_of_arrival():
    rng = random.Random(7)
    changes = [(rng.choice([1, -1, 2, -2]), T0 + timedelta(minutes=rng.randint(-5000, 5000))) for _ in range(40)]
    now = T0 + timedelta(days=4)
    expected = ranking.trending(changes, now)
    for _ in range(3):
        rng.shuffle(changes)
        score, at = 0.0, None
        for delta, t in changes:
            score, at = ranking.add_vote(score, at, delta, t)
        assert ranking.trending_at(score, at, now) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_very_old_scores_fade_without_underflow():
    score, at = ranking.add_vote(0.0, None, 1, T0 - timedelta(days=3650))
    assert 0.0 <= ranking.trending_at(score, at, T0) < 1e-200
    score, at = ranking.add_vote(score, at, 1, T0)
    assert ranking.trending_at(score, at, T0) == pytest.approx(1.0)
