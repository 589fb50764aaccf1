"""Budgeting's pure decisions: the life of a budget (its phases, its ballot rules, what may change when). No I/O.

Phases go forward only: `collecting` (items are added) → `voting` (citizens fill in and submit
ballots) → `closed` (results published); `collecting → closed` is allowed too. The total, the
currency and the ballot rules change only while collecting, so every ballot is judged by the rules
it was cast under.
"""
from __future__ import annotations

from decimal import Decimal

from services.budgeting import ballots as ballot_rules
from services.common.errors import Conflict, ValidationFailed

PHASES = ("collecting", "voting", "closed")
DEFAULT_RULE = "mes"


def check_phase_change(old: str, new: str) -> None:
    """Conflict unless `old → new` moves forward (or stays)."""
    if PHASES.index(new) < PHASES.index(old):
        raise Conflict(f"A budget cannot go back from {old} to {new}.",
                       [{"field": "phase", "issue": f"allowed from {old}: {list(PHASES[PHASES.index(old):])}"}])


def check_settings_change(phase: str, current: dict, wanted: dict) -> None:
    """Conflict when total, currency or ballot rules would change outside the collecting phase."""
    if phase == "collecting":
        return
    changed = [k for k in ("total", "currency", "ballot") if k in wanted and wanted[k] != current.get(k)]
    if changed:
        raise Conflict(f"The budget is {phase}; {', '.join(changed)} can change only while collecting items.",
                       [{"field": k, "issue": f"fixed once the budget left collecting (now {phase})"}
                        for k in changed])


def normalized_ballot(config: dict) -> dict:
    """A ballot configuration with every field present (None where unused)."""
    out = {"type": config["type"], "min_items": None, "max_items": None, "min_spend_share": None, "points": None}
    out.update({k: v for k, v in config.items() if k in out})
    if out["min_spend_share"] is not None:
        out["min_spend_share"] = str(Decimal(str(out["min_spend_share"])))
    return out


def rules_of(config: dict, total) -> ballot_rules.Rules:
    """The validation rules (services/budgeting/ballots.py) of a ballot configuration."""
    kind = config["type"]
    if kind == "approval":
        return ballot_rules.ApprovalRules(min_items=config.get("min_items") or 0, max_items=config.get("max_items"))
    if kind == "knapsack":
        share = config.get("min_spend_share")
        return ballot_rules.KnapsackRules(total=Decimal(str(total)),
                                          min_spend_share=Decimal(str(share)) if share is not None else None)
    if kind == "cumulative":
        return ballot_rules.CumulativeRules(points=int(config["points"]), min_items=config.get("min_items") or 0,
                                            max_items=config.get("max_items"))
    raise ValueError(f"unknown ballot type {kind!r}")


def ballot_of(config: dict, item_ids: list[str] | None, points: dict[str, int] | None):
    """The ballot in the shape its type takes: a list of item ids, or {item_id: points} for cumulative.
    ValidationFailed when the body has the other shape."""
    if config["type"] == "cumulative":
        if points is None:
            raise ValidationFailed("A cumulative ballot gives points.", [
                {"field": "points", "issue": "give {\"points\": {item_id: n}} for this budget"}])
        return dict(points)
    if item_ids is None:
        raise ValidationFailed(f"An {config['type']} ballot lists items.", [
            {"field": "item_ids", "issue": "give {\"item_ids\": [...]} for this budget"}])
    return list(item_ids)


def check_ballot(ballot, costs: dict, config: dict, total) -> None:
    """ValidationFailed naming every rule the ballot breaks (`{field, issue}`)."""
    violations = ballot_rules.validate(ballot, costs, rules_of(config, total))
    if violations:
        details = [_api_field(v.as_dict()) for v in violations]
        raise ValidationFailed("The ballot breaks the ballot rules: " + "; ".join(d["issue"] for d in details),
                               details)


def _api_field(issue: dict) -> dict:
    field = issue["field"]
    if field == "items" or field.startswith("items["):
        field = "item_ids" + field[len("items"):]
    return {"field": field, "issue": issue["issue"]}


def chosen(ballot) -> list[str]:
    """The items a ballot supports: listed, or given points."""
    if isinstance(ballot, dict):
        return [k for k, v in ballot.items() if v]
    return list(ballot)
