"""Results of a budget: the outcome of a rule over the submitted ballots, overall and by group.

Plain functions over plain data; the rules themselves are in services/budgeting/outcomes.py. Items are
given to the rules under their `key` (an imported item's pabulib project_id, else the item id), so
ties break as they would on the original file.

With a split (`by=age_group|gender|district`), every group gets its vote counts per item, and the
largest `MAX_GROUP_OUTCOMES` groups also the outcome the same rule gives on that group's ballots
alone with the whole budget: what that group would have funded (`selected`/`spent`; null for the
smaller groups). Age groups and genders are always few; districts can be many (an imported file may
list 1,500 district combinations), and each outcome is a full run of the rule, so the count is bounded.
Groups of fewer than `MIN_GROUP_VOTERS` voters get no outcome either: what a handful of people chose
says little, could single them out, and the completed MES of a tiny group against a whole city's
budget needs very many budget increments. Results are cached by the service anyway.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from services.budgeting import outcomes
from services.common import demographics

RULES = {"greedy": outcomes.greedy, "mes": outcomes.mes, "mes-raw": outcomes.mes_raw, "phragmen": outcomes.phragmen}
UNKNOWN = demographics.UNKNOWN
MAX_GROUP_OUTCOMES = 20
MIN_GROUP_VOTERS = 30


@dataclass(frozen=True)
class Item:
    item_id: str
    key: str
    cost: int | Decimal


def number(value):
    """A JSON-friendly amount: int when whole, else float."""
    if value is None:
        return None
    d = Decimal(str(value))
    return int(d) if d == d.to_integral_value() else float(d)


def outcome(rule: str, items: list[Item], total, ballots: list) -> dict:
    """`{rule, selected: [item_id], spent, items: [{item_id, votes, cost, selected}]}` (and `points`
    per item for points ballots). `ballots` hold item keys: tuples, or {key: points} dicts."""
    costs = {i.key: i.cost for i in items}
    result = RULES[rule](costs, total, ballots)
    id_of = {i.key: i.item_id for i in items}
    chosen = set(result.selected)
    rows = []
    for i in items:
        row = {"item_id": i.item_id, "votes": result.votes.get(i.key, 0), "cost": number(i.cost),
               "selected": i.key in chosen}
        if result.points is not None:
            row["points"] = number(result.points.get(i.key, 0))
        rows.append(row)
    return {"rule": rule, "selected": [id_of[k] for k in result.selected], "spent": number(result.spent),
            "items": rows}


def by_group(rule: str, items: list[Item], total, ballots: list, groups: list[str], dimension: str,
             max_outcomes: int = MAX_GROUP_OUTCOMES, min_voters: int = MIN_GROUP_VOTERS) -> dict:
    """The overall outcome plus `{by, groups: [{group, voters, selected, spent, items: [{item_id, votes}]}]}`;
    groups sorted by name, `unknown` last; `selected`/`spent` only for the `max_outcomes` largest groups
    of at least `min_voters` voters."""
    answer = outcome(rule, items, total, ballots)
    members: dict[str, list] = {}
    for ballot, group in zip(ballots, groups):
        members.setdefault(group or UNKNOWN, []).append(ballot)
    keys = [i.key for i in items]
    counts = outcomes.votes_by_group(ballots, [g or UNKNOWN for g in groups], keys)
    sizable = [g for g in members if len(members[g]) >= min_voters]
    largest = set(sorted(sizable, key=lambda g: (-len(members[g]), g))[:max_outcomes])
    out = []
    for group in sorted(members, key=lambda g: (g == UNKNOWN, g)):
        part = outcome(rule, items, total, members[group]) if group in largest else {"selected": None, "spent": None}
        out.append({
            "group": group, "voters": len(members[group]), "selected": part["selected"], "spent": part["spent"],
            "items": [{"item_id": i.item_id, "votes": counts[group][i.key]} for i in items],
        })
    return {**answer, "by": dimension, "groups": out}


def ballots_of(rows, key_of: dict[str, str], cumulative: bool) -> list:
    """Ballots for the rules from stored rows (`item_ids` as comma-separated text, `points` parallel):
    tuples of item keys, or {key: points} for cumulative budgets."""
    out = []
    for r in rows:
        ids = r.item_ids.split(",") if r.item_ids else []
        keys = [key_of[i] for i in ids if i in key_of]
        out.append(dict(zip(keys, r.points or [1] * len(keys))) if cumulative else tuple(keys))
    return out


def group_of(ballot_row: dict, profile: dict | None, dimension: str) -> str:
    """A voter's group: an imported voter's own columns, else the user's profile."""
    if ballot_row.get("user_id") is None:
        value = ballot_row.get(dimension)
        return value or UNKNOWN
    return demographics.group_of(profile, dimension)
