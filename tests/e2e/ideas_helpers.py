"""Factories shared by the ideas e2e tests."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from kombu import Connection, Exchange, Producer


def new_project(api, city, **fields) -> dict:
    body = {"title": {"en": "Car-free centre", "nl": "Autovrij centrum"}, "method": "ideation",
            "status": "active", "topics": ["mobility", "green", "safety"], **fields}
    r = api.post(f"/cities/{city['slug']}/projects", token=city["admin_token"], json=body)
    assert r.status_code == 201, r.text
    return r.json()


def new_idea(api, city, project, user, **fields) -> dict:
    body = {"title": "More bike parking", "body": "The racks at the station are always full.", **fields}
    r = api.post(f"/cities/{city['slug']}/projects/{project['id']}/ideas", token=user["token"], json=body)
    assert r.status_code == 201, r.text
    return r.json()


def ideas_of(api, city, project, token=None, **params) -> dict:
    r = api.get(f"/cities/{city['slug']}/projects/{project['id']}/ideas", token=token, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def all_pages(api, city, project, token=None, **params) -> list[dict]:
    items, cursor = [], None
    while True:
        page = ideas_of(api, city, project, token, **({"cursor": cursor} if cursor else {}), **params)
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


class VotingEvents:
    """Publishes envelope-shaped voting events on `voting.events`, as the voting service does."""

    def __init__(self, amqp_uri: str):
        self.conn = Connection(amqp_uri, transport_options={"confirm_publish": True})
        self.exchange = Exchange("voting.events", type="topic", durable=True)
        self.producer = Producer(self.conn.channel(), exchange=self.exchange, serializer="json")
        self.exchange(self.producer.channel).declare()
        self.versions: dict[str, int] = {}

    def publish(self, name: str, city, target_id: str, up: int, down: int, *, value="up", previous=None,
                target_type="idea", version: int | None = None, occurred_at: datetime | None = None,
                event_id: str | None = None) -> dict:
        if version is None:
            version = self.versions.get(target_id, 0) + 1
        self.versions[target_id] = max(version, self.versions.get(target_id, 0))
        envelope = {
            "event_id": event_id or str(uuid.uuid4()), "type": f"voting.{name}", "version": 1,
            "occurred_at": (occurred_at or datetime.now(timezone.utc)).isoformat(),
            "city_id": city["id"], "actor_id": str(uuid.uuid4()),
            "data": {
                "vote_id": str(uuid.uuid4()), "target_type": target_type, "target_id": target_id,
                "idea_id": target_id, "project_id": str(uuid.uuid4()), "voter_id": str(uuid.uuid4()),
                "author_id": str(uuid.uuid4()), "value": value, "previous_value": previous,
                "up_votes": up, "down_votes": down, "target_version": version,
            },
        }
        self.producer.publish(envelope, routing_key=name, delivery_mode=2, retry=True)
        return envelope

    def totals(self, city, target_id: str, up: int, down: int, **kw) -> dict:
        """One vote_cast event that brings the target to these totals."""
        return self.publish("vote_cast", city, target_id, up, down, **kw)

    def close(self):
        self.conn.release()
