"""From a pabulib election to a budget's items and ballots, and back. Plain functions, no I/O.

Import (`plan_import`): approval, choose-1, ordinal and cumulative files are taken (scoring is not:
its points follow no rule a budget can express). The budget takes the file's META `budget` as its
total and `currency`; the ballot rules follow the vote type:
- approval with `max_sum_cost` → knapsack (`min_sum_cost` → `min_spend_share`);
- approval, choose-1 and ordinal → approval within `min_length`..`max_length` (ordinal ballots keep
  their ranking; outcome rules read them as approval of the listed items, as pabutools does);
- cumulative → cumulative with `max_sum_points` points (else the largest sum a voter gave).
Voters become anonymous submitted ballots with the file's demographics: `age` becomes the age group
at the time of the vote, `sex` (F/M/O, or K for the Polish "kobieta") the gender, `district` the district.

Export (`election_of`): the budget as a pabulib election; the META of an imported file is kept and
its counts, budget, currency and vote type brought up to date.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from services.budgeting import pabulib
from services.common import demographics
from services.common.errors import ValidationFailed

IMPORTABLE = ("approval", "choose-1", "ordinal", "cumulative")
SEX_TO_GENDER = {"f": "female", "k": "female", "female": "female", "w": "female",
                 "m": "male", "male": "male", "o": "other", "other": "other", "x": "other"}
GENDER_TO_SEX = {"female": "F", "male": "M", "other": "O"}
DEMOGRAPHIC_COLUMNS = ("age", "sex", "district")


@dataclass(frozen=True)
class ItemPlan:
    key: str  # the file's project_id
    title: dict
    cost: int | Decimal
    extra: dict


@dataclass(frozen=True)
class VoterPlan:
    voter_ref: str
    keys: tuple[str, ...]
    points: tuple | None
    age_group: str | None
    gender: str | None
    district: str | None
    extra: dict


@dataclass
class ImportPlan:
    total: int | Decimal
    currency: str | None
    ballot: dict
    meta: dict
    items: list[ItemPlan] = field(default_factory=list)
    voters: list[VoterPlan] = field(default_factory=list)

    def ballots(self) -> list:
        """The voters' ballots for the outcome rules, by item key."""
        if self.ballot["type"] == "cumulative":
            return [dict(zip(v.keys, v.points or [1] * len(v.keys))) for v in self.voters]
        return [v.keys for v in self.voters]


@functools.lru_cache(maxsize=512)
def age_group_of_age(age: str | None) -> str | None:
    """The age group of an age in years (as written in a file); None when absent or not a sensible age."""
    try:
        years = int(str(age).strip())
    except (TypeError, ValueError):
        return None
    if not 0 < years < 130:
        return None
    return demographics.age_group(2000 - years, today=date(2000, 1, 1))


def gender_of_sex(sex: str | None) -> str | None:
    return SEX_TO_GENDER.get((sex or "").strip().lower())


def _int_meta(meta: dict, key: str) -> int | None:
    try:
        value = pabulib.parse_number(meta[key])
    except (KeyError, ValueError):
        return None
    return int(value) if value == int(value) and value >= 0 else None


def ballot_config(election: pabulib.Election) -> dict:
    meta, kind = election.meta, election.vote_type
    lo, hi = _int_meta(meta, "min_length"), _int_meta(meta, "max_length")
    if kind == "choose-1":
        lo, hi = (lo if lo is not None else 0), 1
    if hi is not None and lo is not None and lo > hi:
        lo = None
    if hi == 0:
        hi = None
    if kind == "cumulative":
        points = _int_meta(meta, "max_sum_points") or max(
            (int(sum(v.points or ())) for v in election.votes), default=1) or 1
        return {"type": "cumulative", "min_items": lo or None, "max_items": hi, "min_spend_share": None,
                "points": points}
    if kind == "approval" and "max_sum_cost" in meta:
        share = None
        try:
            floor = pabulib.parse_number(meta["min_sum_cost"]) if "min_sum_cost" in meta else None
        except ValueError:
            floor = None
        if floor:
            share = str(min(Decimal(1), Decimal(floor) / Decimal(election.budget)).normalize())
        return {"type": "knapsack", "min_items": None, "max_items": None, "min_spend_share": share, "points": None}
    return {"type": "approval", "min_items": lo or None, "max_items": hi, "min_spend_share": None, "points": None}


