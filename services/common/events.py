"""The event envelope, and the registry of every event type with its payload schema.

Every event on the bus has one envelope. Services declare each payload once as a pydantic model with
`@event_type(...)`; the outbox validates against it and docs/events.md is generated from it, so the
documentation cannot drift from what is published.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID
    type: str
    version: int = 1
    occurred_at: datetime
    city_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    data: dict[str, Any]

    @property
    def service(self) -> str:
        return self.type.split(".", 1)[0]

    @property
    def name(self) -> str:
        """The routing key on the service's exchange, e.g. `vote_cast`."""
        return self.type.split(".", 1)[1]


@dataclass(frozen=True)
class EventSpec:
    type: str
    version: int
    model: type[BaseModel]
    description: str
    example: dict


REGISTRY: dict[str, EventSpec] = {}


def event_type(type_: str, *, example: dict, version: int = 1, description: str = ""):
    """Class decorator registering a payload model as the schema of event `type_`."""

    def register(model: type[BaseModel]):
        if "." not in type_:
            raise ValueError("event types are '<service>.<name>'")
        model.model_validate(example)  # the documented example must be valid
        REGISTRY[type_] = EventSpec(type_, version, model, description or (model.__doc__ or "").strip(), example)
        return model

    return register


def new_event(type_: str, *, city_id=None, actor_id=None, data: dict, version: int | None = None) -> Envelope:
    spec = REGISTRY.get(type_)
    if spec is not None:
        data = spec.model.model_validate(data).model_dump(mode="json")
        version = version or spec.version
    return Envelope(
        event_id=uuid.uuid4(),
        type=type_,
        version=version or 1,
        occurred_at=datetime.now(timezone.utc),
        city_id=city_id,
        actor_id=actor_id,
        data=data,
    )


def parse(payload: dict) -> Envelope:
    return Envelope.model_validate(payload)
