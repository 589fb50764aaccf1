"""Projects, ideas, statuses and comments through the gateway, on the real broker and database."""
import uuid

from e2e.ideas_helpers import ideas_of, new_idea, new_project
from support import eventually


def _issues(r) -> set:
    return {d["field"] for d in r.json()["error"].get("details", [])}


# -- projects ---------------------------------------------------------------------------------------
def test_projects_create_read_update(api, city):
    slug = city["slug"]
    project = new_project(api, city, description={"en": "Tell us how", "nl": "Vertel ons hoe"})
    assert project["method"] == "ideation" and project["status"] == "active"
    assert project["topics"] == ["mobility", "green", "safety"] and project["title"]["nl"] == "Autovrij centrum"
    assert api.get(f"/cities/{slug}/projects/{project['id']}").json()["title"] == project["title"]
    r = api.patch(f"/cities/{slug}/projects/{project['id']}", token=city["admin_token"],
                  json={"status": "closed", "topics": ["mobility"]})
    assert r.status_code == 200 and r.json()["status"] == "closed" and r.json()["topics"] == ["mobility"]
    listed = api.get(f"/cities/{slug}/projects").json()
    assert [p["id"] for p in listed["items"]] == [project["id"]] and listed["next_cursor"] is None


def test_project_rules(api, city):
    slug, admin = city["slug"], city["admin_token"]
    citizen = api.new_user(city)
    body = {"title": {"en": "Parks"}, "method": "poll"}
    assert api.post(f"/cities/{slug}/projects", token=citizen["token"], json=body).status_code == 403
    assert api.post(f"/cities/{slug}/projects", json=body).status_code == 401
    r = api.post(f"/cities/{slug}/projects", token=admin, json={**body, "title": {"de": "Parks"}})
    assert r.status_code == 422 and "title.de" in _issues(r)
    r = api.post(f"/cities/{slug}/projects", token=admin, json={**body, "description": {"fr": "x"}})
    assert r.status_code == 422 and "description.fr" in _issues(r)
    r = api.post(f"/cities/{slug}/projects", token=admin, json={**body, "method": "lottery", "title": {}})
    assert r.status_code == 422 and {"method", "title"} <= _issues(r)
    r = api.post(f"/cities/{slug}/projects", token=admin, json={**body, "title": {"en": "x" * 100_000}})
    assert r.status_code == 422
    assert api.get(f"/cities/{slug}/projects").json()["items"] == []
    # drafts are seen by admins only
    draft = new_project(api, city, status="draft")
    assert api.get(f"/cities/{slug}/projects/{draft['id']}").status_code == 404
    assert api.get(f"/cities/{slug}/projects/{draft['id']}", token=admin).status_code == 200
    assert api.get(f"/cities/{slug}/projects").json()["items"] == []
    assert len(api.get(f"/cities/{slug}/projects", token=admin).json()["items"]) == 1
    r = api.patch(f"/cities/{slug}/projects/{draft['id']}", token=citizen["token"], json={"status": "active"})
    assert r.status_code == 403
    r = api.patch(f"/cities/{slug}/projects/{draft['id']}", token=admin, json={"title": {"xx": "a"}})
    assert r.status_code == 422
    assert api.patch(f"/cities/{slug}/projects/{uuid.uuid4()}", token=admin, json={}).status_code == 404
    assert api.get(f"/cities/{slug}/projects/not-a-uuid").status_code == 404


# -- ideas ------------------------------------------------------------------------------------------
def test_post_and_read_an_idea(api, city):
    project = new_project(api, city)
    user = api.new_user(city, display_name="Ann Peeters", locale="nl")
    idea = new_idea(api, city, project, user, topics=["mobility"], location={"lat": 51.05, "lng": 3.72})
    assert idea["author"] == {"id": user["id"], "display_name": "Ann Peeters"}
    assert idea["status"] == "proposed" and idea["locale"] == "nl" and idea["topics"] == ["mobility"]
    assert idea["location"] == {"lat": 51.05, "lng": 3.72}
    got = api.get(f"/cities/{city['slug']}/ideas/{idea['id']}").json()  # anonymous
    for field in ("up_votes", "down_votes", "comments_count"):
        assert got[field] == 0
    assert got["author"]["display_name"] == "Ann Peeters" and got["title"] == "More bike parking"
    assert new_idea(api, city, project, user, locale="en")["locale"] == "en"
    # the author read model follows profile changes (accounts.user_updated)
    api.patch(f"/cities/{city['slug']}/users/me", token=user["token"], json={"display_name": "Ann P."})
    eventually(lambda: api.get(f"/cities/{city['slug']}/ideas/{idea['id']}").json()["author"]["display_name"]
               == "Ann P.")