def plan_import(election: pabulib.Election, locales: list[str], pause=None) -> ImportPlan:
    """What an import stores. ValidationFailed for a vote type a budget cannot hold. `pause` is called
    every `pabulib.ROWS_PER_PAUSE` voters (see `pabulib.parse`)."""
    kind = election.vote_type
    if kind not in IMPORTABLE:
        raise ValidationFailed(f"Files with vote_type {kind!r} cannot be imported.", [
            {"field": "vote_type", "issue": f"supported: {', '.join(IMPORTABLE)}"}])
    language = election.meta.get("language")
    locale = language if language in locales else (locales[0] if locales else "en")
    currency = (election.meta.get("currency") or "").strip().upper()
    plan = ImportPlan(total=election.budget, currency=currency if len(currency) == 3 and currency.isalpha() else None,
                      ballot=ballot_config(election), meta=dict(election.meta))
    for p in election.projects:
        name = (p.name or "").strip() or f"Project {p.project_id}"
        plan.items.append(ItemPlan(key=p.project_id, title={locale: name}, cost=p.cost, extra=dict(p.extra)))
    for n, v in enumerate(election.votes, 1):
        if pause is not None and n % pabulib.ROWS_PER_PAUSE == 0:
            pause()
        plan.voters.append(VoterPlan(
            voter_ref=v.voter_id, keys=tuple(v.items), points=tuple(v.points) if v.points is not None else None,
            age_group=age_group_of_age(v.extra.get("age")), gender=gender_of_sex(v.extra.get("sex")),
            district=(v.extra.get("district") or "").strip() or None, extra=dict(v.extra),
        ))
    return plan


# -- export ----------------------------------------------------------------------------------------
def vote_type_of(budget: dict) -> str:
    imported = (budget.get("meta") or {}).get("vote_type")
    if imported in IMPORTABLE:
        return imported
    return "cumulative" if budget["ballot"]["type"] == "cumulative" else "approval"


def _title(title: dict, locale: str | None) -> str:
    if locale and title.get(locale):
        return title[locale]
    return next(iter(title.values()), "")


def election_of(budget: dict, items: list[dict], ballots: list[dict], profiles: dict[str, dict],
                today: date | None = None) -> pabulib.Election:
    """The budget as a pabulib election.

    `budget`: {total, currency, ballot, meta}; `items`: [{id, key, title, cost, extra}] in order;
    `ballots`: submitted ballots [{id, user_id, voter_ref, item_ids, points, extra}] (imported voters
    keep their file columns; a citizen's ballot is written under its ballot id with age, sex and
    district from the profile); `profiles`: user_id → {birth_year, gender, district}.
    """
    today = today or date.today()
    meta = dict(budget.get("meta") or {})
    kind = vote_type_of(budget)
    config = budget["ballot"]
    meta.update({
        "num_projects": str(len(items)), "num_votes": str(len(ballots)),
        "budget": _fmt(budget["total"]), "vote_type": kind, "currency": budget["currency"],
    })
    if config.get("min_items"):
        meta["min_length"] = str(config["min_items"])
    if config.get("max_items"):
        meta["max_length"] = str(config["max_items"])
    if kind == "cumulative" and config.get("points"):
        meta["max_sum_points"] = str(config["points"])
    if config["type"] == "knapsack":
        meta["max_sum_cost"] = _fmt(budget["total"])
    locale = meta.get("language")
    key_of = {str(i["id"]): i["key"] for i in items}
    votes_of = {i["key"]: 0 for i in items}
    votes = []
    for b in ballots:
        keys = [key_of[str(x)] for x in b["item_ids"] if str(x) in key_of]
        for k in keys:
            votes_of[k] += 1
        extra = dict(b.get("extra") or {})
        if b.get("user_id"):
            extra.update(_profile_columns(profiles.get(str(b["user_id"])), today))
        points = [_num(p) for p in b["points"]] if b.get("points") is not None else None
        votes.append(pabulib.Vote(voter_id=b.get("voter_ref") or str(b["id"]), items=keys, points=points,
                                  extra=extra))
    if kind == "cumulative":
        for v in votes:
            if v.points is None:
                v.points = [1] * len(v.items)
    projects = []
    for i in items:
        extra = dict(i.get("extra") or {})
        extra["votes"] = str(votes_of[i["key"]])
        projects.append(pabulib.Project(project_id=i["key"], cost=_num(i["cost"]), name=_title(i["title"], locale),
                                        extra=extra))
    return pabulib.Election(meta=meta, projects=projects, votes=votes)


def _profile_columns(profile: dict | None, today: date) -> dict:
    profile = profile or {}
    out = {}
    if profile.get("birth_year"):
        out["age"] = str(today.year - int(profile["birth_year"]))
    if profile.get("gender") in GENDER_TO_SEX:
        out["sex"] = GENDER_TO_SEX[profile["gender"]]
    if profile.get("district"):
        out["district"] = profile["district"]
    return out


def _num(value):
    d = Decimal(str(value))
    return int(d) if d == d.to_integral_value() else d.normalize()


def _fmt(value) -> str:
    n = _num(value)
    return format(n, "f") if isinstance(n, Decimal) else str(n)
