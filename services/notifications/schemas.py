"""Arguments and events of the notifications service."""
from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.common.events import event_type

EmailPreference = Literal["instant", "daily", "off"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class InboxQuery(BaseModel):
    """`?unread=true&limit=&cursor=` of the inbox."""

    model_config = ConfigDict(extra="ignore")

    unread: bool = Field(False, description="only notifications not read yet")
    limit: int = Field(20, ge=1, le=100, description="page size, 1-100")
    cursor: str | None = Field(None, max_length=512, description="next_cursor of the previous page")


class MarkRead(Strict):
    """`{ids: [...]}` marks those notifications read; `{all: true}` marks every one."""

    ids: list[uuid.UUID] | None = Field(default=None, max_length=500)
    all: bool | None = None

    @model_validator(mode="after")
    def _one_of(self):
        if not self.all and not self.ids:
            raise ValueError("give either ids (a non-empty list) or all: true")
        return self


class Preferences(Strict):
    email: EmailPreference | None = Field(default=None, description="instant, daily (one digest a day) or off")
    in_app: bool | None = Field(default=None, description="keep notifications in the in-app inbox")


class UnsubscribeQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    token: str = Field(min_length=1, max_length=2048)


class NewWebhook(Strict):
    url: str = Field(min_length=1, max_length=2048, description="http(s) URL receiving a POST per event")
    events: list[str] = Field(
        min_length=1, max_length=100,
        description='event types: "ideas.idea_created", its short form "idea.created", "ideas.*" or "*"',
    )


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    limit: int = Field(20, ge=1, le=100, description="page size, 1-100")
    cursor: str | None = Field(None, max_length=512, description="next_cursor of the previous page")


_CITY = "6f1c1f1e-7d7a-4f61-9c1e-2b8f1f7f0a01"


@event_type("notifications.webhook_delivery_failed", example={
    "subscription_id": "3d0c7b8e-2f4a-4c1d-9e6b-7a8f9b0c1d2e", "delivery_id": "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
    "event_id": "9b2f6f8e-1c0a-4a53-a0f5-3c7a1f0e2b11", "event_type": "ideas.idea_created",
    "url": "https://backoffice.example.org/agora", "attempts": 8, "last_status_code": 503, "last_error": None,
})
class WebhookDeliveryFailed(BaseModel):
    """A webhook delivery was given up after its last attempt (for monitoring the city's receivers)."""

    subscription_id: uuid.UUID
    delivery_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    url: str
    attempts: int
    last_status_code: int | None = None
    last_error: str | None = None
