"""Analytics read models converge whatever the order and repetition of events, and every replica answers
the same similar ideas although each consumes only part of the events.

Run with AGORA_SERVICES=accounts,ideas,voting,analytics.
"""
import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from e2e.ideas_helpers import new_idea, new_project
from kombu import Connection, Exchange, Producer
from support import Platform, eventually


class Bus:
    """Publishes envelope-shaped events on `<service>.events`, as the services' outbox relays do."""

    def __init__(self, amqp_uri: str):
        self.conn = Connection(amqp_uri, transport_options={"confirm_publish": True})
        self.channel = self.conn.channel()

    def publish(self, type_: str, city, data: dict, *, at: datetime, event_id: str | None = None) -> str:
        service, name = type_.split(".", 1)
        exchange = Exchange(f"{service}.events", type="topic", durable=True)
        exchange(self.channel).declare()
        event_id = event_id or str(uuid.uuid4())
        envelope = {"event_id": event_id, "type": type_, "version": 1, "occurred_at": at.isoformat(),
                    "city_id": city["id"], "actor_id": None, "data": data}
        Producer(self.channel, exchange=exchange, serializer="json").publish(
            envelope, routing_key=name, delivery_mode=2, retry=True)
        return event_id

    def close(self):
        self.conn.release()


@pytest.fixture
def bus(environment):
    b = Bus(environment.amqp_uri)
    yield b
    b.close()


def _export(api, city, project_id) -> dict:
    r = api.get(f"/cities/{city['slug']}/projects/{project_id}/export.csv", token=city["admin_token"])
    assert r.status_code == 200, r.text
    return {row["idea_id"]: row for row in csv.DictReader(io.StringIO(r.text))}


def _calls(ops_port: int, entrypoint: str) -> float:
    """How many times the analytics entrypoint ran in the process behind this ops port (its metrics)."""
    text = requests.get(f"http://127.0.0.1:{ops_port}/metrics", timeout=5).text
    key = f'agora_entrypoint_seconds_count{{entrypoint="{entrypoint}",outcome="ok",service="analytics"}}'
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(key))


