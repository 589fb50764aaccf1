"""Arguments and events of the ideas service."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from services.common.events import event_type

Method = Literal["ideation", "poll", "budgeting"]
ProjectStatus = Literal["draft", "active", "closed"]
IdeaStatus = Literal["proposed", "under_review", "accepted", "rejected", "implemented"]
Sort = Literal["new", "popular", "trending", "controversial"]
Reason = Literal["spam", "offensive", "off_topic"]
TargetType = Literal["idea", "comment"]
Decision = Literal["restore", "remove"]

LOCALE = r"^[a-z]{2}(-[A-Z]{2})?$"
TITLE_MAX, BODY_MAX, COMMENT_MAX, DESCRIPTION_MAX = 200, 10_000, 5_000, 20_000

Locale = Annotated[str, StringConstraints(pattern=LOCALE)]
Topic = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=DESCRIPTION_MAX)]
FeedbackText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=BODY_MAX)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _unique(values: list) -> list:
    if values is not None and len(set(values)) != len(values):
        raise ValueError("topics repeat")
    return values


class Location(Strict):
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)


# -- projects -------------------------------------------------------------------------------------
class NewProject(Strict):
    title: dict[Locale, Title] = Field(min_length=1, max_length=20)
    description: dict[Locale, Text] = Field(default_factory=dict, max_length=20)
    method: Method
    status: ProjectStatus = "active"
    topics: list[Topic] = Field(default_factory=list, max_length=50)
    allow_down_votes: bool = True
    flag_threshold: int | None = Field(default=None, ge=1, le=1000,
                                       description="flags that hide an idea or comment; the platform default when unset")

    _topics = field_validator("topics")(classmethod(lambda cls, v: _unique(v)))


class ProjectPatch(Strict):
    title: dict[Locale, Title] | None = Field(default=None, min_length=1, max_length=20)
    description: dict[Locale, Text] | None = Field(default=None, max_length=20)
    method: Method | None = None
    status: ProjectStatus | None = None
    topics: list[Topic] | None = Field(default=None, max_length=50)
    allow_down_votes: bool | None = None
    flag_threshold: int | None = Field(default=None, ge=1, le=1000)

    _topics = field_validator("topics")(classmethod(lambda cls, v: _unique(v)))


class ProjectQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    limit: int = Field(20, ge=1, le=100, description="page size, 1-100")
    cursor: str | None = Field(None, max_length=512, description="next_cursor of the previous page")
    status: ProjectStatus | None = Field(None, description="only projects in this status")
    method: Method | None = Field(None, description="only projects with this participation method")


# -- ideas ----------------------------------------------------------------------------------------
class NewIdea(Strict):
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    body: str = Field(min_length=1, max_length=BODY_MAX)
    topics: list[Topic] = Field(default_factory=list, max_length=10)
    location: Location | None = None
    locale: Locale | None = None

    _topics = field_validator("topics")(classmethod(lambda cls, v: _unique(v)))


class IdeaPatch(Strict):
    title: str | None = Field(default=None, min_length=1, max_length=TITLE_MAX)
    body: str | None = Field(default=None, min_length=1, max_length=BODY_MAX)
    topics: list[Topic] | None = Field(default=None, max_length=10)
    location: Location | None = None
    locale: Locale | None = None

    _topics = field_validator("topics")(classmethod(lambda cls, v: _unique(v)))

    @model_validator(mode="after")
    def _not_null(self):
        for name in ("title", "body", "topics"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class IdeaQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    limit: int = Field(20, ge=1, le=100, description="page size, 1-100")
    cursor: str | None = Field(None, max_length=512, description="next_cursor of the previous page")
    sort: Sort = Field("new", description="new, popular (up minus down), trending (recent votes weigh more), "
                                          "controversial (many votes, split evenly)")
    topic: Topic | None = Field(None, description="only ideas tagged with this topic")
    status: IdeaStatus | None = Field(None, description="only ideas in this status")
    q: str | None = Field(None, min_length=1, max_length=200, description="full-text search in titles and bodies")


class StatusChange(Strict):
    status: IdeaStatus
    feedback: dict[Locale, FeedbackText] | None = Field(default=None, min_length=1, max_length=20)


# -- comments, flags, moderation ------------------------------------------------------------------
class NewComment(Strict):
    body: str = Field(min_length=1, max_length=COMMENT_MAX)
    parent_id: uuid.UUID | None = None


class CommentPatch(Strict):
    body: str = Field(min_length=1, max_length=COMMENT_MAX)


class NewFlag(Strict):
    reason: Reason


class ModerationDecision(Strict):
    decision: Decision


class FlagQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    limit: int = Field(20, ge=1, le=100, description="page size, 1-100")
    cursor: str | None = Field(None, max_length=512, description="next_cursor of the previous page")


class OwnQuery(FlagQuery):
    """`?limit=&cursor=` of the caller's own ideas or comments, newest first."""


# -- events ---------------------------------------------------------------------------------------
_PROJECT = "3d0f2a63-84d1-4c0e-9d7e-1f5a2b9c8e01"
_IDEA = "a7e4c1d2-5b6f-4a38-9e0d-2c1b3a4f5e61"
_COMMENT = "c9b8a7d6-e5f4-4321-8a9b-0c1d2e3f4a51"
_USER = "0b5d2c44-3c4f-4d55-8f0e-6a1b2c3d4e5f"
_OTHER = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a81"
_AT = "2026-05-04T09:30:00.123456Z"


class ProjectState(BaseModel):
    project_id: uuid.UUID
    title: dict[str, str]
    method: Method
    status: ProjectStatus
    topics: list[str]
    allow_down_votes: bool
    created_by: uuid.UUID | None


