"""Arguments, the events consumed (as this service reads them) and the events of gamification."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.common.events import event_type
from services.gamification import rulebook

Period = Literal["all", "month", "week"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# -- arguments ---------------------------------------------------------------------------------------
class LeaderboardQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    period: Period = Field("all", description="all | month | week (UTC calendar month, ISO week)")
    limit: int = Field(20, ge=1, le=100, description="page size, 1-100")
    cursor: str | None = Field(None, max_length=512, description="next_cursor of the previous page")


class ScoreQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    period: Period = Field("all", description="all | month | week: the points and rank of that period")


class EngagedQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    from_: datetime | None = Field(None, alias="from", description="start (RFC 3339 or a date); default 30 days ago")
    to: datetime | None = Field(None, description="end, exclusive (RFC 3339 or a date); default now")
    format: Literal["json", "csv"] = Field("json", description="json | csv")
    limit: int = Field(100, ge=1, le=10000, description="how many citizens, 1-10000")

    @field_validator("from_", "to")
    @classmethod
    def _utc(cls, v):
        if v is not None and v.tzinfo is None:
            return v.replace(tzinfo=timezone.utc)
        return v

    @model_validator(mode="after")
    def _order(self):
        if self.from_ and self.to and self.from_ >= self.to:
            raise ValueError("'from' must be before 'to'")
        return self


Thresholds = list[int]


class RulesChange(Strict):
    """A city admin's change to the rules; only the keys sent change."""

    points: dict[str, int] | None = None
    daily_cap_per_pair: int | None = Field(None, ge=0, le=1000)
    badges: dict[str, Thresholds] | None = None
    levels: Thresholds | None = Field(None, min_length=1, max_length=50)

    @field_validator("points")
    @classmethod
    def _points(cls, v):
        for action, points in (v or {}).items():
            if action not in rulebook.POINTS:
                raise ValueError(f"unknown action {action!r}; known: {', '.join(rulebook.POINTS)}")
            if not 0 <= points <= 10000:
                raise ValueError(f"{action}: points between 0 and 10000")
        return v

    @field_validator("badges")
    @classmethod
    def _badges(cls, v):
        for badge, thresholds in (v or {}).items():
            if badge not in rulebook.BADGES:
                raise ValueError(f"unknown badge {badge!r}; known: {', '.join(rulebook.BADGES)}")
            _ascending(thresholds, badge)
        return v

    @field_validator("levels")
    @classmethod
    def _levels(cls, v):
        if v is not None:
            _ascending(v, "levels")
        return v


def _ascending(values: list[int], what: str) -> None:
    if not values or len(values) > 50:
        raise ValueError(f"{what}: between 1 and 50 thresholds")
    if values[0] < 1 or any(b <= a for a, b in zip(values, values[1:])):
        raise ValueError(f"{what}: thresholds must be positive and strictly ascending")


# -- events consumed: only the fields used; anything else is ignored ----------------------------------
class Consumed(BaseModel):
    model_config = ConfigDict(extra="ignore")


class VoteEvent(Consumed):
    vote_id: uuid.UUID
    target_type: Literal["idea", "comment"]
    target_id: uuid.UUID
    idea_id: uuid.UUID | None = None
    voter_id: uuid.UUID
    author_id: uuid.UUID | None = None  # as voting declares it: a vote on content of no known author earns nothing
    value: Literal["up", "down"]
    target_version: int


class IdeaCreated(Consumed):
    idea_id: uuid.UUID
    author_id: uuid.UUID
    created_at: datetime | None = None


class IdeaStatusChanged(Consumed):
    idea_id: uuid.UUID
    author_id: uuid.UUID
    status: str


class IdeaDeleted(Consumed):
    idea_id: uuid.UUID
    author_id: uuid.UUID | None = None


class ContentVisibility(Consumed):
    target_type: Literal["idea", "comment"]
    target_id: uuid.UUID
    author_id: uuid.UUID | None = None


class CommentCreated(Consumed):
    comment_id: uuid.UUID
    idea_id: uuid.UUID | None = None
    author_id: uuid.UUID
    created_at: datetime | None = None


class BallotSubmitted(Consumed):
    project_id: uuid.UUID
    user_id: uuid.UUID
    ballot_id: uuid.UUID | None = None


class ProfileEvent(Consumed):
    user_id: uuid.UUID
    display_name: str


# -- events published --------------------------------------------------------------------------------
_USER = "0b5d2c44-3c4f-4d55-8f0e-6a1b2c3d4e5f"
_SOURCE = "9b2f6f8e-1c0a-4a53-a0f5-3c7a1f0e2b11"


@event_type(
    "gamification.points_awarded",
    example={"user_id": _USER, "points": 5, "total": 42, "reason": "idea_upvoted", "source_event_id": _SOURCE},
)
class PointsAwarded(BaseModel):
    """Points were booked for a user (negative when a vote is withdrawn or content is hidden or deleted).

    `total` is the user's all-time total after it; `reason` the rule (`idea_posted`, `comment_posted`,
    `idea_upvoted`, `comment_upvoted`, `idea_accepted`, `idea_implemented`, `ballot_submitted`);
    `source_event_id` the event that caused it.
    """

    user_id: uuid.UUID
    points: int
    total: int
    reason: str
    source_event_id: uuid.UUID


@event_type("gamification.badge_earned", example={"user_id": _USER, "badge": "ideas_posted", "level": 2})
class BadgeEarned(BaseModel):
    """A user reached a new level of a badge (`ideas_posted`, `upvotes_received`, `comments_upvoted`,
    `ideas_accepted`, `streak_days`). Levels once earned are kept."""

    user_id: uuid.UUID
    badge: str
    level: int


@event_type("gamification.level_up", example={"user_id": _USER, "level": 3, "total": 160})
class LevelUp(BaseModel):
    """A user's all-time points reached a new overall level (thresholds in the city's rules)."""

    user_id: uuid.UUID
    level: int
    total: int
