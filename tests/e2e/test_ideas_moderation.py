"""Flags, hiding at the threshold, the moderation queue and moderators' decisions."""
import uuid

from e2e.ideas_helpers import ideas_of, new_idea, new_project


def _flag(api, city, user, kind, target_id, reason="spam"):
    return api.post(f"/cities/{city['slug']}/{kind}/{target_id}/flags", token=user["token"], json={"reason": reason})


def test_flags_hide_an_idea_until_a_moderator_restores_it(api, city):
    slug = city["slug"]
    project = new_project(api, city, flag_threshold=2)
    author, a, b = api.new_user(city), api.new_user(city), api.new_user(city)
    moderator = api.promote(city, api.new_user(city), "moderator")
    idea = new_idea(api, city, project, author)
    url = f"/cities/{slug}/ideas/{idea['id']}"
    assert _flag(api, city, a, "ideas", idea["id"], "lottery").status_code == 422
    assert _flag(api, city, author, "ideas", idea["id"]).status_code == 409      # not your own
    r = _flag(api, city, a, "ideas", idea["id"])
    assert r.status_code == 201 and r.json()["reason"] == "spam"
    r = _flag(api, city, a, "ideas", idea["id"], "offensive")
    assert r.status_code == 409                                                   # once per user
    assert api.get(url).status_code == 200                                        # one flag: still visible
    assert _flag(api, city, b, "ideas", idea["id"], "offensive").status_code == 201
    # hidden: gone for citizens (even the author), listed and flagged for moderators
    assert api.get(url).status_code == 404
    assert api.get(url, token=author["token"]).status_code == 404
    assert api.patch(url, token=author["token"], json={"title": "x"}).status_code == 404
    assert ideas_of(api, city, project)["items"] == []
    seen = api.get(url, token=moderator["token"]).json()
    assert seen["hidden"] is True and seen["flags"] == 2
    assert [i["id"] for i in ideas_of(api, city, project, token=moderator["token"])["items"]] == [idea["id"]]
    # the queue
    assert api.get(f"/cities/{slug}/moderation/flags", token=a["token"]).status_code == 403
    queue = api.get(f"/cities/{slug}/moderation/flags", token=moderator["token"]).json()["items"]
    assert len(queue) == 1
    entry = queue[0]
    assert (entry["target_type"], entry["target_id"], entry["flags"], entry["hidden"]) == ("idea", idea["id"], 2, True)
    assert entry["reasons"] == {"spam": 1, "offensive": 1} and entry["content"]["title"] == idea["title"]
    # decisions
    d_url = f"/cities/{slug}/moderation/idea/{idea['id']}"
    assert api.post(d_url, token=a["token"], json={"decision": "restore"}).status_code == 403
    assert api.post(d_url, token=moderator["token"], json={"decision": "ignore"}).status_code == 422
    assert api.post(f"/cities/{slug}/moderation/poll/{idea['id']}", token=moderator["token"],
                    json={"decision": "restore"}).status_code == 404
    assert api.post(f"/cities/{slug}/moderation/idea/{uuid.uuid4()}", token=moderator["token"],
                    json={"decision": "restore"}).status_code == 404
    r = api.post(d_url, token=moderator["token"], json={"decision": "restore"})
    assert r.status_code == 200 and r.json() == {"target_type": "idea", "target_id": idea["id"], "decision": "restore",
                                                 "hidden": False, "deleted": False, "resolved_flags": 2}
    assert api.get(url).status_code == 200 and api.get(url).json()["hidden"] is False
    assert api.get(f"/cities/{slug}/moderation/flags", token=moderator["token"]).json()["items"] == []
    # restored content is hidden again only by new flags up to the threshold
    c = api.new_user(city)
    assert _flag(api, city, c, "ideas", idea["id"]).status_code == 201
    assert api.get(url).status_code == 200
    assert _flag(api, city, a, "ideas", idea["id"]).status_code == 409


def test_remove_deletes_and_the_default_threshold_is_three(api, city):
    slug = city["slug"]
    project = new_project(api, city)
    author = api.new_user(city)
    flaggers = [api.new_user(city) for _ in range(3)]
    moderator = api.promote(city, api.new_user(city), "moderator")
    idea = new_idea(api, city, project, author)
    comment = api.post(f"/cities/{slug}/ideas/{idea['id']}/comments", token=author["token"], json={"body": "buy pills"}).json()
    c_url = f"/cities/{slug}/comments/{comment['id']}"
    for i, user in enumerate(flaggers):
        assert api.get(c_url).status_code == 200, i
        assert _flag(api, city, user, "comments", comment["id"]).status_code == 201
    assert api.get(c_url).status_code == 404
    assert api.get(f"/cities/{slug}/ideas/{idea['id']}/comments").json()["items"] == []
    assert api.get(f"/cities/{slug}/ideas/{idea['id']}").json()["comments_count"] == 0
    listed = api.get(f"/cities/{slug}/ideas/{idea['id']}/comments", token=moderator["token"]).json()["items"]
    assert [(c["id"], c["hidden"], c["flags"]) for c in listed] == [(comment["id"], True, 3)]
    r = api.post(f"/cities/{slug}/moderation/comment/{comment['id']}", token=moderator["token"],
                 json={"decision": "remove"})
    assert r.status_code == 200 and r.json()["deleted"] is True and r.json()["resolved_flags"] == 3
    assert api.get(c_url, token=moderator["token"]).status_code == 404
    assert api.post(f"/cities/{slug}/moderation/comment/{comment['id']}", token=moderator["token"],
                    json={"decision": "restore"}).status_code == 404
    assert api.get(f"/cities/{slug}/moderation/flags", token=moderator["token"]).json()["items"] == []
    # a moderator can remove an idea that was flagged but not hidden
    assert _flag(api, city, flaggers[0], "ideas", idea["id"], "off_topic").status_code == 201
    r = api.post(f"/cities/{slug}/moderation/idea/{idea['id']}", token=moderator["token"], json={"decision": "remove"})
    assert r.status_code == 200 and r.json()["hidden"] is False and r.json()["deleted"] is True
    assert api.get(f"/cities/{slug}/ideas/{idea['id']}", token=moderator["token"]).status_code == 404


def test_moderation_queue_pages(api, city):
    slug = city["slug"]
    project = new_project(api, city)
    author, flagger = api.new_user(city), api.new_user(city)
    moderator = api.promote(city, api.new_user(city), "moderator")
    ideas = [new_idea(api, city, project, author, title=f"i{i}") for i in range(3)]
    for idea in ideas:
        assert _flag(api, city, flagger, "ideas", idea["id"]).status_code == 201
    first = api.get(f"/cities/{slug}/moderation/flags", token=moderator["token"], params={"limit": 2}).json()
    second = api.get(f"/cities/{slug}/moderation/flags", token=moderator["token"],
                     params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [e["target_id"] for e in first["items"] + second["items"]] == [i["id"] for i in ideas]
    assert second["next_cursor"] is None
    # another city's moderator sees none of it
    other = api.new_city()
    assert api.get(f"/cities/{other['slug']}/moderation/flags", token=other["admin_token"]).json()["items"] == []
    assert api.post(f"/cities/{other['slug']}/moderation/idea/{ideas[0]['id']}", token=other["admin_token"],
                    json={"decision": "remove"}).status_code == 404
