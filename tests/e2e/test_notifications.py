"""Notifications through the gateway: bus events become inbox items and e-mails in a real SMTP server.

The services that publish these events are driven here by publishing envelope-shaped events on their
exchanges (`<service>.events`, routing key = event name), exactly as their outboxes do.
"""
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
from kombu import Connection
from kombu.messaging import Producer
from nameko.standalone.events import get_event_exchange
from nameko.standalone.rpc import ClusterRpcProxy

from support import eventually, service_names


def publish(environment, type_: str, city_id, data: dict, actor_id=None, event_id=None) -> dict:
    envelope = {
        "event_id": str(event_id or uuid.uuid4()), "type": type_, "version": 1,
        "occurred_at": datetime.now(timezone.utc).isoformat(), "city_id": str(city_id),
        "actor_id": str(actor_id) if actor_id else None, "data": data,
    }
    service, name = type_.split(".", 1)
    with Connection(environment.amqp_uri) as conn:
        exchange = get_event_exchange(service, {})
        exchange(conn.default_channel).declare()
        Producer(conn.default_channel, exchange=exchange, serializer="json").publish(
            envelope, routing_key=name, delivery_mode=2, headers={"event_id": envelope["event_id"]})
    return envelope


def of_kind(items, *kinds):
    """Other services react to these events too (gamification awards badges): keep what a test is about."""
    return [i for i in items if i["kind"] in kinds]


def comment_mails(smtp_server, user, marker):
    return [m for m in smtp_server.messages(to=user["email"]) if marker in m["Subject"]]


def inbox(api, city, user, **params):
    r = api.get(f"/cities/{city['slug']}/users/me/notifications", token=user["token"], params=params)
    assert r.status_code == 200, r.text
    return r.json()


def idea_created(environment, city, author, title="Bike parking at the station", project_id=None):
    idea_id, project_id = str(uuid.uuid4()), project_id or str(uuid.uuid4())
    publish(environment, "ideas.idea_created", city["id"], actor_id=author["id"], data={
        "idea_id": idea_id, "project_id": project_id, "author_id": author["id"], "title": title,
        "body": "Room for 500 bikes", "topics": [], "locale": "en", "location": None, "status": "proposed",
        "created_at": datetime.now(timezone.utc).isoformat()})
    return idea_id, project_id


def comment(environment, city, idea_id, project_id, idea_author, commenter, body="Great idea!", event_id=None,
            parent=None):
    return publish(environment, "ideas.comment_created", city["id"], actor_id=commenter["id"], event_id=event_id, data={
        "comment_id": str(uuid.uuid4()), "idea_id": idea_id, "project_id": project_id, "author_id": commenter["id"],
        "idea_author_id": idea_author["id"], "parent_id": parent["comment_id"] if parent else None,
        "parent_author_id": parent["author_id"] if parent else None, "body": body,
        "created_at": datetime.now(timezone.utc).isoformat()})


def test_a_comment_on_a_citizens_idea_lands_in_their_inbox_and_mailbox(api, environment, smtp_server):
    city = api.new_city(locales=("nl", "en"))
    author = api.new_user(city, display_name="Anna", locale="nl")
    commenter = api.new_user(city, display_name="Bram")
    idea_id, project_id = idea_created(environment, city, author, title="Fietsenstalling")
    event = comment(environment, city, idea_id, project_id, author, commenter, body="Goed idee, <b>doen</b>!")
    # the same event delivered again (at-least-once bus) changes nothing
    comment(environment, city, idea_id, project_id, author, commenter, event_id=event["event_id"])

    items = eventually(lambda: of_kind(inbox(api, city, author)["items"], "comment_on_idea"), timeout=10)
    assert len(items) == 1
    item = items[0]
    assert item["kind"] == "comment_on_idea" and item["read"] is False
    assert item["title"].startswith("Bram reageerde op") and "doen" in item["body"]
    assert item["data"]["idea_id"] == idea_id
    assert inbox(api, city, commenter)["items"] == []  # nobody hears of their own comment

    mails = eventually(lambda: comment_mails(smtp_server, author, "reageerde op"), timeout=15)
    assert len(mails) == 1
    mail = mails[0]
    assert mail["Subject"].startswith("Bram reageerde op")
    plain = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "Hallo Anna" in plain and "Goed idee, <b>doen</b>!" in plain
    assert "Goed idee, &lt;b&gt;doen&lt;/b&gt;!" in html  # citizen text is escaped in HTML
    unsubscribe_url = mail["List-Unsubscribe"].strip("<>")
    assert unsubscribe_url in plain and f"/cities/{city['slug']}/notifications/unsubscribe?token=" in unsubscribe_url

    # the link turns e-mail off without login; a tampered one does nothing
    assert requests.get(unsubscribe_url + "x", timeout=10).status_code == 422
    r = requests.get(unsubscribe_url, timeout=10)
    assert r.status_code == 200 and r.json()["email"] == "off"
    prefs = api.get(f"/cities/{city['slug']}/users/me/notification-preferences", token=author["token"]).json()
    assert prefs == {"email": "off", "in_app": True}
    comment(environment, city, idea_id, project_id, author, commenter, body="Nog een reactie")
    eventually(lambda: len(of_kind(inbox(api, city, author)["items"], "comment_on_idea")) == 2, timeout=10)
    assert len(comment_mails(smtp_server, author, "reageerde op")) == 1  # in the inbox, not by e-mail


