"""What each route answers, for /openapi.json: the fields every answer carries, typed.

Answers may carry more fields than listed (models allow extra fields): a client relies on what is
listed here, and a service may add fields without breaking it.
"""
from __future__ import annotations

import uuid
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

Number = int | float
Texts = dict[str, str]  # a text in the city's locales: {"en": "...", "nl": "..."}
Stamp = str  # RFC 3339


class Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


T = TypeVar("T")


class Page(Answer, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="the cursor of the next page; null on the last")


# -- accounts --------------------------------------------------------------------------------------
Role = Literal["citizen", "moderator", "admin"]


class City(Answer):
    id: uuid.UUID
    slug: str
    name: str
    locales: list[str]
    created_at: Stamp


class Me(Answer):
    """A user's own view: the profile with e-mail."""

    id: uuid.UUID
    email: str
    city_id: uuid.UUID
    display_name: str
    birth_year: int | None
    gender: Literal["female", "male", "other"] | None
    district: str | None
    locale: str | None
    role: Role
    created_at: Stamp


class CityCreated(City):
    admin: Me


class Profile(Answer):
    user_id: uuid.UUID
    city_id: uuid.UUID
    display_name: str
    role: Role


class UserListed(Answer):
    id: uuid.UUID
    display_name: str
    email: str
    role: Role
    created_at: Stamp


class Token(Answer):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int


# -- projects, ideas, comments, moderation ---------------------------------------------------------
class Project(Answer):
    id: uuid.UUID
    title: Texts
    description: Texts
    method: Literal["ideation", "poll", "budgeting"]
    status: Literal["draft", "active", "closed"]
    topics: list[str]
    allow_down_votes: bool
    flag_threshold: int | None
    created_by: uuid.UUID | None
    created_at: Stamp
    updated_at: Stamp


class Author(Answer):
    id: uuid.UUID
    display_name: str | None


class Coordinates(Answer):
    lat: float
    lng: float


class Idea(Answer):
    id: uuid.UUID
    project_id: uuid.UUID
    title: str
    body: str
    topics: list[str]
    locale: str | None
    location: Coordinates | None
    status: str
    feedback: Texts | None
    status_changed_at: Stamp | None
    author: Author
    up_votes: int
    down_votes: int
    comments_count: int
    created_at: Stamp
    updated_at: Stamp
    hidden: bool
    flags: int | None = Field(None, description="open flags; for moderators only")


class Comment(Answer):
    id: uuid.UUID
    idea_id: uuid.UUID
    parent_id: uuid.UUID | None
    body: str | None = Field(description="null once deleted")
    author: Author | None = Field(description="null once deleted")
    up_votes: int
    down_votes: int
    created_at: Stamp
    updated_at: Stamp
    deleted: bool
    hidden: bool


class Flag(Answer):
    id: uuid.UUID
    target_type: Literal["idea", "comment"]
    target_id: uuid.UUID
    reason: str
    created_at: Stamp


class FlaggedContent(Answer):
    target_type: Literal["idea", "comment"]
    target_id: uuid.UUID
    flags: int
    reasons: dict[str, int]
    first_flagged_at: Stamp
    last_flagged_at: Stamp
    hidden: bool
    deleted: bool
    content: dict | None = Field(description="the idea or comment as moderators see it")


class Moderated(Answer):
    target_type: Literal["idea", "comment"]
    target_id: uuid.UUID
    decision: Literal["restore", "remove"]
    hidden: bool
    deleted: bool
    resolved_flags: int


# -- votes and polls -------------------------------------------------------------------------------
class Vote(Answer):
    value: Literal["up", "down"] | None = Field(description="the caller's vote; null when none")
    up_votes: int
    down_votes: int


class OwnVote(Answer):
    target_id: uuid.UUID
    value: Literal["up", "down"]


class OwnVotes(Answer):
    items: list[OwnVote] = Field(description="in the order of the ids asked; targets not voted on are left out")


class Question(Answer):
    id: uuid.UUID
    project_id: uuid.UUID
    text: Texts
    kind: Literal["single", "multiple"]
    max_choices: int
    options: list[dict]
    created_at: Stamp


class PollAnswered(Answer):
    project_id: uuid.UUID
    answers: dict[str, list[str]]
    replaced: bool


class PollResponse(Answer):
    project_id: uuid.UUID
    answers: dict[str, list[str]]
    updated_at: Stamp


class PollResults(Answer):
    project_id: uuid.UUID
    by: str | None
    respondents: int
    questions: list[dict]


