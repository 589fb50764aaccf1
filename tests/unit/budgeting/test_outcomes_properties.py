"""Properties of the rules on random small elections, and exact agreement with pabutools on them."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.budgeting import outcomes

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def elections(draw, points=False):
    m = draw(st.integers(1, 7))
    ids = [f"p{i}" for i in range(m)]
    # few distinct costs and small budgets make ties and exact boundary cases common
    costs = {i: draw(st.sampled_from([1, 2, 3, 5, 10, 12, 20, 30])) for i in ids}
    budget = draw(st.integers(0, sum(costs.values()) + 5))
    n = draw(st.integers(0, 12))
    ballots = []
    for _ in range(n):
        chosen = draw(st.lists(st.sampled_from(ids), unique=True, max_size=m))
        if points:
            ballots.append({i: draw(st.integers(1, 5)) for i in chosen})
        else:
            ballots.append(frozenset(chosen))
    return costs, budget, ballots


def _spent(costs, sel):
    return sum(costs[i] for i in sel)


def _exhaustive(costs, budget, sel):
    left = budget - _spent(costs, sel)
    return all(i in sel or costs[i] > left for i in costs)


@SETTINGS
@given(elections())
def test_never_over_budget(e):
    costs, budget, ballots = e
    for rule in outcomes.RULES.values():
        out = rule(costs, budget, ballots)
        assert _spent(costs, out.selected) == out.spent <= budget
        assert len(set(out.selected)) == len(out.selected)


@SETTINGS
@given(elections())
def test_greedy_and_completed_mes_are_exhaustive(e):
    costs, budget, ballots = e
    assert _exhaustive(costs, budget, outcomes.greedy(costs, budget, ballots).selected)
    assert _exhaustive(costs, budget, outcomes.mes(costs, budget, ballots).selected)


@SETTINGS
@given(elections(), st.randoms(use_true_random=False))
def test_same_answer_for_any_order_of_voters(e, rnd):
    costs, budget, ballots = e
    shuffled = list(ballots)
    rnd.shuffle(shuffled)
    for rule in outcomes.RULES.values():
        assert rule(costs, budget, ballots).selected == rule(costs, budget, shuffled).selected


def _pabutools(costs, budget, ballots, points):
    from pabutools.election import (
        ApprovalBallot,
        ApprovalProfile,
        CumulativeBallot,
        CumulativeProfile,
        Instance,
        Project,
    )

    projects = {i: Project(i, c) for i, c in costs.items()}
    instance = Instance(projects.values(), budget_limit=budget)
    if points:
        profile = CumulativeProfile([CumulativeBallot({projects[i]: v for i, v in b.items()}) for b in ballots],
                                    instance=instance)
    else:
        profile = ApprovalProfile([ApprovalBallot([projects[i] for i in b]) for b in ballots], instance=instance)
    return instance, profile


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.booleans().flatmap(lambda pts: st.tuples(st.just(pts), elections(points=pts))))
def test_agrees_with_pabutools_on_small_elections(case):
    pytest.importorskip("pabutools")
    from pabutools.election import ApprovalBallot, ApprovalProfile, Cost_Sat
    from pabutools.rules import (
        greedy_utilitarian_welfare,
        method_of_equal_shares,
        sequential_phragmen,
    )

    points, (costs, budget, ballots) = case
    instance, profile = _pabutools(costs, budget, ballots, points)
    names = lambda alloc: [p.name for p in alloc]
    assert list(outcomes.greedy(costs, budget, ballots).selected) == names(
        greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat))
    assert list(outcomes.mes_raw(costs, budget, ballots).selected) == names(
        method_of_equal_shares(instance, profile, sat_class=Cost_Sat))
    raw = method_of_equal_shares(instance, profile, sat_class=Cost_Sat, voter_budget_increment=1)
    done = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat, initial_budget_allocation=raw)
    assert list(outcomes.mes(costs, budget, ballots).selected) == names(done)
    approval = profile if not points else ApprovalProfile([ApprovalBallot(list(b)) for b in profile])
    assert sorted(outcomes.phragmen(costs, budget, ballots).selected) == names(sequential_phragmen(instance, approval))


def test_outcome_fields_for_a_results_page():
    costs = {"a": 60, "b": 50, "c": 30}
    ballots = [{"a"}, {"a", "b"}, {"b", "c"}, {"c"}, set()]
    out = outcomes.greedy(costs, 100, ballots)
    assert out.selected == ("a", "c")  # a, b, c tie on 2 votes: by id; b no longer fits after a
    assert out.spent == 90 and out.leftover == 10 and out.budget == 100
    assert out.votes == {"a": 2, "b": 2, "c": 2}
    assert out.points is None
    pts = outcomes.greedy(costs, 100, [{"a": 3, "c": 2}, {"c": 1}])
    assert pts.points == {"a": 3, "b": 0, "c": 3}
    assert pts.votes == {"a": 1, "b": 0, "c": 2}


def test_string_order_tie_breaking_and_decimal_costs():
    costs = {"10": Decimal("2.5"), "9": Decimal("2.5")}
    out = outcomes.greedy(costs, Decimal("2.5"), [{"9"}, {"10"}])
    assert out.selected == ("10",)  # "10" < "9" as strings, like pabutools
    assert out.spent == Decimal("2.5") and isinstance(out.spent, Decimal)
    assert outcomes.mes(costs, Decimal(5), [{"9"}, {"10"}]).selected == ("10", "9")
    assert outcomes.mes_raw({"a": Fraction(1, 3)}, Fraction(1, 3), [{"a"}]).spent == Fraction(1, 3)


def test_invalid_input_is_rejected():
    with pytest.raises(ValueError, match="unknown item"):
        outcomes.greedy({"a": 1}, 5, [{"b"}])
    with pytest.raises(ValueError, match="positive"):
        outcomes.mes({"a": 0}, 5, [{"a"}])
    with pytest.raises(TypeError):
        outcomes.greedy({"a": 1.5}, 5, [{"a"}])
    with pytest.raises(TypeError):
        outcomes.greedy({"a": 1}, 5, ["a"])


def test_empty_elections():
    assert outcomes.mes({}, 10, []).selected == ()
    assert outcomes.mes({"a": 5}, 10, []).selected == ("a",)  # greedy completion funds it
    assert outcomes.mes_raw({"a": 5}, 10, []).selected == ()
    assert outcomes.phragmen({"a": 5}, 10, [set()]).selected == ("a",)


def test_votes_by_group():
    ballots = [{"a", "b"}, {"a"}, {"b": 2}, {"c"}]
    groups = ["F", "M", "F", None]
    assert outcomes.votes_by_group(ballots, groups) == {"F": {"a": 1, "b": 2}, "M": {"a": 1}, None: {"c": 1}}
    assert outcomes.votes_by_group(ballots, lambda i: i % 2, items=["a", "c"]) == {
        0: {"a": 1, "c": 0}, 1: {"a": 1, "c": 1}}
    with pytest.raises(ValueError):
        outcomes.votes_by_group(ballots, ["F"])
