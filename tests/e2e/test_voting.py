"""Votes on ideas and comments through the gateway: the rules, the events, and the read model of targets."""
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from support import eventually, service_names
from e2e.voting_helpers import Bus, Content, ideas_routes_live, new_user

IDEAS_RUNNING = "ideas" in service_names()


@pytest.fixture(scope="module")
def bus(environment):
    b = Bus(environment.amqp_uri)
    yield b
    b.close()


@pytest.fixture(scope="module")
def real(api):
    return ideas_routes_live(api)


@pytest.fixture
def content(api, city, bus, real):
    return Content(api, city, bus, real)


@pytest.fixture
def idea_setup(api, city, content):
    author = new_user(api, city)
    project = content.project()
    idea = content.idea(project, author)
    return author, project, idea


def vote(api, city, user, idea, value, kind="idea"):
    return api.put(f"/cities/{city['slug']}/{kind}s/{idea}/vote", token=user["token"], json={"value": value})


def totals(api, city, idea, kind="idea", token=None):
    r = api.get(f"/cities/{city['slug']}/{kind}s/{idea}/vote", token=token)
    assert r.status_code == 200, r.text
    return r.json()


def of_target(target_id):
    return lambda events: [e for e in events if e["data"]["target_id"] == target_id]


def test_put_again_changes_delete_withdraws_and_events_carry_totals(api, city, bus, idea_setup):
    author, project, idea = idea_setup
    voter = new_user(api, city)
    tap = bus.tap()
    slug = city["slug"]
    r = vote(api, city, voter, idea, "up")
    assert r.status_code == 200 and r.json() == {"value": "up", "up_votes": 1, "down_votes": 0}
    assert vote(api, city, voter, idea, "up").json() == {"value": "up", "up_votes": 1, "down_votes": 0}
    assert vote(api, city, voter, idea, "down").json() == {"value": "down", "up_votes": 0, "down_votes": 1}
    assert totals(api, city, idea, token=voter["token"]) == {"value": "down", "up_votes": 0, "down_votes": 1}
    assert totals(api, city, idea) == {"value": None, "up_votes": 0, "down_votes": 1}
    r = api.delete(f"/cities/{slug}/ideas/{idea}/vote", token=voter["token"])
    assert r.status_code == 200 and r.json() == {"value": None, "up_votes": 0, "down_votes": 0}
    r = api.delete(f"/cities/{slug}/ideas/{idea}/vote", token=voter["token"])  # nothing left to withdraw
    assert r.status_code == 200 and r.json() == {"value": None, "up_votes": 0, "down_votes": 0}
    assert vote(api, city, voter, idea, "up").json() == {"value": "up", "up_votes": 1, "down_votes": 0}

    events = tap.drain(lambda ev: len(of_target(idea)(ev)) >= 4)
    events = sorted(of_target(idea)(events), key=lambda e: e["data"]["target_version"])
    assert [e["type"] for e in events] == ["voting.vote_cast", "voting.vote_changed", "voting.vote_withdrawn",
                                           "voting.vote_cast"]
    assert [e["data"]["target_version"] for e in events] == [1, 2, 3, 4]
    assert [(e["data"]["value"], e["data"]["previous_value"]) for e in events] == [
        ("up", None), ("down", "up"), ("down", "down"), ("up", None)]
    assert [(e["data"]["up_votes"], e["data"]["down_votes"]) for e in events] == [(1, 0), (0, 1), (0, 0), (1, 0)]
    first = events[0]
    assert first["city_id"] == city["id"] and first["actor_id"] == voter["id"]
    assert first["data"] == {
        "vote_id": first["data"]["vote_id"], "target_type": "idea", "target_id": idea, "idea_id": idea,
        "project_id": project, "voter_id": voter["id"], "author_id": author["id"], "value": "up",
        "previous_value": None, "up_votes": 1, "down_votes": 0, "target_version": 1}
    assert events[1]["data"]["vote_id"] == first["data"]["vote_id"]  # the same vote, changed
    assert events[3]["data"]["vote_id"] != first["data"]["vote_id"]  # a new vote after the withdrawal


