"""Helpers of the voting e2e tests: users, content to vote on, and the bus.

Content comes from the real ideas routes when the ideas service runs with its routes; otherwise the
tests publish envelope-shaped `ideas.*` events on `ideas.events`, exactly as the ideas service would,
and wait until voting has applied them.
"""
from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import requests
from kombu import Connection, Exchange, Producer, Queue

from support import eventually, service_names

def new_user(api, city, **profile) -> dict:
    """A signed-up, logged-in user."""
    return api.new_user(city, **profile)


def minted_users(city, count: int) -> list[dict]:
    """Real users (the gateway checks every token's user) written straight into accounts' table, with
    tokens signed by the platform's secret: hundreds of voters without two argon2 hashes each."""
    import os

    from cluster import inserted_users

    return inserted_users(os.environ["DATABASE_URL"], city, count)


def new_users(api, city, count: int, **profile) -> list[dict]:
    with ThreadPoolExecutor(max_workers=10) as pool:
        return list(pool.map(lambda _: new_user(api, city, **profile), range(count)))


def ideas_routes_live(api) -> bool:
    if "ideas" not in service_names():
        return False
    paths = requests.get(api.base.rsplit("/api/v1", 1)[0] + "/openapi.json", timeout=10).json()["paths"]
    return any(p.startswith("/api/v1/cities/{city}/projects/") and p.endswith("/ideas") and "post" in paths[p]
               for p in paths)


class Bus:
    """Publishes envelope-shaped events as a service's outbox relay does, and listens to voting's."""

    def __init__(self, amqp_uri: str):
        self.conn = Connection(amqp_uri, transport_options={"confirm_publish": True})
        self.channel = self.conn.channel()

    def publish(self, type_: str, city_id: str, data: dict, *, occurred_at: datetime | None = None,
                event_id: str | None = None) -> dict:
        service, name = type_.split(".", 1)
        exchange = Exchange(f"{service}.events", type="topic", durable=True)
        envelope = {
            "event_id": event_id or str(uuid.uuid4()), "type": type_, "version": 1,
            "occurred_at": (occurred_at or datetime.now(timezone.utc)).isoformat(),
            "city_id": city_id, "actor_id": None, "data": data,
        }
        producer = Producer(self.channel, exchange=exchange, serializer="json")
        exchange(self.channel).declare()
        producer.publish(json.loads(json.dumps(envelope, default=str)), routing_key=name, delivery_mode=2)
        return envelope

    def tap(self, service: str = "voting") -> "Tap":
        return Tap(self.conn, service)

    def close(self):
        self.conn.release()


class Tap:
    """A private queue bound to every event of one service, to see what it published."""

    def __init__(self, conn, service: str):
        self.conn = conn
        exchange = Exchange(f"{service}.events", type="topic", durable=True)
        self.queue = Queue(f"test-tap-{uuid.uuid4().hex[:8]}", exchange=exchange, routing_key="#",
                           exclusive=True, auto_delete=True)
        self.channel = conn.channel()
        exchange(self.channel).declare()
        self.queue(self.channel).declare()
        self.events: list[dict] = []

    def drain(self, until, timeout: float = 5.0) -> list[dict]:
        """Collect events until `until(events)` holds (then a short quiet period), or fail after `timeout`."""
        deadline = datetime.now() + timedelta(seconds=timeout)
        bound = self.queue(self.channel)
        satisfied_at = None
        while datetime.now() < deadline:
            message = bound.get(no_ack=True)
            if message is not None:
                self.events.append(message.payload if isinstance(message.payload, dict) else json.loads(message.body))
                satisfied_at = None
                continue
            if until(self.events):
                satisfied_at = satisfied_at or datetime.now()
                if datetime.now() - satisfied_at > timedelta(seconds=0.5):  # nothing more arrives
                    return self.events
            time.sleep(0.05)
        assert until(self.events), f"events not seen within {timeout}s: {[e['type'] for e in self.events]}"
        return self.events


