"""Results by rule over item keys, mapped back to item ids; splits by group."""
from decimal import Decimal

from services.budgeting import tally

ITEMS = [tally.Item("id-a", "a", 300), tally.Item("id-b", "b", 500), tally.Item("id-c", "c", Decimal("600.5"))]
BALLOTS = [("b",), ("b", "a"), ("c",), ("b",)]


class Row:
    def __init__(self, item_ids, points=None):
        self.item_ids, self.points = item_ids, points


def test_outcome_speaks_of_item_ids():
    out = tally.outcome("greedy", ITEMS, 1000, BALLOTS)
    assert out["selected"] == ["id-b", "id-a"] and out["spent"] == 800 and out["rule"] == "greedy"
    assert out["items"] == [{"item_id": "id-a", "votes": 1, "cost": 300, "selected": True},
                            {"item_id": "id-b", "votes": 3, "cost": 500, "selected": True},
                            {"item_id": "id-c", "votes": 1, "cost": 600.5, "selected": False}]
    for rule in tally.RULES:
        assert tally.outcome(rule, ITEMS, 1000, BALLOTS)["spent"] <= 1000


def test_points_are_summed_for_cumulative_ballots():
    out = tally.outcome("greedy", ITEMS, 1000, [{"a": 3, "b": 1}, {"b": 2}])
    assert {i["item_id"]: i["points"] for i in out["items"]} == {"id-a": 3, "id-b": 3, "id-c": 0}


def test_groups_get_counts_and_their_own_outcome():
    out = tally.by_group("greedy", ITEMS, 1000, BALLOTS, ["x", "x", None, "y"], "gender", min_voters=1)
    groups = {g["group"]: g for g in out["groups"]}
    assert [g["group"] for g in out["groups"]] == ["x", "y", "unknown"]
    assert groups["unknown"]["selected"] == ["id-c", "id-a"] and groups["x"]["voters"] == 2
    assert {i["item_id"]: i["votes"] for i in groups["x"]["items"]} == {"id-a": 1, "id-b": 2, "id-c": 0}
    few = tally.by_group("greedy", ITEMS, 1000, BALLOTS, ["x", "x", None, "y"], "gender", max_outcomes=1,
                         min_voters=1)
    assert [g["selected"] is None for g in few["groups"]] == [False, True, True]


def test_small_groups_get_counts_but_no_outcome():
    out = tally.by_group("greedy", ITEMS, 1000, BALLOTS, ["x", "x", None, "y"], "gender", min_voters=2)
    assert [(g["group"], g["selected"] is None) for g in out["groups"]] == [("x", False), ("y", True), ("unknown", True)]
    assert sum(i["votes"] for i in out["groups"][1]["items"]) > 0
    default = tally.by_group("greedy", ITEMS, 1000, BALLOTS, ["x", "x", None, "y"], "gender")
    assert all(g["selected"] is None for g in default["groups"])  # all below MIN_GROUP_VOTERS


def test_stored_rows_become_ballots_by_key():
    rows = [Row("id-a,id-b"), Row(""), Row("id-c,id-gone")]
    key_of = {i.item_id: i.key for i in ITEMS}
    assert tally.ballots_of(rows, key_of, cumulative=False) == [("a", "b"), (), ("c",)]
    assert tally.ballots_of([Row("id-a,id-b", [2, 1])], key_of, cumulative=True) == [{"a": 2, "b": 1}]


def test_amounts_for_json():
    assert [tally.number(x) for x in (Decimal("5.00"), Decimal("5.5"), 7, None)] == [5, 5.5, 7, None]
