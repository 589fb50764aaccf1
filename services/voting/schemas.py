"""Arguments and events of the voting service."""
from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from services.common.events import event_type

VoteValue = Literal["up", "down"]
TargetType = Literal["idea", "comment"]
Kind = Literal["single", "multiple"]
Dimension = Literal["age_group", "gender", "district"]

MAX_OPTIONS = 50
MAX_TEXT = 2000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# -- requests -----------------------------------------------------------------------------------
class VoteBody(Strict):
    value: VoteValue


MAX_OWN_VOTES = 100


def _comma_separated(value):
    return [part.strip() for part in value.split(",")] if isinstance(value, str) else value


class OwnVotesQuery(BaseModel):
    """`?target_type=idea|comment&ids=<id>,<id>,...`: the caller's votes on up to 100 targets."""

    model_config = ConfigDict(extra="ignore")

    target_type: TargetType
    ids: Annotated[list[uuid.UUID], BeforeValidator(_comma_separated),
                   Field(min_length=1, max_length=MAX_OWN_VOTES,
                         description=f"comma-separated ids of ideas or comments, at most {MAX_OWN_VOTES}")]


def _multilingual(value: dict) -> dict:
    if not value:
        raise ValueError("give the text in at least one locale, e.g. {\"en\": \"...\"}")
    for locale, text in value.items():
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"the {locale!r} text is empty")
        if len(text) > MAX_TEXT:
            raise ValueError(f"the {locale!r} text is longer than {MAX_TEXT} characters")
    return {k: v.strip() for k, v in value.items()}


class OptionIn(Strict):
    text: dict[str, str]

    _text = field_validator("text")(classmethod(lambda cls, v: _multilingual(v)))


class NewQuestion(Strict):
    text: dict[str, str]
    kind: Kind
    options: list[OptionIn] = Field(min_length=2, max_length=MAX_OPTIONS)
    max_choices: int | None = Field(default=None, ge=1, le=MAX_OPTIONS)

    _text = field_validator("text")(classmethod(lambda cls, v: _multilingual(v)))


class PollAnswers(Strict):
    answers: dict[str, list[str]] = Field(min_length=1, max_length=200)


class ResultsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    by: Dimension | None = Field(None, description="split the counts by age_group, gender or district")


class VoteTarget(BaseModel):
    """The ideas service's answer to `vote_target`."""

    model_config = ConfigDict(extra="ignore")

    target_type: TargetType
    target_id: uuid.UUID
    idea_id: uuid.UUID | None = None
    project_id: uuid.UUID | None = None
    author_id: uuid.UUID | None = None
    visible: bool = True
    project_status: str | None = None
    allow_down_votes: bool = True


# -- events -------------------------------------------------------------------------------------
_VOTE = {
    "vote_id": "5c0e3b8a-0d1f-4b7e-9a61-2f3c4d5e6f70",
    "target_type": "idea",
    "target_id": "a3e1c9d2-6b4f-4c1a-8e2d-7f6a5b4c3d21",
    "idea_id": "a3e1c9d2-6b4f-4c1a-8e2d-7f6a5b4c3d21",
    "project_id": "d4c3b2a1-9f8e-4d7c-8b6a-5e4f3a2b1c0d",
    "voter_id": "0b5d2c44-3c4f-4d55-8f0e-6a1b2c3d4e5f",
    "author_id": "7e6d5c4b-3a29-4817-9605-f4e3d2c1b0a9",
    "value": "up",
    "previous_value": None,
    "up_votes": 12,
    "down_votes": 3,
    "target_version": 15,
}


class VoteEvent(BaseModel):
    vote_id: uuid.UUID
    target_type: TargetType
    target_id: uuid.UUID
    idea_id: uuid.UUID
    project_id: uuid.UUID | None
    voter_id: uuid.UUID
    author_id: uuid.UUID | None = Field(description="the author of the voted idea or comment")
    value: VoteValue = Field(description="the value cast, the new value, or the value withdrawn")
    previous_value: VoteValue | None = Field(description="the vote's value before this change; null when cast")
    up_votes: int = Field(description="the target's up votes after this change")
    down_votes: int = Field(description="the target's down votes after this change")
    target_version: int = Field(
        description="grows by one with every vote change on the target: keep the totals of the highest"
    )


@event_type("voting.vote_cast", example=_VOTE)
class VoteCast(VoteEvent):
    """A user voted on an idea or a comment for the first time (or again after withdrawing)."""


@event_type("voting.vote_changed", example={**_VOTE, "value": "down", "previous_value": "up",
                                             "up_votes": 11, "down_votes": 4, "target_version": 16})
class VoteChanged(VoteEvent):
    """A user switched their vote between up and down."""


@event_type("voting.vote_withdrawn", example={**_VOTE, "value": "down", "previous_value": "down",
                                               "up_votes": 11, "down_votes": 3, "target_version": 17})
class VoteWithdrawn(VoteEvent):
    """A user withdrew their vote; `value` (and `previous_value`) is the value withdrawn."""


@event_type(
    "voting.poll_answered",
    example={
        "project_id": "d4c3b2a1-9f8e-4d7c-8b6a-5e4f3a2b1c0d",
        "user_id": "0b5d2c44-3c4f-4d55-8f0e-6a1b2c3d4e5f",
        "answers": {"1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b": ["9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"]},
        "replaced": False,
    },
)
class PollAnswered(BaseModel):
    """A user answered a project's poll; `replaced` when it replaces their earlier response."""

    project_id: uuid.UUID
    user_id: uuid.UUID
    answers: dict[uuid.UUID, list[uuid.UUID]] = Field(description="question_id: the chosen option_ids")
    replaced: bool