class Content:
    """Projects, ideas and comments to vote on, in one city."""

    def __init__(self, api, city, bus: Bus, real: bool):
        self.api, self.city, self.bus, self.real = api, city, bus, real
        self.slug = city["slug"]

    # projects -------------------------------------------------------------------------------------
    def project(self, *, method="ideation", status="active", allow_down_votes=True) -> str:
        if self.real:
            r = self.api.post(f"/cities/{self.slug}/projects", token=self.city["admin_token"], json={
                "title": {"en": "Mobility", "nl": "Mobiliteit"}, "method": method, "status": status,
                "allow_down_votes": allow_down_votes})
            assert r.status_code == 201, r.text
            return r.json()["id"]
        project_id = str(uuid.uuid4())
        self.bus.publish("ideas.project_created", self.city["id"], self._project_data(
            project_id, method, status, allow_down_votes))
        return project_id

    def _project_data(self, project_id, method, status, allow_down_votes):
        return {"project_id": project_id, "title": {"en": "Mobility"}, "method": method, "status": status,
                "topics": [], "allow_down_votes": allow_down_votes, "created_by": self.city["admin_id"]}

    def update_project(self, project_id: str, *, method="ideation", status="active", allow_down_votes=True,
                       occurred_at=None) -> None:
        if self.real and occurred_at is None:
            r = self.api.patch(f"/cities/{self.slug}/projects/{project_id}", token=self.city["admin_token"],
                               json={"status": status, "allow_down_votes": allow_down_votes})
            assert r.status_code == 200, r.text
            return
        self.bus.publish("ideas.project_updated", self.city["id"],
                         self._project_data(project_id, method, status, allow_down_votes), occurred_at=occurred_at)

    # ideas and comments ---------------------------------------------------------------------------
    def idea(self, project_id: str, author: dict, wait: bool = True) -> str:
        if self.real:
            r = self.api.post(f"/cities/{self.slug}/projects/{project_id}/ideas", token=author["token"],
                              json={"title": "More bike parking", "body": "The racks at the station are full."})
            assert r.status_code == 201, r.text
            return r.json()["id"]
        idea_id = str(uuid.uuid4())
        self.bus.publish("ideas.idea_created", self.city["id"], {
            "idea_id": idea_id, "project_id": project_id, "author_id": author["id"], "title": "More bike parking",
            "body": "The racks are full.", "topics": [], "locale": "en", "location": None, "status": "proposed",
            "created_at": datetime.now(timezone.utc).isoformat()})
        if wait:
            self.wait_known("idea", idea_id)
        return idea_id

    def comment(self, idea_id: str, project_id: str, author: dict, idea_author: dict) -> str:
        if self.real:
            r = self.api.post(f"/cities/{self.slug}/ideas/{idea_id}/comments", token=author["token"],
                              json={"body": "Agreed, and near the library too."})
            assert r.status_code == 201, r.text
            return r.json()["id"]
        comment_id = str(uuid.uuid4())
        self.bus.publish("ideas.comment_created", self.city["id"], {
            "comment_id": comment_id, "idea_id": idea_id, "project_id": project_id, "author_id": author["id"],
            "idea_author_id": idea_author["id"], "parent_id": None, "parent_author_id": None,
            "body": "Agreed.", "created_at": datetime.now(timezone.utc).isoformat()})
        self.wait_known("comment", comment_id)
        return comment_id

    def delete_idea(self, idea_id: str, project_id: str, author: dict) -> None:
        if self.real:
            r = self.api.delete(f"/cities/{self.slug}/ideas/{idea_id}", token=author["token"])
            assert r.status_code in (200, 204), r.text
            return
        self.bus.publish("ideas.idea_deleted", self.city["id"], {
            "idea_id": idea_id, "project_id": project_id, "author_id": author["id"], "deleted_by": author["id"]})

    def visibility(self, target_type: str, target_id: str, idea_id: str, project_id: str, author: dict,
                   hidden: bool, occurred_at=None) -> dict:
        """Moderation facts always come from the bus here: what voting does with them is under test."""
        return self.bus.publish(
            "ideas.content_hidden" if hidden else "ideas.content_restored", self.city["id"],
            {"target_type": target_type, "target_id": target_id, "idea_id": idea_id, "project_id": project_id,
             "author_id": author["id"], "flags": 3}, occurred_at=occurred_at)

    def wait_known(self, target_type: str, target_id: str) -> None:
        eventually(lambda: self.api.get(f"/cities/{self.slug}/{target_type}s/{target_id}/vote").status_code == 200)
