"""Idea lists: sorts fed by the vote read model (voting events on the bus), filters, search, cursors."""
from datetime import datetime, timedelta, timezone

import pytest

from e2e.ideas_helpers import VotingEvents, all_pages, ideas_of, new_idea, new_project
from support import eventually


@pytest.fixture
def voting(environment):
    events = VotingEvents(environment.amqp_uri)
    yield events
    events.close()


def _ids(items):
    return [i["id"] for i in items]


def _votes(api, city, idea):
    got = api.get(f"/cities/{city['slug']}/ideas/{idea['id']}").json()
    return got["up_votes"], got["down_votes"]


def test_new_pagination_is_stable_while_ideas_arrive(api, city):
    project = new_project(api, city)
    user = api.new_user(city)
    posted = [new_idea(api, city, project, user, title=f"idea {i}") for i in range(7)]
    first = ideas_of(api, city, project, limit=3)
    assert _ids(first["items"]) == _ids(posted[::-1][:3])
    late = [new_idea(api, city, project, user, title=f"late {i}") for i in range(3)]
    second = ideas_of(api, city, project, limit=3, cursor=first["next_cursor"])
    third = ideas_of(api, city, project, limit=3, cursor=second["next_cursor"])
    assert _ids(first["items"] + second["items"] + third["items"]) == _ids(posted[::-1])
    assert third["next_cursor"] is None
    assert _ids(all_pages(api, city, project, limit=4)) == _ids((posted + late)[::-1])


def test_vote_read_model_sorts_popular_and_controversial(api, city, voting):
    project = new_project(api, city)
    user = api.new_user(city)
    a, b, c, d = (new_idea(api, city, project, user, title=t) for t in "abcd")
    voting.totals(city, a["id"], 10, 0)      # popular 10, controversy 0
    voting.totals(city, b["id"], 12, 11)     # popular 1, controversy 23 ** (11/12)
    voting.totals(city, c["id"], 4, 3)       # popular 1, controversy 7 ** 0.75
    voting.totals(city, d["id"], 0, 2)       # popular -2
    eventually(lambda: _votes(api, city, d) == (0, 2) and _votes(api, city, b) == (12, 11))
    eventually(lambda: _votes(api, city, a) == (10, 0) and _votes(api, city, c) == (4, 3))
    popular = all_pages(api, city, project, sort="popular", limit=2)
    assert _ids(popular) == [a["id"], *sorted([b["id"], c["id"]], reverse=True), d["id"]]
    controversial = ideas_of(api, city, project, sort="controversial")["items"]
    assert _ids(controversial)[:2] == [b["id"], c["id"]]
    assert {i["up_votes"] for i in popular} == {10, 12, 4, 0}


def test_vote_totals_keep_the_newest_version_and_ignore_redelivery(api, city, voting):
    project = new_project(api, city)
    idea = new_idea(api, city, project, api.new_user(city))
    voting.publish("vote_cast", city, idea["id"], 3, 1, version=3)
    voting.publish("vote_withdrawn", city, idea["id"], 2, 1, version=4)
    eventually(lambda: _votes(api, city, idea) == (2, 1))
    # an older total arriving late changes nothing
    voting.publish("vote_cast", city, idea["id"], 9, 9, version=2)
    voting.publish("vote_changed", city, idea["id"], 1, 2, value="down", previous="up", version=5)
    eventually(lambda: _votes(api, city, idea) == (1, 2))
    voting.publish("vote_cast", city, idea["id"], 1, 3, value="down", version=6)
    eventually(lambda: _votes(api, city, idea) == (1, 3))
    # comments keep their totals too
    user = api.new_user(city)
    comment = api.post(f"/cities/{city['slug']}/ideas/{idea['id']}/comments", token=user["token"],
                       json={"body": "hello"}).json()
    voting.publish("vote_cast", city, comment["id"], 5, 0, target_type="comment")
    eventually(lambda: api.get(f"/cities/{city['slug']}/comments/{comment['id']}").json()["up_votes"] == 5)
    # an event of another city does not touch this city's idea
    other = api.new_city()
    voting.publish("vote_cast", {"id": other["id"]}, idea["id"], 50, 0, version=99)
    voting.publish("vote_cast", city, idea["id"], 2, 3, version=7)
    eventually(lambda: _votes(api, city, idea) == (2, 3))


def test_a_redelivered_vote_is_applied_once(api, city, voting):
    """The trending score adds every vote's change whatever its version, so a vote applied twice would
    count twice: only the record of processed events stops the second delivery."""
    project = new_project(api, city)
    user = api.new_user(city)
    once, steady = new_idea(api, city, project, user, title="once"), new_idea(api, city, project, user, title="steady")
    now = datetime.now(timezone.utc)
    # steady: 2 up votes 6 h ago weigh 2 · 2^(-1/2) ≈ 1.41 now; once: 1 up vote now weighs 1, 2 if counted twice
    for n in (1, 2):
        voting.publish("vote_cast", city, steady["id"], n, 0, occurred_at=now - timedelta(hours=6))
    vote = voting.publish("vote_cast", city, once["id"], 1, 0, occurred_at=now)
    eventually(lambda: _votes(api, city, once) == (1, 0) and _votes(api, city, steady) == (2, 0))
    assert _ids(ideas_of(api, city, project, sort="trending")["items"]) == [steady["id"], once["id"]]
    voting.producer.publish(vote, routing_key="vote_cast", delivery_mode=2, retry=True)  # the same event again
    # then newer totals that leave the trending score as it is (up after up), to know the redelivery was handled
    voting.publish("vote_cast", city, once["id"], 1, 1, value="up", previous="up", occurred_at=now)
    eventually(lambda: _votes(api, city, once) == (1, 1))
    assert _ids(ideas_of(api, city, project, sort="trending")["items"]) == [steady["id"], once["id"]]