_PROJECT_EXAMPLE = {
    "project_id": _PROJECT, "title": {"en": "Car-free centre", "nl": "Autovrij centrum"}, "method": "ideation",
    "status": "active", "topics": ["mobility", "green"], "allow_down_votes": True, "created_by": _USER,
}


@event_type("ideas.project_created", example=_PROJECT_EXAMPLE)
class ProjectCreated(ProjectState):
    """A city admin created a project (consultation); its full state."""


@event_type("ideas.project_updated", example={**_PROJECT_EXAMPLE, "status": "closed"})
class ProjectUpdated(ProjectState):
    """A city admin changed a project (texts, method, status, topics); its full state after the change."""


class LocationData(BaseModel):
    lat: float
    lng: float


class IdeaState(BaseModel):
    idea_id: uuid.UUID
    project_id: uuid.UUID
    author_id: uuid.UUID
    title: str
    body: str
    topics: list[str]
    locale: str | None
    location: LocationData | None
    status: IdeaStatus
    created_at: datetime


_IDEA_EXAMPLE = {
    "idea_id": _IDEA, "project_id": _PROJECT, "author_id": _USER, "title": "More bike parking at the station",
    "body": "The racks are always full in the morning.", "topics": ["mobility"], "locale": "en",
    "location": {"lat": 51.0543, "lng": 3.7174}, "status": "proposed", "created_at": _AT,
}


@event_type("ideas.idea_created", example=_IDEA_EXAMPLE)
class IdeaCreated(IdeaState):
    """A citizen posted an idea in a project; its full state."""


@event_type("ideas.idea_updated", example={**_IDEA_EXAMPLE, "title": "More and safer bike parking"})
class IdeaUpdated(IdeaState):
    """The author or a moderator edited an idea; its full state after the change."""


@event_type("ideas.idea_deleted",
            example={"idea_id": _IDEA, "project_id": _PROJECT, "author_id": _USER, "deleted_by": _USER})
class IdeaDeleted(BaseModel):
    """An idea was deleted (soft) by its author, or removed by a moderator."""

    idea_id: uuid.UUID
    project_id: uuid.UUID
    author_id: uuid.UUID
    deleted_by: uuid.UUID


@event_type("ideas.idea_status_changed", example={
    "idea_id": _IDEA, "project_id": _PROJECT, "author_id": _USER, "old_status": "under_review",
    "status": "accepted", "feedback": {"en": "We will build it in spring.", "nl": "We bouwen het in de lente."},
})
class IdeaStatusChanged(BaseModel):
    """A city admin moved an idea along the status workflow, with official feedback."""

    idea_id: uuid.UUID
    project_id: uuid.UUID
    author_id: uuid.UUID
    old_status: IdeaStatus
    status: IdeaStatus
    feedback: dict[str, str] | None


@event_type("ideas.comment_created", example={
    "comment_id": _COMMENT, "idea_id": _IDEA, "project_id": _PROJECT, "author_id": _OTHER,
    "idea_author_id": _USER, "parent_id": None, "parent_author_id": None, "body": "Yes, and covered please.",
    "created_at": _AT,
})
class CommentCreated(BaseModel):
    """A user commented on an idea, or replied to a comment (one level of replies)."""

    comment_id: uuid.UUID
    idea_id: uuid.UUID
    project_id: uuid.UUID
    author_id: uuid.UUID
    idea_author_id: uuid.UUID
    parent_id: uuid.UUID | None
    parent_author_id: uuid.UUID | None
    body: str
    created_at: datetime


@event_type("ideas.comment_deleted",
            example={"comment_id": _COMMENT, "idea_id": _IDEA, "project_id": _PROJECT, "author_id": _OTHER})
class CommentDeleted(BaseModel):
    """A comment was deleted (soft) by its author, or removed by a moderator."""

    comment_id: uuid.UUID
    idea_id: uuid.UUID
    project_id: uuid.UUID
    author_id: uuid.UUID


_MODERATION_EXAMPLE = {"target_type": "idea", "target_id": _IDEA, "idea_id": _IDEA, "project_id": _PROJECT,
                       "author_id": _USER, "flags": 3}


class ModerationState(BaseModel):
    target_type: TargetType
    target_id: uuid.UUID
    idea_id: uuid.UUID
    project_id: uuid.UUID
    author_id: uuid.UUID
    flags: int


@event_type("ideas.content_hidden", example=_MODERATION_EXAMPLE)
class ContentHidden(ModerationState):
    """An idea or comment reached the flag threshold and is hidden until a moderator decides."""


@event_type("ideas.content_restored", example={**_MODERATION_EXAMPLE, "flags": 0})
class ContentRestored(ModerationState):
    """A moderator restored hidden content; its open flags are resolved (`flags` counts those still open)."""


# -- what this service reads of other services' events ---------------------------------------------
class ProfileEvent(BaseModel):
    """The fields of accounts.user_registered / user_updated this service keeps."""

    user_id: uuid.UUID
    city_id: uuid.UUID
    display_name: str
    locale: str | None = None
    role: str | None = None


class RoleEvent(BaseModel):
    user_id: uuid.UUID
    city_id: uuid.UUID
    role: str


class VoteEvent(BaseModel):
    """The fields of voting.vote_cast / vote_changed / vote_withdrawn this service keeps."""

    target_type: TargetType
    target_id: uuid.UUID
    value: Literal["up", "down"] | None = None
    previous_value: Literal["up", "down"] | None = None
    up_votes: int = Field(ge=0)
    down_votes: int = Field(ge=0)
    target_version: int = Field(ge=0)
