"""Votes under concurrency, through the gateway: no lost update, one vote per user whatever the races."""
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from e2e.voting_helpers import Bus, Content, ideas_routes_live, minted_users, new_user


@pytest.fixture(scope="module")
def bus(environment):
    b = Bus(environment.amqp_uri)
    yield b
    b.close()


@pytest.fixture
def content(api, city, bus):
    return Content(api, city, bus, ideas_routes_live(api))


def put_vote(api, city, user, idea, value):
    r = requests.put(f"{api.base}/cities/{city['slug']}/ideas/{idea}/vote", json={"value": value},
                     headers={"Authorization": f"Bearer {user['token']}"}, timeout=60)
    return r.status_code, r.json()


def all_at_once(calls, workers=50):
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda call: call(), calls))


def test_200_users_voting_on_one_idea_at_once_give_exactly_200(api, city, bus, content):
    author = new_user(api, city)
    project = content.project()
    idea = content.idea(project, author)
    voters = minted_users(city, 200)  # 200 distinct users' tokens, without 400 password hashes
    tap = bus.tap()
    started = time.monotonic()
    answers = all_at_once([lambda u=u: put_vote(api, city, u, idea, "up") for u in voters])
    elapsed = time.monotonic() - started
    assert [status for status, _ in answers] == [200] * 200, answers[:3]
    assert sorted(body["up_votes"] for _, body in answers) == list(range(1, 201))  # each saw its own change
    r = api.get(f"/cities/{city['slug']}/ideas/{idea}/vote")
    assert r.json() == {"value": None, "up_votes": 200, "down_votes": 0}
    events = [e for e in tap.drain(lambda ev: len(ev) >= 200, timeout=15) if e["data"]["target_id"] == idea]
    assert len(events) == 200 and {e["type"] for e in events} == {"voting.vote_cast"}
    assert sorted(e["data"]["target_version"] for e in events) == list(range(1, 201))
    newest = max(events, key=lambda e: e["data"]["target_version"])
    assert (newest["data"]["up_votes"], newest["data"]["down_votes"]) == (200, 0)
    assert len({e["data"]["voter_id"] for e in events}) == 200
    print(f"200 concurrent votes in {elapsed:.2f}s")


def test_20_puts_of_one_user_at_once_leave_one_vote(api, city, bus, content):
    author, voter = new_user(api, city), new_user(api, city)
    project = content.project()
    idea = content.idea(project, author)
    tap = bus.tap()
    answers = all_at_once([lambda: put_vote(api, city, voter, idea, "up")] * 20, workers=20)
    assert {status for status, _ in answers} == {200}
    assert {tuple(body.values()) for _, body in answers} == {("up", 1, 0)}
    events = [e for e in tap.drain(lambda ev: len(ev) >= 1) if e["data"]["target_id"] == idea]
    assert [e["type"] for e in events] == ["voting.vote_cast"]  # one vote, one event; the repeats changed nothing

    # then 20 PUTs at once switching between up and down: still one vote, totals and events agree
    tap = bus.tap()
    values = ["down", "up"] * 10
    answers = all_at_once([lambda v=v: put_vote(api, city, voter, idea, v) for v in values], workers=20)
    assert {status for status, _ in answers} == {200}
    assert all(body["up_votes"] + body["down_votes"] == 1 for _, body in answers)
    final = api.get(f"/cities/{city['slug']}/ideas/{idea}/vote", token=voter["token"]).json()
    assert final["up_votes"] + final["down_votes"] == 1
    assert final["up_votes" if final["value"] == "up" else "down_votes"] == 1
    time.sleep(1)
    events = [e for e in tap.drain(lambda ev: True) if e["data"]["target_id"] == idea]
    assert {e["type"] for e in events} <= {"voting.vote_changed"}
    versions = sorted(e["data"]["target_version"] for e in events)
    assert versions == list(range(2, 2 + len(events)))  # no gaps, no repeats
    chain = sorted(events, key=lambda e: e["data"]["target_version"])
    previous = "up"
    for e in chain:  # each change starts from the value the one before left
        assert e["data"]["previous_value"] == previous and e["data"]["value"] != previous
        previous = e["data"]["value"]
    assert previous == final["value"]