def test_trending_weighs_recent_votes_more(api, city, voting):
    project = new_project(api, city)
    user = api.new_user(city)
    old, recent, mixed = (new_idea(api, city, project, user, title=t) for t in ("old", "recent", "mixed"))
    now = datetime.now(timezone.utc)
    # old: 6 up votes three days ago; recent: 2 up votes now; mixed: 3 up now, 1 withdrawn now
    for n in range(1, 7):
        voting.publish("vote_cast", city, old["id"], n, 0, occurred_at=now - timedelta(days=3))
    for n in range(1, 3):
        voting.publish("vote_cast", city, recent["id"], n, 0, occurred_at=now)
    for n in range(1, 4):
        voting.publish("vote_cast", city, mixed["id"], n, 0, occurred_at=now)
    voting.publish("vote_withdrawn", city, mixed["id"], 2, 0, occurred_at=now)
    voting.publish("vote_changed", city, mixed["id"], 1, 1, value="down", previous="up", occurred_at=now)
    eventually(lambda: _votes(api, city, old) == (6, 0) and _votes(api, city, mixed) == (1, 1)
               and _votes(api, city, recent) == (2, 0))
    assert _ids(ideas_of(api, city, project, sort="popular")["items"])[0] == old["id"]
    trending = ideas_of(api, city, project, sort="trending")["items"]
    assert _ids(trending) == [recent["id"], old["id"], mixed["id"]]
    # the pages of one trending list agree with each other
    assert _ids(all_pages(api, city, project, sort="trending", limit=1)) == _ids(trending)


def test_filters_and_full_text_search(api, city):
    slug = city["slug"]
    project = new_project(api, city)
    user = api.new_user(city)
    bikes = new_idea(api, city, project, user, title="Safer bike lanes", body="Cyclists need protected lanes.",
                     topics=["mobility", "safety"], locale="en")
    trees = new_idea(api, city, project, user, title="Plant trees", body="More shade on the main square.",
                     topics=["green"], locale="en")
    fietsen = new_idea(api, city, project, user, title="Fietsenstallingen", body="Meer fietsenstallingen aan het station.",
                       topics=["mobility"], locale="nl")
    api.post(f"/cities/{slug}/ideas/{trees['id']}/status", token=city["admin_token"], json={"status": "under_review"})
    assert set(_ids(ideas_of(api, city, project, topic="mobility")["items"])) == {bikes["id"], fietsen["id"]}
    assert _ids(ideas_of(api, city, project, topic="safety")["items"]) == [bikes["id"]]
    assert _ids(ideas_of(api, city, project, status="under_review")["items"]) == [trees["id"]]
    assert _ids(ideas_of(api, city, project, status="under_review", topic="mobility")["items"]) == []
    assert _ids(ideas_of(api, city, project, q="trees")["items"]) == [trees["id"]]
    assert _ids(ideas_of(api, city, project, q="tree")["items"]) == [trees["id"]]        # English stem
    assert _ids(ideas_of(api, city, project, q="protected lane")["items"]) == [bikes["id"]]
    assert _ids(ideas_of(api, city, project, q="fietsenstalling")["items"]) == [fietsen["id"]]  # Dutch stem
    assert _ids(ideas_of(api, city, project, q="station", topic="green")["items"]) == []
    assert ideas_of(api, city, project, q="nothing-like-this")["items"] == []
    assert ideas_of(api, city, project, q="!!! & |")["items"] == []
    ranked = ideas_of(api, city, project, q="lanes OR shade", sort="popular")["items"]
    assert set(_ids(ranked)) == {bikes["id"], trees["id"]}


def test_bad_list_queries_are_422(api, city):
    slug = city["slug"]
    project = new_project(api, city)
    url = f"/cities/{slug}/projects/{project['id']}/ideas"
    for params in ({"sort": "random"}, {"limit": 0}, {"limit": 101}, {"status": "lost"}, {"cursor": "%%%"},
                   {"cursor": "WzFd"}, {"topic": "NOT A TOPIC"}):
        r = api.get(url, params=params)
        assert r.status_code == 422, (params, r.text)
    first = ideas_of(api, city, project, sort="popular")
    assert first == {"items": [], "next_cursor": None}
    user = api.new_user(city)
    for i in range(2):
        new_idea(api, city, project, user, title=f"i{i}")
    popular_cursor = ideas_of(api, city, project, sort="popular", limit=1)["next_cursor"]
    r = api.get(url, params={"sort": "new", "cursor": popular_cursor})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "cursor"
    import uuid

    assert api.get(f"/cities/{slug}/projects/{uuid.uuid4()}/ideas").status_code == 404