def test_replies_status_changes_milestones_and_project_phases_reach_the_right_people(api, environment, city):
    author, voter, replier, admin_id = api.new_user(city), api.new_user(city), api.new_user(city), city["admin_id"]
    idea_id, project_id = idea_created(environment, city, author)
    parent = {"comment_id": str(uuid.uuid4()), "author_id": voter["id"]}
    # a reply to the voter's comment: the voter hears of the reply, the idea's author of the comment
    comment(environment, city, idea_id, project_id, author, replier, parent=parent)
    publish(environment, "voting.vote_cast", city["id"], actor_id=voter["id"], data={
        "vote_id": str(uuid.uuid4()), "target_type": "idea", "target_id": idea_id, "idea_id": idea_id,
        "project_id": project_id, "voter_id": voter["id"], "author_id": author["id"], "value": "up",
        "previous_value": None, "up_votes": 10, "down_votes": 0, "target_version": 10})
    kinds = lambda user: sorted(i["kind"] for i in inbox(api, city, user)["items"]  # noqa: E731
                                if i["kind"] not in ("badge_earned", "level_up"))
    eventually(lambda: kinds(author) == ["comment_on_idea", "vote_milestone"], timeout=10)
    assert kinds(voter) == ["reply_to_comment"]
    milestone = next(i for i in inbox(api, city, author)["items"] if i["kind"] == "vote_milestone")
    assert milestone["data"]["milestone"] == 10 and "10" in milestone["title"]

    publish(environment, "ideas.idea_status_changed", city["id"], actor_id=admin_id, data={
        "idea_id": idea_id, "project_id": project_id, "author_id": author["id"], "old_status": "proposed",
        "status": "accepted", "feedback": {"en": "We will build it in spring."}})
    eventually(lambda: "status_changed" in kinds(voter), timeout=10)
    assert "status_changed" in kinds(author)
    notice = next(i for i in inbox(api, city, voter)["items"] if i["kind"] == "status_changed")
    assert "accepted" in notice["title"] and "We will build it in spring." in notice["body"]

    # the budgeting project opens its vote: every participant (author, commenter, voter) hears of it
    publish(environment, "budgeting.phase_changed", city["id"], actor_id=admin_id,
            data={"project_id": project_id, "phase": "voting"})
    for user in (author, voter, replier):
        eventually(lambda user=user: "voting_opened" in kinds(user), timeout=10)
    outsider = api.new_user(city)
    publish(environment, "gamification.badge_earned", city["id"], data={"user_id": outsider["id"], "badge": "pioneer", "level": 1})
    eventually(lambda: of_kind(inbox(api, city, outsider)["items"], "badge_earned"), timeout=10)
    assert not of_kind(inbox(api, city, outsider)["items"], "voting_opened")  # took no part in the project