def test_bad_ideas_get_api_errors_and_change_nothing(api, city):
    slug = city["slug"]
    project = new_project(api, city)
    user = api.new_user(city)
    url = f"/cities/{slug}/projects/{project['id']}/ideas"
    good = {"title": "Benches", "body": "More benches in the park."}
    cases = [
        ({**good, "title": ""}, 422, {"title"}),
        ({**good, "title": "   "}, 422, {"title"}),
        ({**good, "title": "x" * 100_000}, 422, {"title"}),
        ({**good, "body": ""}, 422, {"body"}),
        ({**good, "topics": ["mobility", "aliens"]}, 422, {"topics.1"}),
        ({**good, "topics": ["Not A Topic!"]}, 422, {"topics.0"}),
        ({**good, "location": {"lat": 123, "lng": 0}}, 422, {"location.lat"}),
        ({**good, "locale": "de"}, 422, {"locale"}),
        ({**good, "extra": 1}, 422, {"extra"}),
    ]
    for body, status, fields in cases:
        r = api.post(url, token=user["token"], json=body)
        assert r.status_code == status, (body, r.text)
        assert fields <= _issues(r), (body, r.text)
    r = api.post(url, token=user["token"], data="{bad json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert api.post(url, json=good).status_code == 401
    assert api.post(f"/cities/{slug}/projects/{uuid.uuid4()}/ideas", token=user["token"], json=good).status_code == 404
    assert api.post(f"/cities/{slug}/projects/nope/ideas", token=user["token"], json=good).status_code == 404
    # a closed project, a poll and a draft take no ideas
    closed = new_project(api, city, status="closed")
    r = api.post(f"/cities/{slug}/projects/{closed['id']}/ideas", token=user["token"], json=good)
    assert r.status_code == 409 and "closed" in r.json()["error"]["message"]
    poll = new_project(api, city, method="poll")
    assert api.post(f"/cities/{slug}/projects/{poll['id']}/ideas", token=user["token"], json=good).status_code == 409
    draft = new_project(api, city, status="draft")
    assert api.post(f"/cities/{slug}/projects/{draft['id']}/ideas", token=user["token"], json=good).status_code == 404
    assert api.post(f"/cities/{slug}/projects/{draft['id']}/ideas", token=city["admin_token"], json=good).status_code == 409
    budgeting = new_project(api, city, method="budgeting")
    assert api.post(f"/cities/{slug}/projects/{budgeting['id']}/ideas", token=user["token"], json=good).status_code == 201
    for p in (project, closed, poll):
        assert ideas_of(api, city, p)["items"] == []
    # unknown ideas
    assert api.get(f"/cities/{slug}/ideas/{uuid.uuid4()}").status_code == 404
    r = api.get(f"/cities/{slug}/ideas/not-a-uuid")
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"


def test_editing_an_idea(api, city):
    slug = city["slug"]
    project = new_project(api, city)
    author, other = api.new_user(city), api.new_user(city)
    moderator = api.promote(city, api.new_user(city), "moderator")
    idea = new_idea(api, city, project, author, topics=["green"])
    url = f"/cities/{slug}/ideas/{idea['id']}"
    r = api.patch(url, token=author["token"], json={"title": "Covered bike parking", "topics": ["mobility", "safety"]})
    assert r.status_code == 200 and r.json()["title"] == "Covered bike parking"
    assert r.json()["topics"] == ["mobility", "safety"] and r.json()["body"] == idea["body"]
    r = api.patch(url, token=other["token"], json={"title": "Mine now"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
    assert api.patch(url, json={"title": "Anonymous"}).status_code == 401
    for bad in ({"title": ""}, {"title": "x" * 100_000}, {"topics": ["aliens"]}, {"title": None},
                {"location": {"lat": 1}}):
        assert api.patch(url, token=author["token"], json=bad).status_code == 422, bad
    r = api.patch(url, token=moderator["token"], json={"body": "Edited by a moderator.", "location": {"lat": 1, "lng": 2}})
    assert r.status_code == 200 and r.json()["location"] == {"lat": 1.0, "lng": 2.0}
    got = api.get(url).json()
    assert (got["title"], got["body"], got["topics"]) == ("Covered bike parking", "Edited by a moderator.",
                                                          ["mobility", "safety"])
    assert api.patch(f"/cities/{slug}/ideas/{uuid.uuid4()}", token=author["token"], json={"title": "x"}).status_code == 404


def test_soft_delete(api, city):
    slug = city["slug"]
    project = new_project(api, city)
    author, other = api.new_user(city), api.new_user(city)
    moderator = api.promote(city, api.new_user(city), "moderator")
    kept, gone, removed = (new_idea(api, city, project, author, title=t) for t in ("kept", "gone", "removed"))
    assert api.delete(f"/cities/{slug}/ideas/{gone['id']}", token=other["token"]).status_code == 403
    assert api.delete(f"/cities/{slug}/ideas/{gone['id']}", token=author["token"]).status_code == 204
    assert api.delete(f"/cities/{slug}/ideas/{removed['id']}", token=moderator["token"]).status_code == 204
    for idea in (gone, removed):
        assert api.get(f"/cities/{slug}/ideas/{idea['id']}").status_code == 404
        assert api.get(f"/cities/{slug}/ideas/{idea['id']}", token=moderator["token"]).status_code == 404
        assert api.delete(f"/cities/{slug}/ideas/{idea['id']}", token=author["token"]).status_code == 404
        assert api.patch(f"/cities/{slug}/ideas/{idea['id']}", token=author["token"], json={"title": "x"}).status_code == 404
    assert [i["id"] for i in ideas_of(api, city, project)["items"]] == [kept["id"]]


def test_status_workflow_with_feedback(api, city):
    slug, admin = city["slug"], city["admin_token"]
    project = new_project(api, city)
    author = api.new_user(city)
    idea = new_idea(api, city, project, author)
    url = f"/cities/{slug}/ideas/{idea['id']}/status"
    assert api.post(url, token=author["token"], json={"status": "under_review"}).status_code == 403
    r = api.post(url, token=admin, json={"status": "implemented"})
    assert r.status_code == 409 and "under_review" in r.json()["error"]["message"]
    r = api.post(url, token=admin, json={"status": "under_review", "feedback": {"en": "Looking", "de": "x"}})
    assert r.status_code == 422 and "feedback.de" in _issues(r)
    assert api.post(url, token=admin, json={"status": "done"}).status_code == 422
    assert api.get(f"/cities/{slug}/ideas/{idea['id']}").json()["status"] == "proposed"
    r = api.post(url, token=admin, json={"status": "under_review"})
    assert r.status_code == 200 and r.json()["status"] == "under_review"
    feedback = {"en": "We build it in spring.", "nl": "We bouwen het in de lente."}
    r = api.post(url, token=admin, json={"status": "accepted", "feedback": feedback})
    assert r.status_code == 200 and r.json()["feedback"] == feedback
    r = api.post(url, token=admin, json={"status": "rejected"})
    assert r.status_code == 409 and "implemented" in r.json()["error"]["message"]
    assert api.post(url, token=admin, json={"status": "implemented"}).status_code == 200
    got = api.get(f"/cities/{slug}/ideas/{idea['id']}").json()
    assert got["status"] == "implemented" and got["status_changed_at"]
    assert api.post(f"/cities/{slug}/ideas/{uuid.uuid4()}/status", token=admin,
                    json={"status": "under_review"}).status_code == 404


# -- comments ---------------------------------------------------------------------------------------
def test_comments_replies_edit_and_delete(api, city):
    slug = city["slug"]
    project = new_project(api, city)
    author, alice, bob = api.new_user(city), api.new_user(city, display_name="Alice"), api.new_user(city)
    idea = new_idea(api, city, project, author)
    url = f"/cities/{slug}/ideas/{idea['id']}/comments"
    top = api.post(url, token=alice["token"], json={"body": "Yes please"})
    assert top.status_code == 201, top.text
    top = top.json()
    assert top["author"] == {"id": alice["id"], "display_name": "Alice"} and top["parent_id"] is None
    reply = api.post(url, token=bob["token"], json={"body": "Agreed", "parent_id": top["id"]}).json()
    assert reply["parent_id"] == top["id"]
    r = api.post(url, token=bob["token"], json={"body": "Too deep", "parent_id": reply["id"]})
    assert r.status_code == 422 and "parent_id" in _issues(r)
    assert api.post(url, token=bob["token"], json={"body": "x", "parent_id": str(uuid.uuid4())}).status_code == 422
    assert api.post(url, token=bob["token"], json={"body": ""}).status_code == 422
    assert api.post(url, token=bob["token"], json={"body": "x" * 100_000}).status_code == 422
    assert api.post(url, json={"body": "anonymous"}).status_code == 401
    assert api.post(f"/cities/{slug}/ideas/{uuid.uuid4()}/comments", token=bob["token"],
                    json={"body": "x"}).status_code == 404
    # edit: the author or a moderator
    c_url = f"/cities/{slug}/comments/{top['id']}"
    assert api.patch(c_url, token=bob["token"], json={"body": "hijack"}).status_code == 403
    r = api.patch(c_url, token=alice["token"], json={"body": "Yes please, soon"})
    assert r.status_code == 200 and r.json()["body"] == "Yes please, soon"
    assert api.get(f"/cities/{slug}/ideas/{idea['id']}").json()["comments_count"] == 2
    # delete: a tombstone remains so the reply keeps its place
    assert api.delete(c_url, token=bob["token"]).status_code == 403
    assert api.delete(c_url, token=alice["token"]).status_code == 204
    assert api.get(c_url).status_code == 404
    items = api.get(url).json()["items"]
    assert [(c["id"], c["deleted"], c["body"]) for c in items] == [(top["id"], True, None), (reply["id"], False, "Agreed")]
    assert api.get(f"/cities/{slug}/ideas/{idea['id']}").json()["comments_count"] == 1
    # paging oldest first
    for i in range(3):
        api.post(url, token=bob["token"], json={"body": f"more {i}"})
    first = api.get(url, params={"limit": 2}).json()
    second = api.get(url, params={"limit": 2, "cursor": first["next_cursor"]}).json()
    third = api.get(url, params={"limit": 2, "cursor": second["next_cursor"]}).json()
    bodies = [c["body"] for c in first["items"] + second["items"] + third["items"]]
    assert bodies == [None, "Agreed", "more 0", "more 1", "more 2"] and third["next_cursor"] is None


def test_a_token_of_one_city_reads_and_writes_nothing_of_another(api, city):
    other = api.new_city()
    project = new_project(api, city)
    user = api.new_user(city)
    idea = new_idea(api, city, project, user)
    stranger = api.new_user(other)
    assert api.post(f"/cities/{other['slug']}/projects/{project['id']}/ideas", token=user["token"],
                    json={"title": "x", "body": "y"}).status_code == 403
    # the other city's admin and users see nothing of this city through their own city
    o = other["slug"]
    assert api.get(f"/cities/{o}/ideas/{idea['id']}").status_code == 404
    assert api.get(f"/cities/{o}/projects/{project['id']}").status_code == 404
    assert api.patch(f"/cities/{o}/ideas/{idea['id']}", token=other["admin_token"], json={"title": "x"}).status_code == 404
    assert api.delete(f"/cities/{o}/ideas/{idea['id']}", token=other["admin_token"]).status_code == 404
    assert api.post(f"/cities/{o}/ideas/{idea['id']}/status", token=other["admin_token"],
                    json={"status": "under_review"}).status_code == 404
    assert api.post(f"/cities/{o}/ideas/{idea['id']}/comments", token=stranger["token"],
                    json={"body": "x"}).status_code == 404
    assert api.post(f"/cities/{o}/ideas/{idea['id']}/flags", token=stranger["token"],
                    json={"reason": "spam"}).status_code == 404
    assert api.patch(f"/cities/{o}/projects/{project['id']}", token=other["admin_token"],
                     json={"status": "closed"}).status_code == 404
    got = api.get(f"/cities/{city['slug']}/ideas/{idea['id']}").json()
    assert got["title"] == idea["title"] and got["status"] == "proposed" and got["comments_count"] == 0
    assert api.get(f"/cities/{city['slug']}/projects/{project['id']}").json()["status"] == "active"
