"""The caller's own ideas, comments and votes (`/users/me/...`): what the web site shows on a profile and cards."""
import uuid

from e2e.ideas_helpers import new_idea, new_project
from support import eventually


def _own(api, city, user, what, **params):
    r = api.get(f"/cities/{city['slug']}/users/me/{what}", token=user["token"], params=params)
    assert r.status_code == 200, r.text
    return r.json()


def _comment(api, city, user, idea, body="Agreed."):
    r = api.post(f"/cities/{city['slug']}/ideas/{idea['id']}/comments", token=user["token"], json={"body": body})
    assert r.status_code == 201, r.text
    return r.json()


def _ids(items):
    return [i["id"] for i in items]


def test_own_ideas_cross_projects_newest_first_and_page(api, city):
    first, second = new_project(api, city), new_project(api, city)
    me, other = api.new_user(city), api.new_user(city)
    mine = [new_idea(api, city, p, me, title=f"mine {n}") for n, p in enumerate([first, second, first])]
    new_idea(api, city, first, other, title="not mine")
    page = _own(api, city, me, "ideas", limit=2)
    assert _ids(page["items"]) == _ids(mine[::-1][:2])
    rest = _own(api, city, me, "ideas", limit=2, cursor=page["next_cursor"])
    assert _ids(rest["items"]) == [mine[0]["id"]] and rest["next_cursor"] is None
    listed = api.get(f"/cities/{city['slug']}/projects/{second['id']}/ideas").json()["items"][0]
    assert page["items"][1] == listed  # the same item shape as the project's list, with project_id
    assert page["items"][1]["project_id"] == second["id"]


def test_own_ideas_leave_out_deleted_ones_and_need_a_token(api, city):
    project = new_project(api, city)
    me = api.new_user(city)
    kept, gone = new_idea(api, city, project, me), new_idea(api, city, project, me)
    assert api.delete(f"/cities/{city['slug']}/ideas/{gone['id']}", token=me["token"]).status_code == 204
    assert _ids(_own(api, city, me, "ideas")["items"]) == [kept["id"]]
    r = api.get(f"/cities/{city['slug']}/users/me/ideas")
    assert r.status_code == 401 and r.json()["error"]["code"] == "UNAUTHORIZED"
    bad = api.get(f"/cities/{city['slug']}/users/me/ideas", token=me["token"], params={"cursor": "nonsense"})
    assert bad.status_code == 422


def test_own_ideas_of_another_citys_token_are_refused(api, city):
    elsewhere = api.new_city()
    stranger = api.new_user(elsewhere)
    r = api.get(f"/cities/{city['slug']}/users/me/ideas", token=stranger["token"])
    assert r.status_code in (401, 403), r.text


def test_own_comments_newest_first_with_idea_id(api, city):
    project = new_project(api, city)
    me, other = api.new_user(city), api.new_user(city)
    a, b = new_idea(api, city, project, other), new_idea(api, city, project, other)
    mine = [_comment(api, city, me, a, "one"), _comment(api, city, me, b, "two"), _comment(api, city, me, a, "three")]
    _comment(api, city, other, a, "not mine")
    gone = _comment(api, city, me, b, "deleted")
    assert api.delete(f"/cities/{city['slug']}/comments/{gone['id']}", token=me["token"]).status_code == 204
    page = _own(api, city, me, "comments", limit=2)
    assert _ids(page["items"]) == _ids(mine[::-1][:2])
    assert [c["idea_id"] for c in page["items"]] == [a["id"], b["id"]]
    rest = _own(api, city, me, "comments", limit=2, cursor=page["next_cursor"])
    assert _ids(rest["items"]) == [mine[0]["id"]] and rest["next_cursor"] is None
    listed = api.get(f"/cities/{city['slug']}/ideas/{a['id']}/comments").json()["items"]
    assert page["items"][0] == next(c for c in listed if c["id"] == mine[2]["id"])


def test_own_comments_leave_out_those_on_a_deleted_idea(api, city):
    project = new_project(api, city)
    me, author = api.new_user(city), api.new_user(city)
    idea = new_idea(api, city, project, author)
    _comment(api, city, me, idea)
    assert api.delete(f"/cities/{city['slug']}/ideas/{idea['id']}", token=author["token"]).status_code == 204
    assert _own(api, city, me, "comments")["items"] == []


def test_own_votes_answer_only_the_targets_voted_on(api, city):
    project = new_project(api, city)
    me, author = api.new_user(city), api.new_user(city)
    ideas = [new_idea(api, city, project, author, title=f"idea {n}") for n in range(3)]
    comment = _comment(api, city, author, ideas[0])
    for idea, value in ((ideas[0], "up"), (ideas[2], "down")):
        r = api.put(f"/cities/{city['slug']}/ideas/{idea['id']}/vote", token=me["token"], json={"value": value})
        assert r.status_code == 200, r.text
    r = api.put(f"/cities/{city['slug']}/comments/{comment['id']}/vote", token=me["token"], json={"value": "up"})
    assert r.status_code == 200, r.text
    ids = ",".join([ideas[2]["id"], ideas[1]["id"], ideas[0]["id"], str(uuid.uuid4())])
    got = _own(api, city, me, "votes", target_type="idea", ids=ids)
    assert got == {"items": [{"target_id": ideas[2]["id"], "value": "down"},
                             {"target_id": ideas[0]["id"], "value": "up"}]}
    comments = _own(api, city, me, "votes", target_type="comment", ids=f"{comment['id']},{ideas[0]['id']}")
    assert comments == {"items": [{"target_id": comment["id"], "value": "up"}]}
    assert _own(api, city, author, "votes", target_type="idea", ids=ids) == {"items": []}
    api.delete(f"/cities/{city['slug']}/ideas/{ideas[0]['id']}/vote", token=me["token"])
    eventually(lambda: _own(api, city, me, "votes", target_type="idea", ids=ids)["items"]
               == [{"target_id": ideas[2]["id"], "value": "down"}])


def test_own_votes_refuse_bad_queries(api, city):
    me = api.new_user(city)
    path = f"/cities/{city['slug']}/users/me/votes"
    too_many = ",".join(str(uuid.uuid4()) for _ in range(101))
    for params in ({"target_type": "idea", "ids": too_many}, {"target_type": "idea", "ids": "not-an-id"},
                   {"target_type": "project", "ids": str(uuid.uuid4())}, {"target_type": "idea"},
                   {"target_type": "idea", "ids": ""}):
        r = api.get(path, token=me["token"], params=params)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["error"]["code"] == "VALIDATION_FAILED"
    assert api.get(path, params={"target_type": "idea", "ids": str(uuid.uuid4())}).status_code == 401
    hundred = ",".join(str(uuid.uuid4()) for _ in range(100))
    assert _own(api, city, me, "votes", target_type="idea", ids=hundred) == {"items": []}