def test_inbox_unread_count_mark_read_and_cursor_pagination(api, environment, city):
    user, other = api.new_user(city), api.new_user(city)
    for level in range(1, 6):
        publish(environment, "gamification.level_up", city["id"], data={"user_id": user["id"], "level": level, "total": level * 10})
    eventually(lambda: len(inbox(api, city, user)["items"]) == 5, timeout=10)
    first = inbox(api, city, user, limit=2)
    assert first["unread_count"] == 5 and len(first["items"]) == 2 and first["next_cursor"]
    second = inbox(api, city, user, limit=2, cursor=first["next_cursor"])
    third = inbox(api, city, user, limit=2, cursor=second["next_cursor"])
    assert third["next_cursor"] is None
    seen = first["items"] + second["items"] + third["items"]
    assert len({i["id"] for i in seen}) == 5
    assert [i["created_at"] for i in seen] == sorted((i["created_at"] for i in seen), reverse=True)

    base = f"/cities/{city['slug']}/users/me/notifications"
    r = api.post(base + "/read", token=user["token"], json={"ids": [seen[0]["id"], seen[1]["id"]]})
    assert r.status_code == 200 and r.json() == {"updated": 2, "unread_count": 3}
    unread = inbox(api, city, user, unread="true")["items"]
    assert {i["id"] for i in unread} == {i["id"] for i in seen[2:]}
    # someone else's ids change nothing
    assert api.post(base + "/read", token=other["token"], json={"ids": [seen[2]["id"]]}).json()["updated"] == 0
    assert api.get(base + "/unread-count", token=user["token"]).json() == {"unread_count": 3}
    assert api.post(base + "/read", token=user["token"], json={"all": True}).json() == {"updated": 3, "unread_count": 0}

    assert api.post(base + "/read", token=user["token"], json={}).status_code == 422
    assert api.post(base + "/read", token=user["token"], json={"ids": ["not-a-uuid"]}).status_code == 422
    assert api.get(base, token=user["token"], params={"cursor": "garbage!"}).status_code == 422
    assert api.get(base, token=user["token"], params={"limit": 500}).status_code == 422
    assert api.get(base).status_code == 401
    elsewhere = api.new_city()
    assert api.get(f"/cities/{elsewhere['slug']}/users/me/notifications", token=user["token"]).status_code == 403


def test_daily_preference_gathers_one_digest_email(api, environment, city, smtp_server):
    user = api.new_user(city, display_name="Claire", locale="fr")
    prefs = f"/cities/{city['slug']}/users/me/notification-preferences"
    assert api.get(prefs, token=user["token"]).json() == {"email": "instant", "in_app": True}
    assert api.put(prefs, token=user["token"], json={"email": "weekly"}).status_code == 422
    r = api.put(prefs, token=user["token"], json={"email": "daily"})
    assert r.status_code == 200 and r.json() == {"email": "daily", "in_app": True}
    for badge in ("pioneer", "commenter"):
        publish(environment, "gamification.badge_earned", city["id"], data={"user_id": user["id"], "badge": badge, "level": 1})
    eventually(lambda: len(inbox(api, city, user)["items"]) == 2, timeout=10)
    assert smtp_server.messages(to=user["email"]) == []  # nothing instant

    with ClusterRpcProxy({"AMQP_URI": environment.amqp_uri}, timeout=30) as cluster:
        later = (datetime.now(timezone.utc) + timedelta(seconds=1)).isoformat()
        assert cluster.notifications.send_digests(later, city["id"]) == {"sent": 1}
        assert cluster.notifications.send_digests(later, city["id"]) == {"sent": 0}  # nothing twice
    mails = smtp_server.messages(to=user["email"])
    assert len(mails) == 1
    assert mails[0]["Subject"] == "Votre résumé du jour : 2 notifications"
    plain = mails[0].get_body(preferencelist=("plain",)).get_content()
    assert "Bonjour Claire" in plain and "pioneer" in plain and "commenter" in plain


@pytest.mark.skipif("ideas" not in service_names(), reason="needs the ideas service")
def test_a_comment_posted_through_the_ideas_routes_reaches_the_author(api, city, smtp_server):
    slug = city["slug"]
    author = api.new_user(city, display_name="Dirk", locale="en")
    commenter = api.new_user(city, display_name="Eva")
    r = api.post(f"/cities/{slug}/projects", token=city["admin_token"],
                 json={"title": {"en": "Greener streets"}, "method": "ideation", "status": "active"})
    assert r.status_code == 201, r.text
    r = api.post(f"/cities/{slug}/projects/{r.json()['id']}/ideas", token=author["token"],
                 json={"title": "Plant trees on every street", "body": "Shade and cleaner air for everyone."})
    assert r.status_code == 201, r.text
    r = api.post(f"/cities/{slug}/ideas/{r.json()['id']}/comments", token=commenter["token"],
                 json={"body": "Yes, starting with my street please"})
    assert r.status_code == 201, r.text

    items = eventually(lambda: of_kind(inbox(api, city, author)["items"], "comment_on_idea"), timeout=10)
    assert items[0]["title"].startswith("Eva commented on")
    mail = eventually(lambda: comment_mails(smtp_server, author, "Eva commented on"), timeout=15)[0]
    assert mail["Subject"].startswith("Eva commented on")
    assert "starting with my street" in mail.get_body(preferencelist=("plain",)).get_content()
