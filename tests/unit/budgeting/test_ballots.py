from __future__ import annotations

from decimal import Decimal

import pytest

from services.budgeting.ballots import (
    ApprovalRules,
    BallotError,
    CumulativeRules,
    KnapsackRules,
    Violation,
    ensure_valid,
    validate,
)

COSTS = {"a": 100, "b": 250, "c": Decimal("49.5"), "d": 600}


def fields(violations):
    return [v.field for v in violations]


def test_approval_limits_unknown_and_duplicates():
    r = ApprovalRules(min_items=1, max_items=2)
    assert validate(["a", "b"], COSTS, r) == []
    assert fields(validate([], COSTS, r)) == ["items"]
    assert "at most 2 items" in validate(["a", "b", "c"], COSTS, r)[0].issue
    v = validate(["a", "zz", "a"], COSTS, r)
    assert fields(v) == ["items[1]", "items[2]"]
    assert "unknown item 'zz'" in v[0].issue and "more than once" in v[1].issue
    assert fields(validate("ab", COSTS, r)) == ["items"]
    assert fields(validate({"a": 1}, COSTS, r)) == ["items"]


def test_knapsack_total_and_min_spend():
    r = KnapsackRules(total=400, min_spend_share=Decimal("0.5"))
    assert validate(["a", "b"], COSTS, r) == []
    over = validate(["b", "d"], COSTS, r)
    assert fields(over) == ["items"] and "more than the 400" in over[0].issue
    under = validate(["c"], COSTS, r)
    assert fields(under) == ["items"] and "at least 50%" in under[0].issue
    assert validate(["a", "b", "c"], COSTS, KnapsackRules(total=Decimal("399.5"))) == []


def test_cumulative_points():
    r = CumulativeRules(points=10, max_items=2)
    assert validate({"a": 6, "b": 4}, COSTS, r) == []
    assert validate({"a": 6, "b": 0}, COSTS, r) == []
    v = validate({"a": 6, "b": 5}, COSTS, r)
    assert fields(v) == ["points"] and "11 points given" in v[0].issue
    v = validate({"a": -1, "b": 1.5, "zz": 1, "c": True}, COSTS, r)
    assert fields(v) == ["points.a", "points.b", "points.zz", "points.c"]
    assert "at most 2 items" in validate({"a": 1, "b": 1, "c": 1}, COSTS, r)[0].issue
    assert fields(validate(["a"], COSTS, r)) == ["points"]


def test_ensure_valid_raises_with_422_payload():
    ensure_valid(["a"], COSTS, ApprovalRules())
    with pytest.raises(BallotError) as info:
        ensure_valid(["zz"], COSTS, ApprovalRules(min_items=2))
    assert info.value.as_dicts() == [
        {"field": "items[0]", "issue": "unknown item 'zz'"},
        {"field": "items", "issue": "choose at least 2 items (0 chosen)"},
    ]
    assert Violation("x", "y").as_dict() == {"field": "x", "issue": "y"}


def test_rules_reject_inconsistent_limits():
    with pytest.raises(ValueError):
        ApprovalRules(min_items=3, max_items=1)
    with pytest.raises(ValueError):
        KnapsackRules(total=10, min_spend_share=2)
    with pytest.raises(ValueError):
        CumulativeRules(points=-1)
    with pytest.raises(TypeError):
        validate(["a"], COSTS, object())
