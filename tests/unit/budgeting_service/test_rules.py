"""Phases, settings that freeze once voting starts, and ballots checked against their rules."""
import pytest

from services.budgeting import rules
from services.common.errors import Conflict, ValidationFailed

COSTS = {"a": 300, "b": 500, "c": 600}


def issues(exc):
    return {d["field"]: d["issue"] for d in exc.value.details}


def test_phases_go_forward_only():
    for old, new in (("collecting", "voting"), ("voting", "closed"), ("collecting", "closed"), ("voting", "voting")):
        rules.check_phase_change(old, new)
    for old, new in (("voting", "collecting"), ("closed", "voting"), ("closed", "collecting")):
        with pytest.raises(Conflict):
            rules.check_phase_change(old, new)


def test_settings_change_only_while_collecting():
    current = {"total": 1000, "currency": "EUR", "ballot": rules.normalized_ballot({"type": "approval"})}
    rules.check_settings_change("collecting", current, {"total": 5})
    rules.check_settings_change("voting", current, {"total": 1000, "phase": "closed"})  # unchanged is fine
    with pytest.raises(Conflict) as exc:
        rules.check_settings_change("voting", current, {"total": 5, "currency": "USD"})
    assert set(issues(exc)) == {"total", "currency"}


def test_ballot_shape_follows_the_type():
    assert rules.ballot_of({"type": "approval"}, ["a"], None) == ["a"]
    assert rules.ballot_of({"type": "cumulative", "points": 3}, None, {"a": 2}) == {"a": 2}
    with pytest.raises(ValidationFailed) as exc:
        rules.ballot_of({"type": "knapsack"}, None, {"a": 1})
    assert "item_ids" in issues(exc)
    with pytest.raises(ValidationFailed) as exc:
        rules.ballot_of({"type": "cumulative", "points": 3}, ["a"], None)
    assert "points" in issues(exc)


def test_broken_rules_are_named_on_the_api_fields():
    approval = rules.normalized_ballot({"type": "approval", "min_items": 1, "max_items": 2})
    rules.check_ballot(["a", "b"], COSTS, approval, 1000)
    with pytest.raises(ValidationFailed) as exc:
        rules.check_ballot(["a", "b", "c", "zz"], COSTS, approval, 1000)
    assert "at most 2 items" in issues(exc)["item_ids"] and "unknown item" in issues(exc)["item_ids[3]"]
    knapsack = rules.normalized_ballot({"type": "knapsack", "min_spend_share": "0.5"})
    with pytest.raises(ValidationFailed) as exc:
        rules.check_ballot(["b", "c"], COSTS, knapsack, 1000)
    assert "more than the 1000 available" in issues(exc)["item_ids"]
    with pytest.raises(ValidationFailed):
        rules.check_ballot(["a"], COSTS, knapsack, 1000)  # under half of the total
    cumulative = rules.normalized_ballot({"type": "cumulative", "points": 5})
    with pytest.raises(ValidationFailed) as exc:
        rules.check_ballot({"a": 4, "b": 2}, COSTS, cumulative, 1000)
    assert "at most 5 allowed" in issues(exc)["points"]


def test_chosen_items_of_a_ballot():
    assert rules.chosen(["a", "b"]) == ["a", "b"]
    assert rules.chosen({"a": 2, "b": 0}) == ["a"]