# -- gamification ----------------------------------------------------------------------------------
class LeaderboardUser(Answer):
    id: uuid.UUID
    display_name: str | None


class Standing(Answer):
    rank: int
    user: LeaderboardUser
    points: int


class Leaderboard(Page[Standing]):
    period: Literal["all", "month", "week"]
    period_key: str


class Badge(Answer):
    badge: str
    level: int
    earned_at: Stamp


class Score(Answer):
    user_id: uuid.UUID
    period: Literal["all", "month", "week"]
    points: int
    rank: int | None
    level: int
    badges: list[Badge]


class Rules(Answer):
    points: dict[str, int]


class Engaged(Answer):
    from_: Stamp = Field(alias="from")
    to: Stamp
    items: list[dict]


# -- budgeting -------------------------------------------------------------------------------------
class Budget(Answer):
    project_id: uuid.UUID
    total: Number
    currency: str
    ballot: dict
    phase: Literal["collecting", "voting", "closed"]
    rule: str
    items_count: int
    ballots_submitted: int
    imported: bool
    updated_at: Stamp


class Item(Answer):
    id: uuid.UUID
    project_id: uuid.UUID
    title: Texts
    cost: Number
    idea_id: uuid.UUID | None
    created_at: Stamp


class Deleted(Answer):
    id: uuid.UUID
    deleted: Literal[True]


class Ballot(Answer):
    id: uuid.UUID
    project_id: uuid.UUID
    status: Literal["draft", "submitted"]
    item_ids: list[uuid.UUID]
    updated_at: Stamp
    submitted_at: Stamp | None
    points: dict[str, Number] | None = None


class BudgetResults(Answer):
    project_id: uuid.UUID
    currency: str
    total: Number
    ballots: int
    rule: str
    selected: list[uuid.UUID]
    spent: Number
    items: list[dict]


class Imported(Answer):
    items: dict[str, uuid.UUID] = Field(description="pabulib project_id -> item id")
    ballots: int


# -- notifications and webhooks --------------------------------------------------------------------
class Notification(Answer):
    id: uuid.UUID
    kind: str
    title: str | None
    body: str | None
    data: dict | None
    read: bool
    read_at: Stamp | None
    created_at: Stamp


class Inbox(Page[Notification]):
    unread_count: int


class UnreadCount(Answer):
    unread_count: int


class MarkedRead(Answer):
    updated: int
    unread_count: int


class NotificationPreferences(Answer):
    email: Literal["instant", "daily", "off"]
    in_app: bool


class Webhook(Answer):
    id: uuid.UUID
    url: str
    events: list[str]
    created_at: Stamp


class CreatedWebhook(Webhook):
    secret: str = Field(description="the signing secret, shown this once")


class Delivery(Answer):
    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_retry_at: Stamp | None
    created_at: Stamp
    delivered_at: Stamp | None
    attempt_log: list[dict]


# -- analytics -------------------------------------------------------------------------------------
class Topics(Answer):
    status: Literal["ok", "not_enough_ideas", "pending"]
    topics: list[dict]


class Accepted(Answer):
    status: Literal["accepted"]
    project_id: uuid.UUID


class Similar(Answer):
    idea_id: uuid.UUID
    score: float
    title: str | None


class SimilarIdeas(Answer):
    items: list[Similar]


class Heatmap(Answer):
    status: str
    dimension: str
    cells: list[dict]
    chi2: float
    dof: int
    p_value: float


class Dashboard(Answer):
    from_: Stamp = Field(alias="from")
    to: Stamp
    project_id: uuid.UUID | None
    totals: dict[str, int]
    series: list[dict]
    participants_by: dict


class Demographics(Answer):
    age_group: str
    gender: str
    district: str


class Input(Answer):
    id: uuid.UUID
    title: str | None
    status: str | None
    topics: list[str]
    topic_id: int | None = Field(description="the analytics topic of the project's current model")
    up_votes: int
    down_votes: int
    comments: int
    flags: int
    hidden: bool
    created_at: Stamp | None
    author: Demographics


# -- pages -----------------------------------------------------------------------------------------
class ProjectPage(Page[Project]):
    pass


class IdeaPage(Page[Idea]):
    pass


class CommentPage(Page[Comment]):
    pass


class FlagQueue(Page[FlaggedContent]):
    pass


class QuestionPage(Page[Question]):
    pass


class ItemPage(Page[Item]):
    pass


class WebhookPage(Page[Webhook]):
    pass


class DeliveryPage(Page[Delivery]):
    pass


class UserPage(Page[UserListed]):
    pass


class InputPage(Page[Input]):
    pass
