"""Gamification through the gateway, driven by events on the real broker and database."""
import csv
import io
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from e2e.gamification_helpers import Bus, Listener, duplicates_seen, score, wait_points
from support import eventually


@pytest.fixture
def bus(environment):
    b = Bus(environment.amqp_uri)
    yield b
    b.close()


@pytest.fixture
def listener(environment, platform):
    sub = Listener(environment.amqp_uri)
    yield sub
    sub.close()


def uid() -> str:
    return str(uuid.uuid4())


def board(api, city, **params) -> dict:
    r = api.get(f"/cities/{city['slug']}/leaderboard", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_an_upvote_gives_the_author_points_within_a_second_and_a_replay_changes_nothing(api, city, bus, platform):
    author, voter = api.new_user(city, display_name="Ada"), api.new_user(city, display_name="Vic")
    idea = bus.idea_created(city, author["id"])
    wait_points(api, city, author["id"], 1)
    started = time.monotonic()
    cast = bus.vote("vote_cast", city, vote_id=uid(), target_id=idea["data"]["idea_id"],
                    voter_id=voter["id"], author_id=author["id"])
    wait_points(api, city, author["id"], 6, timeout=1.0)
    assert time.monotonic() - started < 1.0
    items = board(api, city)["items"]
    assert items[0] == {"rank": 1, "user": {"id": author["id"], "display_name": "Ada"}, "points": 6}

    # the same envelopes again: recognised as duplicates, nothing changes
    before = duplicates_seen(platform)
    bus.publish(idea)
    bus.publish(cast)
    eventually(lambda: duplicates_seen(platform) >= before + 2)
    s = score(api, city, author["id"])
    assert s["points"] == 6 and s["rank"] == 1
    assert board(api, city)["items"][0]["points"] == 6


def test_withdrawn_and_changed_votes_reverse_their_points(api, city, bus):
    author, voter = api.new_user(city), api.new_user(city)
    idea = uid()
    vote = dict(vote_id=uid(), target_id=idea, voter_id=voter["id"], author_id=author["id"])
    bus.vote("vote_cast", city, **vote, version=1)
    wait_points(api, city, author["id"], 5)
    bus.vote("vote_changed", city, **vote, value="down", previous="up", version=2)
    wait_points(api, city, author["id"], 0)
    bus.vote("vote_changed", city, **vote, value="up", previous="down", version=3)
    wait_points(api, city, author["id"], 5)
    bus.vote("vote_withdrawn", city, **vote, value="up", version=4)
    wait_points(api, city, author["id"], 0)
    # a comment's up vote earns the comment rule
    bus.vote("vote_cast", city, vote_id=uid(), target_id=uid(), target_type="comment",
             voter_id=voter["id"], author_id=author["id"])
    wait_points(api, city, author["id"], 2)


def test_events_out_of_order_leave_the_totals_right(api, city, bus, platform):
    author, voter, marker = api.new_user(city), api.new_user(city), api.new_user(city)
    # a withdrawal before its cast: the late cast awards nothing
    v1 = dict(vote_id=uid(), target_id=uid(), voter_id=voter["id"], author_id=author["id"])
    bus.vote("vote_withdrawn", city, **v1, value="up", version=2)
    bus.vote("vote_cast", city, **v1, version=1)
    # a change to down before its cast: nothing either
    v2 = dict(vote_id=uid(), target_id=uid(), voter_id=voter["id"], author_id=author["id"])
    bus.vote("vote_changed", city, **v2, value="down", previous="up", version=2)
    bus.vote("vote_cast", city, **v2, version=1)
    # a change to up before a down cast: the up counts once
    v3 = dict(vote_id=uid(), target_id=uid(), voter_id=voter["id"], author_id=author["id"])
    bus.vote("vote_changed", city, **v3, value="up", previous="down", version=2)
    bus.vote("vote_cast", city, **v3, value="down", version=1)
    # the marker on the same queue comes after them all
    bus.vote("vote_cast", city, vote_id=uid(), target_id=uid(), voter_id=voter["id"], author_id=marker["id"])
    wait_points(api, city, marker["id"], 5)
    wait_points(api, city, author["id"], 5)
    # an idea deleted before its creation arrives never earns
    idea = uid()
    bus.send("ideas.idea_deleted", city, {"idea_id": idea, "project_id": uid(), "author_id": author["id"],
                                          "deleted_by": author["id"]})
    bus.idea_created(city, author["id"], idea_id=idea)
    bus.idea_created(city, marker["id"])
    wait_points(api, city, marker["id"], 6)
    wait_points(api, city, author["id"], 5)  # the deletion travels on its own queue: either order ends here


def test_the_daily_cap_stops_two_accounts_farming_each_other(api, city, bus):
    a, b = api.new_user(city), api.new_user(city)
    for _ in range(6):  # b up votes six of a's ideas in one day, a returns the favour
        bus.vote("vote_cast", city, vote_id=uid(), target_id=uid(), voter_id=b["id"], author_id=a["id"])
        bus.vote("vote_cast", city, vote_id=uid(), target_id=uid(), voter_id=a["id"], author_id=b["id"])
    wait_points(api, city, a["id"], 15)
    wait_points(api, city, b["id"], 15)
    rules = api.get(f"/cities/{city['slug']}/gamification/rules").json()
    assert rules["daily_cap_per_pair"] == 3
    # a vote cast on another day is not capped by today's
    yesterday = datetime.now(timezone.utc) - timedelta(days=1)
    bus.vote("vote_cast", city, vote_id=uid(), target_id=uid(), voter_id=b["id"], author_id=a["id"],
             occurred_at=yesterday)
    wait_points(api, city, a["id"], 20)


def test_events_for_unknown_users_and_malformed_events(api, city, bus):
    known, voter = api.new_user(city, display_name="Known"), api.new_user(city)
    stranger = uid()  # never registered with accounts
    bus.vote("vote_cast", city, vote_id=uid(), target_id=uid(), voter_id=voter["id"], author_id=stranger)
    # malformed: no author, a bad value, no city; none of them blocks the queue
    bad = bus.envelope("voting.vote_cast", city, {"vote_id": uid(), "target_type": "idea", "target_id": uid(),
                                                  "voter_id": voter["id"], "value": "up", "target_version": 1})
    bus.publish(bad)
    bus.vote("vote_cast", city, vote_id=uid(), target_id=uid(), voter_id=voter["id"], author_id=known["id"],
             value="sideways")
    nocity = bus.envelope("voting.vote_cast", city, {})
    nocity["city_id"] = None
    bus.publish(nocity)
    bus.vote("vote_cast", city, vote_id=uid(), target_id=uid(), voter_id=voter["id"], author_id=known["id"])
    wait_points(api, city, known["id"], 5)
    # the stranger's points are kept (their registration may simply not have arrived yet), and counted
    assert score(api, city, stranger)["points"] == 5
    items = {i["user"]["id"]: i for i in board(api, city)["items"]}
    assert items[stranger]["user"]["display_name"] is None and items[known["id"]]["user"]["display_name"] == "Known"
    assert items[stranger]["rank"] == items[known["id"]]["rank"] == 1
    # their name arrives later
    bus.send("accounts.user_registered", city, {"user_id": stranger, "city_id": city["id"], "display_name": "Late",
                                                "role": "citizen"})
    eventually(lambda: {i["user"]["id"]: i for i in board(api, city)["items"]}[stranger]["user"]["display_name"] == "Late")
    # a non-UUID user id is a 404; an unknown city too
    assert api.get(f"/cities/{city['slug']}/users/not-a-uuid/score").status_code == 404
    assert api.get("/cities/no-such-city/leaderboard").status_code == 404


def test_deleted_and_hidden_ideas_lose_their_points(api, city, bus):
    author, voter, admin_id = api.new_user(city), api.new_user(city), city["admin_id"]
    idea = bus.idea_created(city, author["id"])["data"]["idea_id"]
    bus.vote("vote_cast", city, vote_id=uid(), target_id=idea, voter_id=voter["id"], author_id=author["id"])
    bus.send("ideas.idea_status_changed", city, {"idea_id": idea, "project_id": uid(), "author_id": author["id"],
                                                 "old_status": "proposed", "status": "accepted", "feedback": None})
    wait_points(api, city, author["id"], 26)
    visibility = {"target_type": "idea", "target_id": idea, "idea_id": idea, "project_id": uid(),
                  "author_id": author["id"], "flags": 3}
    hidden_at = datetime.now(timezone.utc)
    bus.send("ideas.content_hidden", city, visibility, occurred_at=hidden_at)
    wait_points(api, city, author["id"], 0)
    # a restore older than the hiding changes nothing; a newer one restores
    bus.send("ideas.content_restored", city, visibility, occurred_at=hidden_at - timedelta(seconds=5))
    bus.send("ideas.content_restored", city, visibility, occurred_at=hidden_at + timedelta(seconds=5))
    wait_points(api, city, author["id"], 26)
    bus.send("ideas.idea_deleted", city, {"idea_id": idea, "project_id": uid(), "author_id": author["id"],
                                          "deleted_by": admin_id})
    wait_points(api, city, author["id"], 0)
    bus.send("ideas.content_restored", city, visibility, occurred_at=hidden_at + timedelta(seconds=10))
    bus.idea_created(city, voter["id"])
    wait_points(api, city, voter["id"], 1)
    assert score(api, city, author["id"])["points"] == 0  # deleted stays deleted


def test_leaderboard_ranks_ties_periods_and_pages(api, city, bus):
    users = [api.new_user(city, display_name=f"P{i}") for i in range(5)]
    voters = [api.new_user(city) for _ in range(3)]
    # points: u0 10, u1 10, u2 5, u3 5, u4 2 (comment up vote)
    plan = {0: [0, 1], 1: [0, 2], 2: [1], 3: [2]}
    for target, voter_indexes in plan.items():
        for v in voter_indexes:
            bus.vote("vote_cast", city, vote_id=uid(), target_id=uid(), voter_id=voters[v]["id"],
                     author_id=users[target]["id"])
    bus.vote("vote_cast", city, vote_id=uid(), target_id=uid(), target_type="comment", voter_id=voters[0]["id"],
             author_id=users[4]["id"])
    # last month's points count for all time, not for this month or week
    last_month = datetime.now(timezone.utc).replace(day=1) - timedelta(days=3)
    bus.vote("vote_cast", city, vote_id=uid(), target_id=uid(), voter_id=voters[2]["id"], author_id=users[4]["id"],
             occurred_at=last_month)
    wait_points(api, city, users[4]["id"], 7)
    wait_points(api, city, users[3]["id"], 5)
    wait_points(api, city, users[0]["id"], 10)
    wait_points(api, city, users[1]["id"], 10)
    items = board(api, city)["items"]
    assert [(i["rank"], i["points"]) for i in items] == [(1, 10), (1, 10), (3, 7), (4, 5), (4, 5)]
    assert {i["user"]["display_name"] for i in items[:2]} == {"P0", "P1"}
    month = board(api, city, period="month")["items"]
    assert [(i["rank"], i["points"]) for i in month] == [(1, 10), (1, 10), (3, 5), (3, 5), (5, 2)]
    assert score(api, city, users[4]["id"], period="month")["points"] == 2
    assert score(api, city, users[4]["id"], period="week")["points"] in (2, 7)  # a week may span two months
    s = score(api, city, users[3]["id"])
    assert s["points"] == 5 and s["rank"] == 4
    # someone who is not a user of the city has no score: 404, as for any unknown id
    assert api.get(f"/cities/{city['slug']}/users/{uid()}/score").status_code == 404
    # pages: ranks continue across the cursor, ties included
    first = board(api, city, limit=3)
    assert [i["rank"] for i in first["items"]] == [1, 1, 3] and first["next_cursor"]
    second = board(api, city, limit=3, cursor=first["next_cursor"])
    assert [i["rank"] for i in second["items"]] == [4, 4] and second["next_cursor"] is None
    assert {i["user"]["id"] for i in first["items"] + second["items"]} == {u["id"] for u in users}
    # bad input
    for params in ({"period": "year"}, {"limit": 0}, {"limit": 101}, {"cursor": "garbage"}):
        r = api.get(f"/cities/{city['slug']}/leaderboard", params=params)
        assert r.status_code == 422, (params, r.text)
    r = api.get(f"/cities/{city['slug']}/leaderboard", params={"period": "week", "cursor": first["next_cursor"]})
    assert r.status_code == 422


def test_badges_levels_and_their_events(api, city, bus, listener):
    author, voter = api.new_user(city), api.new_user(city)
    idea = bus.idea_created(city, author["id"])["data"]["idea_id"]
    bus.vote("vote_cast", city, vote_id=uid(), target_id=idea, voter_id=voter["id"], author_id=author["id"])
    bus.send("ideas.idea_status_changed", city, {"idea_id": idea, "project_id": uid(), "author_id": author["id"],
                                                 "old_status": "accepted", "status": "implemented", "feedback": None})
    wait_points(api, city, author["id"], 56)
    s = score(api, city, author["id"])
    assert {(b["badge"], b["level"]) for b in s["badges"]} == {("ideas_posted", 1), ("ideas_accepted", 1)}
    assert s["level"] == 2  # 56 points: past 10 and 50
    awarded = eventually(lambda: listener.of("gamification.points_awarded", user_id=author["id"])
                         if len(listener.of("gamification.points_awarded", user_id=author["id"])) == 3 else None)
    assert sorted(e["data"]["points"] for e in awarded) == [1, 5, 50]
    assert max(e["data"]["total"] for e in awarded) == 56
    assert {e["data"]["reason"] for e in awarded} == {"idea_posted", "idea_upvoted", "idea_implemented"}
    assert all(e["city_id"] == city["id"] and e["data"]["source_event_id"] for e in awarded)
    badges = eventually(lambda: listener.of("gamification.badge_earned", user_id=author["id"]))
    assert {(e["data"]["badge"], e["data"]["level"]) for e in badges} >= {("ideas_posted", 1)}
    levels = eventually(lambda: listener.of("gamification.level_up", user_id=author["id"]))
    assert max(e["data"]["level"] for e in levels) == 2
    # a streak of three days of participation earns the streak badge (the voter voted today)
    for days in (1, 2):
        bus.idea_created(city, voter["id"], created_at=datetime.now(timezone.utc) - timedelta(days=days))
    eventually(lambda: ("streak_days", 1) in {(b["badge"], b["level"]) for b in score(api, city, voter["id"])["badges"]})
    # a withdrawal reverses points, with a negative points_awarded; badges stay
    ballot = {"project_id": uid(), "user_id": author["id"], "ballot_id": uid(), "item_ids": []}
    bus.send("budgeting.ballot_submitted", city, ballot)
    bus.send("budgeting.ballot_submitted", city, {**ballot, "ballot_id": uid()})  # one award per budget
    wait_points(api, city, author["id"], 59)


def test_rules_are_data_per_city(api, city, bus):
    r = api.get(f"/cities/{city['slug']}/gamification/rules")
    assert r.status_code == 200
    rules = r.json()
    assert rules["points"] == {"idea_posted": 1, "comment_posted": 1, "idea_upvoted": 5, "comment_upvoted": 2,
                               "idea_accepted": 20, "idea_implemented": 50, "ballot_submitted": 3}
    assert rules["down_votes"] == 0
    assert {b["badge"] for b in rules["badges"]} >= {"ideas_posted", "upvotes_received", "streak_days"}
    citizen = api.new_user(city)
    path = f"/cities/{city['slug']}/gamification/rules"
    assert api.patch(path, token=citizen["token"], json={"points": {"idea_upvoted": 50}}).status_code == 403
    assert api.patch(path, json={"points": {"idea_upvoted": 50}}).status_code == 401
    r = api.patch(path, token=city["admin_token"], json={"points": {"idea_upvoted": -1, "nope": 3}})
    assert r.status_code == 422
    r = api.patch(path, token=city["admin_token"], json={"points": {"idea_upvoted": 8}, "daily_cap_per_pair": 1})
    assert r.status_code == 200 and r.json()["points"]["idea_upvoted"] == 8
    other = api.new_city()
    assert api.get(f"/cities/{other['slug']}/gamification/rules").json()["points"]["idea_upvoted"] == 5
    assert api.patch(f"/cities/{other['slug']}/gamification/rules", token=city["admin_token"],
                     json={"daily_cap_per_pair": 9}).status_code == 403
    author, voter = api.new_user(city), api.new_user(city)
    for _ in range(2):
        bus.vote("vote_cast", city, vote_id=uid(), target_id=uid(), voter_id=voter["id"], author_id=author["id"])
    wait_points(api, city, author["id"], 8)


def test_engaged_citizens_for_the_city_admin(api, city, bus):
    a, b, voter = api.new_user(city, display_name="=cmd()"), api.new_user(city, display_name="Bo"), api.new_user(city)
    bus.idea_created(city, a["id"])
    bus.vote("vote_cast", city, vote_id=uid(), target_id=uid(), voter_id=voter["id"], author_id=b["id"])
    bus.vote("vote_cast", city, vote_id=uid(), target_id=uid(), voter_id=voter["id"], author_id=a["id"],
             occurred_at=datetime.now(timezone.utc) - timedelta(days=60))
    wait_points(api, city, b["id"], 5)
    wait_points(api, city, a["id"], 6)
    path = f"/cities/{city['slug']}/gamification/engaged"
    r = api.get(path, token=city["admin_token"])
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [(i["user_id"], i["points"], i["rank"]) for i in items] == [(b["id"], 5, 1), (a["id"], 1, 2)]
    assert items[0]["idea_upvoted"] == 1 and items[1]["idea_posted"] == 1
    since = (datetime.now(timezone.utc) - timedelta(days=90)).date().isoformat()
    r = api.get(path, token=city["admin_token"], params={"from": since, "format": "csv"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(row["user_id"], row["points"], row["rank"]) for row in rows] == [(a["id"], "6", "1"), (b["id"], "5", "2")]
    assert rows[0]["display_name"] == "'=cmd()"  # no formula injection in spreadsheets
    assert api.get(path, token=a["token"]).status_code == 403
    assert api.get(path).status_code == 401
    assert api.get(path, token=city["admin_token"], params={"from": "2026-02-01", "to": "2026-01-01"}).status_code == 422
    assert api.get(path, token=city["admin_token"], params={"from": "yesterday"}).status_code == 422
    other = api.new_city()
    assert api.get(f"/cities/{other['slug']}/gamification/engaged", token=city["admin_token"]).status_code == 403


def test_a_city_sees_nothing_of_another(api, city, bus):
    other = api.new_city()
    author, voter = api.new_user(city), api.new_user(city)
    bus.vote("vote_cast", city, vote_id=uid(), target_id=uid(), voter_id=voter["id"], author_id=author["id"])
    wait_points(api, city, author["id"], 5)
    assert board(api, other)["items"] == []
    # another city's user is no user of this one: 404, as every other route answers another city's ids
    r = api.get(f"/cities/{other['slug']}/users/{author['id']}/score")
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
    fresh = api.new_user(other)  # a user of the city whose registration may not have reached gamification yet
    assert score(api, other, fresh["id"])["points"] == 0


def test_badge_counts_follow_votes_up_and_down(api, city, bus):
    # low thresholds: a comment badge at 1 and 3 counting up votes, the up vote badge at 2
    r = api.patch(f"/cities/{city['slug']}/gamification/rules", token=city["admin_token"],
                  json={"badges": {"comments_upvoted": [1, 3], "upvotes_received": [2, 100]}})
    assert r.status_code == 200, r.text
    author = api.new_user(city)
    voters = [api.new_user(city) for _ in range(4)]
    comment = uid()

    def badges():
        return {(b["badge"], b["level"]) for b in score(api, city, author["id"])["badges"]}

    votes = [dict(vote_id=uid(), target_id=comment, target_type="comment", voter_id=v["id"], author_id=author["id"])
             for v in voters]
    for vote in votes[:2]:
        bus.vote("vote_cast", city, **vote, version=1)
    wait_points(api, city, author["id"], 4)
    assert badges() == {("comments_upvoted", 1), ("upvotes_received", 1)}
    # a withdrawn vote no longer counts: two more up votes make three counting, not four
    bus.vote("vote_withdrawn", city, **votes[0], version=2)
    wait_points(api, city, author["id"], 2)
    bus.vote("vote_cast", city, **votes[2], version=3)
    wait_points(api, city, author["id"], 4)
    assert ("comments_upvoted", 2) not in badges()  # two count now
    bus.vote("vote_cast", city, **votes[3], version=4)
    wait_points(api, city, author["id"], 6)
    eventually(lambda: ("comments_upvoted", 2) in badges())
