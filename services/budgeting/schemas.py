"""Arguments and events of the budgeting service."""
from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.common.events import event_type
from services.common.texts import Locale, Multilingual

Phase = Literal["collecting", "voting", "closed"]
BallotType = Literal["approval", "knapsack", "cumulative"]
RuleName = Literal["greedy", "mes", "mes-raw", "phragmen"]
Dimension = Literal["age_group", "gender", "district"]

MAX_TEXT = 300
MAX_ITEMS_PER_BALLOT = 1000
MAX_MONEY = Decimal("1e15")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# -- requests -----------------------------------------------------------------------------------
class BallotConfig(Strict):
    """The ballot rules: approval (pick min..max items), knapsack (items whose costs fit the total,
    optionally spending at least a share of it), cumulative (spread `points` over items)."""

    type: BallotType
    min_items: int | None = Field(None, ge=0, le=MAX_ITEMS_PER_BALLOT)
    max_items: int | None = Field(None, ge=1, le=MAX_ITEMS_PER_BALLOT)
    min_spend_share: Decimal | None = Field(None, ge=0, le=1)
    points: int | None = Field(None, ge=1, le=1_000_000)

    @model_validator(mode="after")
    def _consistent(self):
        if self.min_items is not None and self.max_items is not None and self.min_items > self.max_items:
            raise ValueError("min_items is larger than max_items")
        if self.type == "cumulative" and self.points is None:
            raise ValueError("a cumulative ballot needs `points`, the number of points each voter spreads")
        if self.type != "cumulative" and self.points is not None:
            raise ValueError("`points` applies to cumulative ballots only")
        if self.type != "knapsack" and self.min_spend_share is not None:
            raise ValueError("`min_spend_share` applies to knapsack ballots only")
        if self.type == "knapsack" and (self.min_items is not None or self.max_items is not None):
            raise ValueError("a knapsack ballot is bounded by the total, not by min_items/max_items")
        return self


class BudgetBody(Strict):
    """`PUT .../budget`: total, currency and ballot are needed when the budget is first configured;
    later, fields left out keep their value."""

    total: Decimal | None = Field(None, gt=0, le=MAX_MONEY)
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. EUR")
    ballot: BallotConfig | None = None
    phase: Phase | None = None
    rule: RuleName | None = Field(None, description="the rule of the published results (default mes)")


class NewItem(Strict):
    title: Multilingual(MAX_TEXT)
    cost: Decimal = Field(gt=0, le=MAX_MONEY)
    idea_id: uuid.UUID | None = None


class BallotBody(Strict):
    """`{item_ids: [..]}` for approval and knapsack ballots (ordered: a ranking where it matters),
    `{points: {item_id: n}}` for cumulative ones."""

    item_ids: list[str] | None = Field(None, max_length=MAX_ITEMS_PER_BALLOT)
    points: dict[str, int] | None = Field(None, max_length=MAX_ITEMS_PER_BALLOT)

    @model_validator(mode="after")
    def _one(self):
        if self.item_ids is not None and self.points is not None:
            raise ValueError("give either item_ids or points, not both")
        return self


class ResultsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    rule: RuleName | None = Field(None, description="greedy|mes|mes-raw|phragmen; default: the budget's rule")
    by: Dimension | None = Field(None, description="split by age_group, gender or district")


class CityItem(NewItem):
    """`add_item`'s payload: the item, and the city's locales its title is checked against."""

    city_locales: list[Locale] = []


class PabulibImport(BaseModel):
    """`import_pabulib`'s payload: the text of the file (as sent, not stripped), and the city's locales
    for the titles."""

    model_config = ConfigDict(extra="forbid")
    text: str
    city_locales: list[Locale] = []


class ItemsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    limit: int | None = None
    cursor: str | None = None


# -- events -------------------------------------------------------------------------------------
_PROJECT = "d4c3b2a1-9f8e-4d7c-8b6a-5e4f3a2b1c0d"
_ITEMS = ["3b1f0c2e-8d7a-4e6b-9c5d-1a2b3c4d5e6f", "7c6b5a49-3827-4615-8f4e-3d2c1b0a9f8e"]


@event_type("budgeting.phase_changed", example={"project_id": _PROJECT, "phase": "voting"})
class PhaseChanged(BaseModel):
    """A budget moved to another phase: collecting items, voting, closed."""

    project_id: uuid.UUID
    phase: Phase


@event_type(
    "budgeting.ballot_submitted",
    example={"project_id": _PROJECT, "user_id": "0b5d2c44-3c4f-4d55-8f0e-6a1b2c3d4e5f",
             "ballot_id": "5c0e3b8a-0d1f-4b7e-9a61-2f3c4d5e6f70", "item_ids": _ITEMS},
)
class BallotSubmitted(BaseModel):
    """A citizen submitted their (final) ballot; `item_ids` are the items chosen (given points, for a
    cumulative ballot). Ballots imported from a pabulib file publish no event."""

    project_id: uuid.UUID
    user_id: uuid.UUID
    ballot_id: uuid.UUID
    item_ids: list[uuid.UUID]


@event_type(
    "budgeting.results_published",
    example={"project_id": _PROJECT, "rule": "mes", "selected": _ITEMS, "spent": 185000},
)
class ResultsPublished(BaseModel):
    """Voting closed: the items the budget's rule funds, in the order it chose them, and what they cost."""

    project_id: uuid.UUID
    rule: RuleName
    selected: list[uuid.UUID]
    spent: float = Field(description="the total cost of the selected items, in the budget's currency")
