"""Votes converge whatever the order of their events; the ledger books exactly the difference."""
from datetime import datetime, timedelta, timezone
from itertools import permutations

import pytest

from services.gamification import votes
from services.gamification.ledger import Subject, counting, deltas

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=timezone.utc)
AUTHOR, VOTER = "author", "voter"


class Book:
    """A minimal in-memory ledger driven like the service: vote events -> state -> settle."""

    def __init__(self, cap=3, points=5):
        self.cap, self.points = cap, points
        self.states: dict[str, votes.VoteState] = {}
        self.awarded: dict[str, int] = {}
        self.meta: dict[str, tuple] = {}
        self.entries: list[int] = []
        self.hidden: set = set()

    def vote(self, vote_id, kind, value, version, at=T0, voter=VOTER, author=AUTHOR, target=None):
        self.meta[vote_id] = (voter, author, target or ("idea", vote_id))
        self.states[vote_id] = votes.apply(self.states.get(vote_id), kind, value, version, at)
        self.settle()

    def subjects(self):
        out = []
        for vote_id, st in self.states.items():
            voter, author, target = self.meta[vote_id]
            out.append(Subject(key=f"vote:{vote_id}", user_id=author, kind="vote", points=self.points,
                               active=st.active, awarded=self.awarded.get(vote_id, 0), target=target,
                               voter_id=voter, value=st.value, anchor_at=st.anchor_at))
        return out

    def settle(self):
        for subject, delta, _ in deltas(self.subjects(), self.hidden, self.cap):
            if delta:
                self.entries.append(delta)
                vid = subject.key.split(":", 1)[1]
                self.awarded[vid] = self.awarded.get(vid, 0) + delta

    @property
    def total(self):
        return sum(self.entries)


CAST = ("cast", "up", 1)
TO_DOWN = ("changed", "down", 2)
WITHDRAW = ("withdrawn", "down", 3)


@pytest.mark.parametrize("order", list(permutations([CAST, TO_DOWN, WITHDRAW])))
def test_cast_changed_withdrawn_in_every_order_end_at_zero(order):
    book = Book()
    for kind, value, version in order:
        book.vote("v1", kind, value, version)
    assert book.total == 0
    assert book.states["v1"].active is False and book.states["v1"].version == 3


@pytest.mark.parametrize("order", list(permutations([("cast", "down", 1), ("changed", "up", 2)])))
def test_down_then_up_earns_once_in_either_order(order):
    book = Book()
    for kind, value, version in order:
        book.vote("v1", kind, value, version)
    assert book.total == 5 and all(e > 0 for e in book.entries)


def test_withdrawal_before_cast_leaves_a_tombstone():
    book = Book()
    book.vote("v1", "withdrawn", "up", 2)
    book.vote("v1", "cast", "up", 1)
    assert book.total == 0 and book.entries == []


def test_withdrawal_reverses_exactly_what_was_awarded():
    book = Book()
    book.vote("v1", "cast", "up", 1)
    book.vote("v1", "withdrawn", "up", 2)
    assert book.entries == [5, -5]


def test_replaying_events_books_nothing_more():
    book = Book()
    events = [("cast", "up", 1), ("changed", "down", 2), ("changed", "up", 3)]
    for e in events + events:
        book.vote("v1", *e)
    assert book.total == 5 and book.entries == [5, -5, 5]


def test_recast_after_withdrawal_with_a_higher_version_counts_again():
    book = Book()
    for e in [("cast", "up", 1), ("withdrawn", "up", 2), ("cast", "up", 3)]:
        book.vote("v1", *e)
    assert book.total == 5


def test_daily_cap_per_voter_and_author():
    book = Book(cap=3)
    for i in range(5):
        book.vote(f"v{i}", "cast", "up", 1, at=T0 + timedelta(minutes=i))
    assert book.total == 15
    # another voter, or the next day, is not capped by it
    book.vote("w", "cast", "up", 1, voter="other")
    book.vote("x", "cast", "up", 1, at=T0 + timedelta(days=1))
    assert book.total == 25


def test_a_freed_slot_goes_to_the_next_vote_of_the_day():
    book = Book(cap=3)
    for i in range(4):
        book.vote(f"v{i}", "cast", "up", 1, at=T0 + timedelta(minutes=i))
    book.vote("v0", "withdrawn", "up", 2)
    assert book.total == 15
    assert book.awarded == {"v0": 0, "v1": 5, "v2": 5, "v3": 5}


@pytest.mark.parametrize("seed", range(6))
def test_capped_totals_do_not_depend_on_arrival_order(seed):
    import random

    rng = random.Random(seed)
    events = []
    for i in range(6):
        at = T0 + timedelta(minutes=i)
        events.append((f"v{i}", "cast", "up", 1, at))
        if i % 2:
            events.append((f"v{i}", "withdrawn", "up", 2, at + timedelta(hours=1)))
    results = set()
    for _ in range(5):
        rng.shuffle(events)
        book = Book(cap=2)
        for vote_id, kind, value, version, at in events:
            book.vote(vote_id, kind, value, version, at=at)
        results.add((book.total, tuple(sorted((k, v) for k, v in book.awarded.items() if v))))
    assert len(results) == 1
    assert next(iter(results))[0] == 10


def test_self_votes_and_down_votes_earn_nothing():
    book = Book()
    book.vote("self", "cast", "up", 1, voter=AUTHOR)
    book.vote("down", "cast", "down", 1)
    assert book.total == 0


def test_hidden_content_earns_nothing_until_restored():
    book = Book()
    book.vote("v1", "cast", "up", 1, target=("idea", "i1"))
    book.hidden.add(("idea", "i1"))
    book.settle()
    assert book.total == 0 and book.entries == [5, -5]
    book.hidden.clear()
    book.settle()
    assert book.total == 5


def test_counting_non_vote_subjects():
    s = [Subject("idea:1:posted", "a", "idea_posted", 1, target=("idea", "1"), anchor_at=T0),
         Subject("idea:2:posted", "a", "idea_posted", 1, target=("idea", "2"), anchor_at=T0),
         Subject("ballot:p:a", "a", "ballot_submitted", 3, anchor_at=T0)]
    assert counting(s, {("idea", "2")}, 3) == {"idea:1:posted": True, "idea:2:posted": False, "ballot:p:a": True}


def test_unknown_vote_event_kind_is_refused():
    with pytest.raises(ValueError):
        votes.apply(None, "deleted", "up", 1, T0)
