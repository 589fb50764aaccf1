"""Voting rules and what each vote change does to a target's totals."""
import pytest

from services.common.errors import Conflict
from services.voting.rules import (
    NOTHING, Project, Target, check_vote, check_withdraw, totals_after_each, transition,
)

AUTHOR, VOTER = "author", "voter"
ACTIVE = Project(status="active", allow_down_votes=True)


def idea(**kw):
    return Target(**{"target_type": "idea", "target_id": "i1", "idea_id": "i1", "project_id": "p1",
                     "author_id": AUTHOR, **kw})


def test_an_open_visible_idea_of_someone_else_takes_up_and_down_votes():
    check_vote(idea(), ACTIVE, VOTER, "up")
    check_vote(idea(), ACTIVE, VOTER, "down")


@pytest.mark.parametrize("target, project, voter, value, words", [
    (idea(), ACTIVE, AUTHOR, "up", "own idea"),
    (idea(hidden=True), ACTIVE, VOTER, "up", "hidden"),
    (idea(deleted=True), ACTIVE, VOTER, "up", "deleted"),
    (idea(), Project(status="closed"), VOTER, "up", "closed"),
    (idea(), Project(status="draft"), VOTER, "up", "not open"),
    (idea(), Project(status="active", allow_down_votes=False), VOTER, "down", "Down votes"),
])
def test_refusals_are_conflicts(target, project, voter, value, words):
    with pytest.raises(Conflict, match=words):
        check_vote(target, project, voter, value)


def test_up_votes_stay_allowed_when_down_votes_are_off():
    check_vote(idea(), Project(status="active", allow_down_votes=False), VOTER, "up")


def test_a_comment_of_a_hidden_or_deleted_idea_takes_no_votes():
    comment = Target("comment", "c1", "i1", "p1", AUTHOR)
    with pytest.raises(Conflict, match="hidden"):
        check_vote(comment, ACTIVE, VOTER, "up", idea=idea(hidden=True))
    with pytest.raises(Conflict, match="deleted"):
        check_vote(comment, ACTIVE, VOTER, "up", idea=idea(deleted=True))
    check_vote(comment, ACTIVE, VOTER, "up", idea=idea())


def test_withdrawing_needs_an_open_project():
    check_withdraw(ACTIVE)
    with pytest.raises(Conflict):
        check_withdraw(Project(status="closed"))


@pytest.mark.parametrize("previous, new, event, up, down", [
    (None, "up", "voting.vote_cast", 1, 0),
    (None, "down", "voting.vote_cast", 0, 1),
    ("up", "down", "voting.vote_changed", -1, 1),
    ("down", "up", "voting.vote_changed", 1, -1),
    ("up", None, "voting.vote_withdrawn", -1, 0),
    ("down", None, "voting.vote_withdrawn", 0, -1),
])
def test_transitions(previous, new, event, up, down):
    change = transition(previous, new)
    assert (change.event, change.up, change.down) == (event, up, down)


@pytest.mark.parametrize("value", [None, "up", "down"])
def test_the_same_value_again_changes_nothing(value):
    assert transition(value, value) == NOTHING


def test_any_sequence_of_changes_keeps_totals_equal_to_the_votes():
    import random

    rng = random.Random(7)
    votes, up, down = {}, 0, 0
    for _ in range(2000):
        voter, new = rng.randrange(20), rng.choice([None, "up", "down"])
        change = transition(votes.get(voter), new)
        up, down = up + change.up, down + change.down
        if new is None:
            votes.pop(voter, None)
        else:
            votes[voter] = new
        assert up == sum(v == "up" for v in votes.values()) and down == sum(v == "down" for v in votes.values())


def test_totals_after_each_change_of_a_batch_replay_the_changes_one_by_one():
    import random

    rng = random.Random(11)
    start = {"a": (3, 1, 4), "b": (0, 0, 0)}  # (up, down, version) before the batch
    votes = {("a", v): rng.choice(["up", "down"]) for v in range(4)}
    state = dict(start)
    seen, changes = [], []
    for _ in range(30):  # a batch: cast or switched votes on two targets, in this order
        target, voter = rng.choice("ab"), rng.randrange(8)
        change = transition(votes.get((target, voter)), rng.choice(["up", "down"]))
        if change.event is None:
            continue
        votes[(target, voter)] = "up" if change.up > 0 else "down"
        up, down, version = state[target]
        state[target] = (up + change.up, down + change.down, version + 1)
        seen.append((target, state[target]))
        changes.append((target, change))
    replayed = totals_after_each([(t, state[t], c) for t, c in changes])
    assert [(t, replayed[t].pop(0)) for t, _ in seen] == seen
