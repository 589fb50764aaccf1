"""Drive the gamification service with envelope-shaped events on the other services' exchanges."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

from kombu import Connection, Exchange, Producer, Queue

from support import eventually


class Bus:
    """Publishes events as ideas, voting, budgeting and accounts do (plain kombu, publisher confirms)."""

    def __init__(self, amqp_uri: str):
        self.conn = Connection(amqp_uri, transport_options={"confirm_publish": True})
        self.channel = self.conn.channel()
        self.producers: dict[str, Producer] = {}

    def envelope(self, type_: str, city, data: dict, *, occurred_at: datetime | None = None,
                 actor_id=None) -> dict:
        return {
            "event_id": str(uuid.uuid4()), "type": type_, "version": 1,
            "occurred_at": (occurred_at or datetime.now(timezone.utc)).isoformat(),
            "city_id": city["id"] if isinstance(city, dict) else str(city),
            "actor_id": str(actor_id) if actor_id else None,
            "data": json.loads(json.dumps(data, default=str)),
        }

    def publish(self, envelope: dict) -> dict:
        service, name = envelope["type"].split(".", 1)
        producer = self.producers.get(service)
        if producer is None:
            exchange = Exchange(f"{service}.events", type="topic", durable=True)
            exchange(self.channel).declare()
            producer = self.producers[service] = Producer(self.channel, exchange=exchange, serializer="json")
        producer.publish(envelope, routing_key=name, delivery_mode=2, headers={"event_id": envelope["event_id"]})
        return envelope

    def send(self, type_: str, city, data: dict, **kw) -> dict:
        return self.publish(self.envelope(type_, city, data, **kw))

    # the events gamification listens to --------------------------------------------------------
    def idea_created(self, city, author_id, idea_id=None, **kw) -> dict:
        idea_id = idea_id or str(uuid.uuid4())
        return self.send("ideas.idea_created", city, {
            "idea_id": idea_id, "project_id": str(uuid.uuid4()), "author_id": author_id, "title": "t",
            "body": "b", "topics": [], "locale": "en", "location": None, "status": "proposed",
            "created_at": kw.pop("created_at", datetime.now(timezone.utc)).isoformat(),
        }, **kw)

    def vote(self, name: str, city, *, vote_id, target_id, voter_id, author_id, value="up", previous=None,
             version=1, target_type="idea", **kw) -> dict:
        return self.send(f"voting.{name}", city, {
            "vote_id": vote_id, "target_type": target_type, "target_id": target_id,
            "idea_id": target_id if target_type == "idea" else str(uuid.uuid4()), "project_id": str(uuid.uuid4()),
            "voter_id": voter_id, "author_id": author_id, "value": value, "previous_value": previous,
            "up_votes": 1, "down_votes": 0, "target_version": version,
        }, actor_id=voter_id, **kw)

    def close(self):
        self.conn.release()


class Listener:
    """A durable-queue-like subscriber to `gamification.events` (exclusive, for the test's duration)."""

    def __init__(self, amqp_uri: str):
        self.conn = Connection(amqp_uri)
        self.queue = Queue(f"test-gamification-{uuid.uuid4().hex[:8]}",
                           Exchange("gamification.events", type="topic", durable=True),
                           routing_key="#", exclusive=True)
        self.seen: list[dict] = []
        self.consumer = self.conn.Consumer(self.queue, callbacks=[self._on], accept=["json"])
        self.consumer.consume()

    def _on(self, body, message):
        self.seen.append(body)
        message.ack()

    def drain(self):
        try:
            while True:
                self.conn.drain_events(timeout=0.2)
        except Exception:
            pass
        return self.seen

    def of(self, type_: str, **data) -> list[dict]:
        self.drain()
        return [e for e in self.seen if e["type"] == type_ and all(e["data"].get(k) == v for k, v in data.items())]

    def close(self):
        self.conn.release()


def score(api, city, user_id, **params) -> dict:
    r = api.get(f"/cities/{city['slug']}/users/{user_id}/score", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def wait_points(api, city, user_id, points, timeout=5.0, **params) -> dict:
    def check():
        s = score(api, city, user_id, **params)
        assert s["points"] == points, s
        return s

    return eventually(check, timeout=timeout)


def duplicates_seen(platform) -> float:
    """How many redelivered events gamification recognised and skipped (from the ops /metrics)."""
    import requests

    text = requests.get(f"http://127.0.0.1:{platform.ops_port}/metrics", timeout=5).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("agora_events_duplicate_total{") and 'service="gamification"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total