def test_votes_on_comments_and_never_on_own_content(api, city, content, idea_setup):
    author, project, idea = idea_setup
    commenter, voter = new_user(api, city), new_user(api, city)
    comment = content.comment(idea, project, commenter, author)
    r = vote(api, city, author, idea, "up")
    assert r.status_code == 409 and r.json()["error"]["code"] == "CONFLICT"
    r = vote(api, city, commenter, comment, "up", kind="comment")
    assert r.status_code == 409
    assert vote(api, city, voter, comment, "down", kind="comment").json() == {
        "value": "down", "up_votes": 0, "down_votes": 1}
    assert vote(api, city, author, comment, "up", kind="comment").json()["up_votes"] == 1
    assert totals(api, city, comment, kind="comment") == {"value": None, "up_votes": 1, "down_votes": 1}
    assert totals(api, city, idea) == {"value": None, "up_votes": 0, "down_votes": 0}


def test_hidden_content_takes_no_votes_until_restored_whatever_the_order_of_facts(api, city, content, idea_setup):
    author, project, idea = idea_setup
    voter, other = new_user(api, city), new_user(api, city)
    assert vote(api, city, voter, idea, "up").status_code == 200
    t0 = datetime.now(timezone.utc)
    content.visibility("idea", idea, idea, project, author, hidden=True, occurred_at=t0)
    # probes repeat the voter's own value, so a probe that gets through changes nothing
    eventually(lambda: vote(api, city, voter, idea, "up").status_code == 409)
    assert "hidden" in vote(api, city, voter, idea, "up").json()["error"]["message"]
    assert vote(api, city, other, idea, "down").status_code == 409
    content.visibility("idea", idea, idea, project, author, hidden=False, occurred_at=t0 + timedelta(seconds=2))
    eventually(lambda: vote(api, city, voter, idea, "up").status_code == 200)
    # a hide older than the restore, arriving late, changes nothing
    content.visibility("idea", idea, idea, project, author, hidden=True, occurred_at=t0 + timedelta(seconds=1))
    assert vote(api, city, other, idea, "down").status_code == 200
    for _ in range(10):
        time.sleep(0.1)
        assert vote(api, city, other, idea, "down").status_code == 200
    assert totals(api, city, idea) == {"value": None, "up_votes": 1, "down_votes": 1}


def test_deleted_content_takes_no_votes_and_a_late_create_does_not_revive_it(api, city, bus, content, idea_setup):
    author, project, idea = idea_setup
    voter = new_user(api, city)
    assert vote(api, city, voter, idea, "up").status_code == 200
    content.delete_idea(idea, project, author)
    eventually(lambda: vote(api, city, voter, idea, "up").status_code == 409)
    assert "deleted" in vote(api, city, voter, idea, "down").json()["error"]["message"]
    assert totals(api, city, idea)["up_votes"] == 1  # the refused vote changed nothing
    # facts in the wrong order: the delete of a new idea arrives before its creation
    late = str(uuid.uuid4())
    bus.publish("ideas.idea_deleted", city["id"], {"idea_id": late, "project_id": project,
                                                    "author_id": author["id"], "deleted_by": author["id"]})
    eventually(lambda: vote(api, city, voter, late, "up").status_code == 409)
    bus.publish("ideas.idea_created", city["id"], {
        "idea_id": late, "project_id": project, "author_id": author["id"], "title": "t", "body": "b",
        "topics": [], "locale": "en", "location": None, "status": "proposed",
        "created_at": datetime.now(timezone.utc).isoformat()})
    # and the same event twice: applied once, changes nothing
    dup = bus.publish("ideas.idea_deleted", city["id"], {"idea_id": late, "project_id": project,
                                                          "author_id": author["id"], "deleted_by": author["id"]})
    bus.publish("ideas.idea_deleted", city["id"], dup["data"], event_id=dup["event_id"])
    for _ in range(10):
        assert vote(api, city, voter, late, "up").status_code == 409


