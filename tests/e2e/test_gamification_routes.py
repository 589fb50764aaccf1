"""Gamification fed by the real ideas and voting services, through the gateway only."""
import time

import pytest

from e2e.gamification_helpers import score, wait_points
from support import eventually, service_names

pytestmark = pytest.mark.skipif(
    not {"accounts", "ideas", "voting", "gamification"} <= set(service_names()),
    reason="needs the accounts, ideas, voting and gamification services",
)


def test_a_vote_on_an_idea_gives_its_author_points_within_a_second(api, city):
    slug = city["slug"]
    author, voter = api.new_user(city, display_name="Author"), api.new_user(city, display_name="Voter")
    r = api.post(f"/cities/{slug}/projects", token=city["admin_token"],
                 json={"title": {"en": "Parks"}, "description": {"en": "Greener parks"}, "method": "ideation",
                       "status": "active"})
    assert r.status_code == 201, r.text
    project = r.json()
    r = api.post(f"/cities/{slug}/projects/{project['id']}/ideas", token=author["token"],
                 json={"title": "Benches by the pond", "body": "There is nowhere to sit near the water."})
    assert r.status_code == 201, r.text
    idea = r.json()
    wait_points(api, city, author["id"], 1)  # posting an idea

    started = time.monotonic()
    r = api.put(f"/cities/{slug}/ideas/{idea['id']}/vote", token=voter["token"], json={"value": "up"})
    assert r.status_code == 200, r.text
    wait_points(api, city, author["id"], 6, timeout=1.0)
    assert time.monotonic() - started < 1.0

    board = api.get(f"/cities/{slug}/leaderboard").json()["items"]
    assert board[0] == {"rank": 1, "user": {"id": author["id"], "display_name": "Author"}, "points": 6}

    # changing to down and withdrawing give the points back; voting up again earns them once more
    assert api.put(f"/cities/{slug}/ideas/{idea['id']}/vote", token=voter["token"], json={"value": "down"}).ok
    wait_points(api, city, author["id"], 1)
    assert api.put(f"/cities/{slug}/ideas/{idea['id']}/vote", token=voter["token"], json={"value": "up"}).ok
    wait_points(api, city, author["id"], 6)
    assert api.delete(f"/cities/{slug}/ideas/{idea['id']}/vote", token=voter["token"]).ok
    wait_points(api, city, author["id"], 1)

    # the city reviews, then accepts the idea
    r = api.post(f"/cities/{slug}/ideas/{idea['id']}/status", token=city["admin_token"],
                 json={"status": "under_review"})
    assert r.status_code == 200, r.text
    r = api.post(f"/cities/{slug}/ideas/{idea['id']}/status", token=city["admin_token"], json={"status": "accepted"})
    assert r.status_code == 200, r.text
    wait_points(api, city, author["id"], 21)
    eventually(lambda: ("ideas_accepted", 1) in {(b["badge"], b["level"])
                                                 for b in score(api, city, author["id"])["badges"]})
