"""Every event type is declared with a valid example, and docs/events.md is generated from them."""
import uuid

import pytest
from pydantic import ValidationError

from services.common import eventdocs
from services.common.events import REGISTRY, Envelope, new_event


def test_every_registered_example_is_valid_and_documented():
    eventdocs.load_all()
    assert "accounts.user_registered" in REGISTRY
    for spec in REGISTRY.values():
        spec.model.model_validate(spec.example)
        assert spec.description, f"{spec.type} needs a description"


def test_docs_events_md_is_up_to_date():
    assert eventdocs.DOC.read_text() == eventdocs.render(), "run `make docs`"


def test_new_event_validates_data_against_the_schema():
    eventdocs.load_all()
    city = uuid.uuid4()
    env = new_event("accounts.role_changed", city_id=city, data={"user_id": str(uuid.uuid4()), "city_id": str(city),
                                                                  "role": "moderator"})
    assert env.type == "accounts.role_changed" and env.name == "role_changed" and env.service == "accounts"
    with pytest.raises(ValidationError):
        new_event("accounts.role_changed", city_id=city, data={"user_id": "x", "role": "king"})


def test_envelope_round_trips_as_json():
    env = new_event("x.thing_done", data={"a": 1})
    assert Envelope.model_validate_json(env.model_dump_json()) == env