def test_closed_projects_and_projects_without_down_votes(api, city, content):
    author, voter = new_user(api, city), new_user(api, city)
    no_down = content.project(allow_down_votes=False)
    idea = content.idea(no_down, author)
    r = vote(api, city, voter, idea, "down")
    assert r.status_code == 409 and "Down votes" in r.json()["error"]["message"]
    assert vote(api, city, voter, idea, "up").status_code == 200

    project = content.project()
    idea = content.idea(project, author)
    assert vote(api, city, voter, idea, "down").status_code == 200
    content.update_project(project, status="closed")
    eventually(lambda: vote(api, city, voter, idea, "down").status_code == 409)
    assert "closed" in vote(api, city, voter, idea, "up").json()["error"]["message"]
    r = api.delete(f"/cities/{city['slug']}/ideas/{idea}/vote", token=voter["token"])
    assert r.status_code == 409
    # an older project update arriving late does not reopen it
    content.update_project(project, status="active", occurred_at=datetime.now(timezone.utc) - timedelta(minutes=5))
    for _ in range(5):
        assert vote(api, city, voter, idea, "up").status_code == 409
    assert totals(api, city, idea) == {"value": None, "up_votes": 0, "down_votes": 1}


def test_bad_input_gets_api_errors_and_changes_nothing(api, city, idea_setup):
    author, project, idea = idea_setup
    voter = new_user(api, city)
    slug = city["slug"]
    assert vote(api, city, voter, idea, "up").status_code == 200
    r = vote(api, city, voter, idea, "sideways")
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "value"
    r = api.put(f"/cities/{slug}/ideas/{idea}/vote", token=voter["token"], json={"value": "down", "extra": 1})
    assert r.status_code == 422
    r = api.put(f"/cities/{slug}/ideas/{idea}/vote", token=voter["token"], data="{oops",
                headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = api.put(f"/cities/{slug}/ideas/{idea}/vote", json={"value": "down"})
    assert r.status_code == 401
    r = vote(api, city, voter, "not-a-uuid", "up")
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
    r = vote(api, city, voter, str(uuid.uuid4()), "up")
    # unknown to voting, so voting asks ideas: 404 when ideas does not know it, 503 when ideas is not running
    assert r.status_code == (404 if IDEAS_RUNNING else 503), r.text
    assert totals(api, city, idea, token=voter["token"]) == {"value": "up", "up_votes": 1, "down_votes": 0}


def test_a_token_of_one_city_votes_nothing_in_another(api, city, content, idea_setup):
    author, project, idea = idea_setup
    other = api.new_city()
    stranger = new_user(api, other)
    r = vote(api, city, stranger, idea, "up")
    assert r.status_code == 403
    r = api.put(f"/cities/{other['slug']}/ideas/{idea}/vote", token=stranger["token"], json={"value": "up"})
    assert r.status_code == (404 if IDEAS_RUNNING else 503)
    assert totals(api, city, idea) == {"value": None, "up_votes": 0, "down_votes": 0}


@pytest.mark.skipif(not IDEAS_RUNNING, reason="needs the ideas service")
def test_a_vote_shows_in_the_ideas_counts_within_a_second(api, city, content, real):
    if not real:
        pytest.skip("the ideas routes are not there yet")
    author, project = new_user(api, city), content.project()
    voters = [new_user(api, city) for _ in range(3)]
    idea = content.idea(project, author)  # no waiting: the first vote may come before voting heard of it
    for i, voter in enumerate(voters):
        assert vote(api, city, voter, idea, "up" if i else "down").status_code == 200
        expected = (i, 1)

        def shown():
            got = api.get(f"/cities/{city['slug']}/ideas/{idea}").json()
            return (got["up_votes"], got["down_votes"]) == expected

        eventually(shown, timeout=1.0, interval=0.02)
