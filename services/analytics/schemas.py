"""Arguments of the analytics service, and the parts of other services' events it reads.

Analytics publishes no events. The event models below are the consumer's view of the payloads of
docs/dev/contracts.md: only the fields used here, extra fields ignored, so a producer adding a field
breaks nothing.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Dimension = Literal["age_group", "gender", "district"]
DRAFT_TITLE_MAX, DRAFT_BODY_MAX = 1_000, 100_000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


# -- RPC arguments ------------------------------------------------------------------------------
class Draft(Strict):
    """An idea being typed: the similar ideas help a citizen find a duplicate before posting."""

    title: str = Field(default="", max_length=DRAFT_TITLE_MAX)
    body: str = Field(default="", max_length=DRAFT_BODY_MAX)
    locale: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")


class SimilarQuery(Loose):
    limit: int = Field(5, ge=1, le=50, description="how many similar ideas, 1-50")
    min_score: float = Field(0.0, ge=0.0, le=1.0, description="leave out ideas scoring below this (0-1)")


class HeatmapQuery(Loose):
    dimension: Dimension = Field("age_group", description="age_group | gender | district")


class InputsQuery(Loose):
    """Filters of the officials' list of a project's ideas (the input manager)."""

    status: str | None = Field(None, description="only ideas with this status")
    topic: str | None = Field(None, description="only ideas the author tagged with this topic")
    topic_id: int | None = Field(None, ge=0, description="only ideas of this analytics topic (current model)")
    flagged: bool | None = Field(None, description="true: only ideas with open flags; false: only without")
    from_: date | None = Field(None, alias="from", description="created on or after this day")
    to: date | None = Field(None, description="created on or before this day")
    age_group: Literal["under_25", "25-34", "35-49", "50-64", "65+", "unknown"] | None = Field(
        None, description="the author's age group")
    gender: str | None = Field(None, description="the author's gender (unknown: not given)")
    district: str | None = Field(None, description="the author's district (unknown: not given)")
    sort: Literal["new", "popular"] = Field("new", description="new: newest first; popular: by up minus down votes")
    limit: int = Field(20, ge=1, le=100)
    cursor: str | None = None

    @model_validator(mode="after")
    def _order(self):
        if self.from_ and self.to and self.from_ > self.to:
            raise ValueError("`from` is after `to`")
        return self


class DashboardQuery(Loose):
    from_: date | datetime | None = Field(None, alias="from", description="first day (default: 30 days before `to`)")
    to: date | datetime | None = Field(None, description="last day, included (default: today)")
    project_id: uuid.UUID | None = Field(None, description="only this project")

    @model_validator(mode="after")
    def _order(self):
        lo = self.from_.date() if isinstance(self.from_, datetime) else self.from_
        hi = self.to.date() if isinstance(self.to, datetime) else self.to
        if lo and hi and lo > hi:
            raise ValueError("`from` is after `to`")
        if lo and hi and (hi - lo).days > 366:
            raise ValueError("the period is longer than 366 days")
        return self


# -- what this service reads of other services' events ------------------------------------------
class ProjectState(Loose):
    project_id: uuid.UUID
    title: dict[str, str] = Field(default_factory=dict)
    method: str | None = None
    status: str | None = None


class IdeaState(Loose):
    idea_id: uuid.UUID
    project_id: uuid.UUID
    author_id: uuid.UUID | None = None
    title: str = ""
    body: str = ""
    topics: list[str] = Field(default_factory=list)
    locale: str | None = None
    status: str | None = None
    created_at: datetime | None = None


class IdeaRef(Loose):
    idea_id: uuid.UUID
    project_id: uuid.UUID
    author_id: uuid.UUID | None = None


class IdeaStatus(IdeaRef):
    status: str


class Moderation(Loose):
    target_type: Literal["idea", "comment"]
    target_id: uuid.UUID
    idea_id: uuid.UUID
    project_id: uuid.UUID
    flags: int | None = None


class Comment(Loose):
    comment_id: uuid.UUID
    idea_id: uuid.UUID
    project_id: uuid.UUID | None = None
    author_id: uuid.UUID | None = None
    parent_id: uuid.UUID | None = None
    body: str | None = None
    created_at: datetime | None = None


class Vote(Loose):
    target_type: Literal["idea", "comment"]
    target_id: uuid.UUID
    idea_id: uuid.UUID
    project_id: uuid.UUID | None = None
    voter_id: uuid.UUID
    value: Literal["up", "down"] | None = None
    up_votes: int
    down_votes: int
    target_version: int


class Profile(Loose):
    user_id: uuid.UUID
    birth_year: int | None = None
    gender: str | None = None
    district: str | None = None
    locale: str | None = None


class Participation(Loose):
    """`budgeting.ballot_submitted` and `voting.poll_answered`: who took part in which project."""

    project_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
