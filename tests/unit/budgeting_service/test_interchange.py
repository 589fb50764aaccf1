"""Pabulib elections into budgets and back."""
from datetime import date
from decimal import Decimal

import pytest

from services.budgeting import interchange, pabulib
from services.common.errors import ValidationFailed

FILE = """META
key;value
budget;1000,5
vote_type;{vote_type}
currency;PLN
language;pl
min_length;1
max_length;2
{more}PROJECTS
project_id;cost;name;category
p1;500;Ławki;green
p2;600,25;Drzewa;green
VOTES
voter_id;vote;{points}age;sex;district
v1;p1,p2;{p12}23;K;Centrum
v2;p2;{p2}70;M;
v3;;{empty}0;x;Północ
"""


def election(vote_type="approval", more=""):
    pts = vote_type in ("cumulative", "scoring")
    return pabulib.parse(FILE.format(vote_type=vote_type, more=more, points="points;" if pts else "",
                                     p12="2,1;" if pts else "", p2="3;" if pts else "", empty=";" if pts else ""))


def test_demographics_of_a_file():
    assert [interchange.age_group_of_age(a) for a in ("23", "30", "70", "0", "", None, "old")] == [
        "under_25", "25-34", "65+", None, None, None, None]
    assert [interchange.gender_of_sex(s) for s in ("F", "k", "M", "O", "", None, "?")] == [
        "female", "female", "male", "other", None, None, None]


def test_plan_of_an_approval_file():
    plan = interchange.plan_import(election(), ["en", "pl"])
    assert plan.total == Decimal("1000.5") and plan.currency == "PLN"
    assert plan.ballot == {"type": "approval", "min_items": 1, "max_items": 2, "min_spend_share": None, "points": None}
    assert [(i.key, i.title, i.cost) for i in plan.items] == [("p1", {"pl": "Ławki"}, 500),
                                                             ("p2", {"pl": "Drzewa"}, Decimal("600.25"))]
    assert [(v.voter_ref, v.keys, v.age_group, v.gender, v.district) for v in plan.voters] == [
        ("v1", ("p1", "p2"), "under_25", "female", "Centrum"), ("v2", ("p2",), "65+", "male", None),
        ("v3", (), None, "other", "Północ")]
    assert plan.ballots() == [("p1", "p2"), ("p2",), ()]
    # a city without the file's language takes its first locale
    assert interchange.plan_import(election(), ["nl", "en"]).items[0].title == {"nl": "Ławki"}


def test_ballot_rules_follow_the_vote_type():
    assert interchange.ballot_config(election(more="max_sum_cost;1000\nmin_sum_cost;250\n"))["type"] == "knapsack"
    knapsack = interchange.ballot_config(election(more="max_sum_cost;1000\nmin_sum_cost;250\n"))
    assert Decimal(knapsack["min_spend_share"]) == Decimal(250) / Decimal("1000.5")
    cumulative = interchange.plan_import(election("cumulative", "max_sum_points;5\n"), ["pl"])
    assert cumulative.ballot["type"] == "cumulative" and cumulative.ballot["points"] == 5
    assert cumulative.ballots()[0] == {"p1": 2, "p2": 1}
    assert interchange.ballot_config(election("ordinal"))["type"] == "approval"
    with pytest.raises(ValidationFailed) as exc:
        interchange.plan_import(election("scoring"), ["pl"])
    assert exc.value.details[0]["field"] == "vote_type"


def test_export_keeps_the_file_and_adds_platform_ballots():
    plan = interchange.plan_import(election(), ["pl"])
    items = [{"id": f"id-{i.key}", "key": i.key, "title": i.title, "cost": i.cost, "extra": i.extra}
             for i in plan.items]
    ballots = [{"id": f"b{n}", "user_id": None, "voter_ref": v.voter_ref, "item_ids": [f"id-{k}" for k in v.keys],
                "points": None, "extra": v.extra} for n, v in enumerate(plan.voters)]
    ballots.append({"id": "b-user", "user_id": "u1", "voter_ref": None, "item_ids": ["id-p1"], "points": None,
                    "extra": None})
    budget = {"total": plan.total, "currency": "PLN", "ballot": plan.ballot, "meta": plan.meta}
    e = interchange.election_of(budget, items, ballots, {"u1": {"birth_year": 1990, "gender": "female"}},
                                today=date(2020, 6, 1))
    again = pabulib.parse(pabulib.dump(e))
    assert again.meta["num_votes"] == "4" and again.budget == Decimal("1000.5") and again.meta["language"] == "pl"
    assert [(p.project_id, p.cost, p.name, p.extra["votes"]) for p in again.projects] == [
        ("p1", 500, "Ławki", "2"), ("p2", Decimal("600.25"), "Drzewa", "2")]
    assert [v.voter_id for v in again.votes] == ["v1", "v2", "v3", "b-user"]
    assert again.votes[-1].extra == {"age": "30", "sex": "F", "district": ""}