def test_read_models_converge_whatever_the_order_of_events(api, city, bus):
    t0 = datetime.now(UTC) - timedelta(minutes=10)
    project_id, idea_id, author = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    idea = {"idea_id": idea_id, "project_id": project_id, "author_id": author, "topics": [], "locale": "en",
            "location": None, "status": "proposed", "created_at": t0.isoformat()}

    def vote(up, version):
        return {"vote_id": str(uuid.uuid4()), "target_type": "idea", "target_id": idea_id, "idea_id": idea_id,
                "project_id": project_id, "voter_id": str(uuid.uuid4()), "author_id": author, "value": "up",
                "previous_value": None, "up_votes": up, "down_votes": 0, "target_version": version}

    # Newest facts first, older ones after; one vote event delivered twice.
    newest_vote = bus.publish("voting.vote_cast", city, vote(2, 2), at=t0 + timedelta(minutes=3))
    bus.publish("voting.vote_cast", city, vote(2, 2), at=t0 + timedelta(minutes=3), event_id=newest_vote)
    bus.publish("ideas.idea_updated", city, {**idea, "title": "Edited title", "body": "Edited body about bikes"},
                at=t0 + timedelta(minutes=2))
    bus.publish("accounts.user_updated", city, {"user_id": author, "city_id": city["id"], "display_name": "A",
                                                "birth_year": 1950, "gender": "male", "district": "Noord",
                                                "locale": "en", "role": "citizen"}, at=t0 + timedelta(minutes=2))
    bus.publish("ideas.idea_created", city, {**idea, "title": "First title", "body": "First body"},
                at=t0 + timedelta(minutes=1))
    bus.publish("voting.vote_cast", city, vote(1, 1), at=t0 + timedelta(minutes=1))
    bus.publish("accounts.user_registered", city, {"user_id": author, "city_id": city["id"], "display_name": "A",
                                                   "birth_year": 2000, "gender": "female", "district": "Centrum",
                                                   "locale": "en", "role": "citizen"}, at=t0)
    bus.publish("ideas.idea_status_changed", city, {"idea_id": idea_id, "project_id": project_id, "author_id": author,
                                                    "old_status": "proposed", "status": "accepted", "feedback": None},
                at=t0 + timedelta(minutes=4))
    # A malformed event is dropped, not retried forever.
    bus.publish("ideas.idea_created", city, {"idea_id": "not-a-uuid"}, at=t0)

    def converged():
        row = _export(api, city, project_id).get(idea_id)
        assert row is not None
        assert row["title"] == "Edited title" and row["up_votes"] == "2" and row["status"] == "accepted"
        assert (row["author_age_group"], row["author_gender"], row["author_district"]) == ("65+", "male", "Noord")
        return row

    eventually(converged, timeout=15)
    # An event of another city naming this idea changes nothing here; the next one on the same queue does.
    other = api.new_city()
    bus.publish("ideas.idea_updated", other, {**idea, "title": "Hijacked", "body": "x"}, at=t0 + timedelta(minutes=8))
    bus.publish("ideas.idea_updated", city, {**idea, "title": "Final title", "body": "Final body about bikes"},
                at=t0 + timedelta(minutes=3))
    eventually(lambda: _export(api, city, project_id)[idea_id]["title"] == "Final title", timeout=10)
    # The two vote events counted once each in the dashboard (the redelivered one once).
    d = api.get(f"/cities/{city['slug']}/dashboard", token=city["admin_token"],
                params={"from": (t0 - timedelta(days=1)).date().isoformat(), "project_id": project_id}).json()
    assert d["totals"]["votes"] == 2 and d["totals"]["ideas"] == 1
    r = api.post(f"/cities/{city['slug']}/projects/{project_id}/similar", json={"title": "bikes"})
    assert [i["idea_id"] for i in r.json()["items"]] == [idea_id]

    # Hidden, restored, deleted: the similar ideas follow.
    moderation = {"target_type": "idea", "target_id": idea_id, "idea_id": idea_id, "project_id": project_id,
                  "author_id": author, "flags": 3}
    bus.publish("ideas.content_hidden", city, moderation, at=t0 + timedelta(minutes=5))
    eventually(lambda: api.post(f"/cities/{city['slug']}/projects/{project_id}/similar",
                                json={"title": "bikes"}).json()["items"] == [], timeout=10)
    bus.publish("ideas.content_restored", city, {**moderation, "flags": 0}, at=t0 + timedelta(minutes=6))
    eventually(lambda: api.post(f"/cities/{city['slug']}/projects/{project_id}/similar",
                                json={"title": "bikes"}).json()["items"], timeout=10)
    bus.publish("ideas.idea_deleted", city, {"idea_id": idea_id, "project_id": project_id, "author_id": author,
                                             "deleted_by": author}, at=t0 + timedelta(minutes=7))
    eventually(lambda: idea_id not in _export(api, city, project_id), timeout=10)
    assert api.get(f"/cities/{city['slug']}/ideas/{idea_id}/similar").status_code == 404


def test_every_replica_finds_the_ideas_the_other_consumed(api, city, environment, platform, tmp_path):
    """A second analytics replica competes for the same queues: each consumes part of the idea events,
    and yet whichever replica answers a query knows every idea."""
    second = Platform(environment, ["analytics"], gateway=False, log_dir=tmp_path, name="analytics-2",
                      extra_env={k: v for k, v in platform.env.items() if k.startswith(("LOGIN_", "WEBHOOK_"))})
    second.start()
    try:
        project = new_project(api, city)
        user = api.new_user(city)
        words = ["tram", "bridge", "fountain", "library", "playground", "market", "skatepark", "harbour"]
        ideas = {w: new_idea(api, city, project, user, title=f"A new {w}", body=f"Please build a {w} in our {w} district.")
                 for w in words}
        for w, idea in ideas.items():
            # RPC calls are spread over both replicas: ask several times, each must know the idea.
            def found(w=w, idea=idea):
                for _ in range(4):
                    r = api.post(f"/cities/{city['slug']}/projects/{project['id']}/similar",
                                 json={"title": w, "body": w}, params={"limit": 1})
                    assert r.status_code == 200 and [i["idea_id"] for i in r.json()["items"]] == [idea["id"]], r.text
                return True

            eventually(found, timeout=10)
        # Both replicas did take part: each consumed idea events and answered queries.
        for port in (platform.ops_port, second.ops_port):
            assert _calls(port, "on_idea_created") >= 1 and _calls(port, "similar_to_draft") >= 1
    finally:
        second.stop()
