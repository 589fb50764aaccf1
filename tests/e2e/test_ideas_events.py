"""The events of the ideas service on the bus: a plain kombu subscriber, the documented schemas, vote_target."""
import importlib.util
import threading
import uuid
from pathlib import Path

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from e2e.ideas_helpers import new_idea, new_project
from services.common.events import REGISTRY
from services.ideas import schemas as _registers_the_ideas_events  # noqa: F401
from support import eventually

ROOT = Path(__file__).resolve().parents[2]


def _subscriber_module():
    spec = importlib.util.spec_from_file_location("subscriber_example", ROOT / "docs" / "examples" / "subscriber.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Listening:
    """Runs the example subscriber in a thread, collecting what it prints."""

    def __init__(self, amqp_uri, routing_key):
        self.received, self.bound = [], threading.Event()
        module = _subscriber_module()
        self.thread = threading.Thread(target=module.subscribe, daemon=True, kwargs=dict(
            amqp_uri=amqp_uri, exchange="ideas.events", routing_key=routing_key,
            queue=f"backoffice-test-{uuid.uuid4().hex[:8]}", handle=self.received.append, timeout=20,
            ready=self.bound.set))
        self.thread.start()
        assert self.bound.wait(10), "the subscriber did not bind its queue"

    def of(self, type_, **data):
        return [e for e in self.received if e["type"] == type_ and all(e["data"].get(k) == v for k, v in data.items())]


@pytest.fixture
def everything(environment, api):
    return Listening(environment.amqp_uri, "#")


def test_kombu_subscriber_receives_idea_created(api, city, environment):
    listening = Listening(environment.amqp_uri, "idea_created")
    project = new_project(api, city)
    user = api.new_user(city)
    idea = new_idea(api, city, project, user, topics=["green"])
    got = eventually(lambda: listening.of("ideas.idea_created", idea_id=idea["id"]), timeout=10)
    envelope = got[0]
    assert envelope["city_id"] == city["id"] and envelope["actor_id"] == user["id"]
    assert envelope["data"]["title"] == idea["title"] and envelope["data"]["topics"] == ["green"]
    assert envelope["data"]["author_id"] == user["id"] and envelope["data"]["project_id"] == project["id"]
    assert {e["type"] for e in listening.received} == {"ideas.idea_created"}


def test_every_change_publishes_its_documented_event(api, city, everything):
    import jsonschema

    slug, admin = city["slug"], city["admin_token"]
    project = new_project(api, city, flag_threshold=1)
    api.patch(f"/cities/{slug}/projects/{project['id']}", token=admin, json={"topics": ["green", "mobility"]})
    author, other = api.new_user(city), api.new_user(city)
    moderator = api.promote(city, api.new_user(city), "moderator")
    idea = new_idea(api, city, project, author)
    api.patch(f"/cities/{slug}/ideas/{idea['id']}", token=author["token"], json={"topics": ["green"]})
    api.post(f"/cities/{slug}/ideas/{idea['id']}/status", token=admin,
             json={"status": "under_review", "feedback": {"en": "Thanks"}})
    top = api.post(f"/cities/{slug}/ideas/{idea['id']}/comments", token=other["token"], json={"body": "Nice"}).json()
    reply = api.post(f"/cities/{slug}/ideas/{idea['id']}/comments", token=author["token"],
                     json={"body": "Thanks", "parent_id": top["id"]}).json()
    api.delete(f"/cities/{slug}/comments/{reply['id']}", token=author["token"])
    api.post(f"/cities/{slug}/ideas/{idea['id']}/flags", token=other["token"], json={"reason": "spam"})
    api.post(f"/cities/{slug}/moderation/idea/{idea['id']}", token=moderator["token"], json={"decision": "restore"})
    api.delete(f"/cities/{slug}/ideas/{idea['id']}", token=author["token"])

    expected = {
        "ideas.project_created": {"project_id": project["id"]},
        "ideas.project_updated": {"project_id": project["id"], "topics": ["green", "mobility"]},
        "ideas.idea_created": {"idea_id": idea["id"], "status": "proposed"},
        "ideas.idea_updated": {"idea_id": idea["id"], "topics": ["green"]},
        "ideas.idea_status_changed": {"idea_id": idea["id"], "old_status": "proposed", "status": "under_review",
                                      "feedback": {"en": "Thanks"}},
        "ideas.comment_created": {"comment_id": reply["id"], "parent_id": top["id"], "parent_author_id": other["id"],
                                  "idea_author_id": author["id"]},
        "ideas.comment_deleted": {"comment_id": reply["id"], "author_id": author["id"]},
        "ideas.content_hidden": {"target_type": "idea", "target_id": idea["id"], "flags": 1},
        "ideas.content_restored": {"target_type": "idea", "target_id": idea["id"], "flags": 1},
        "ideas.idea_deleted": {"idea_id": idea["id"], "deleted_by": author["id"]},
    }
    for type_, data in expected.items():
        eventually(lambda: everything.of(type_, **data), timeout=10)
    for envelope in everything.received:
        if envelope["city_id"] == city["id"]:
            jsonschema.validate(envelope["data"], REGISTRY[envelope["type"]].model.model_json_schema())


def test_vote_target_rpc(api, city, environment):
    project = new_project(api, city, allow_down_votes=False)
    author, other = api.new_user(city), api.new_user(city)
    idea = new_idea(api, city, project, author)
    comment = api.post(f"/cities/{city['slug']}/ideas/{idea['id']}/comments", token=other["token"],
                       json={"body": "hi"}).json()
    with ClusterRpcProxy({"AMQP_URI": environment.amqp_uri, "serializer": "json"}, timeout=10) as rpc:
        target = rpc.ideas.vote_target(city["id"], "idea", idea["id"])
        assert target == {"target_type": "idea", "target_id": idea["id"], "idea_id": idea["id"],
                          "project_id": project["id"], "author_id": author["id"], "visible": True,
                          "project_status": "active", "allow_down_votes": False}
        target = rpc.ideas.vote_target(city["id"], "comment", comment["id"])
        assert (target["idea_id"], target["author_id"], target["visible"]) == (idea["id"], other["id"], True)
        api.delete(f"/cities/{city['slug']}/ideas/{idea['id']}", token=author["token"])
        assert rpc.ideas.vote_target(city["id"], "comment", comment["id"])["visible"] is False
        from services.common.errors import NotFound

        other_city = api.new_city()
        for args in ((other_city["id"], "idea", idea["id"]), (city["id"], "idea", str(uuid.uuid4())),
                     (city["id"], "idea", "nope"), (city["id"], "poll", idea["id"])):
            with pytest.raises(NotFound):
                rpc.ideas.vote_target(*args)
