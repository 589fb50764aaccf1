"""The officials' workspace through the gateway: the input manager's list and the comments and votes exports.

Run with the services it reads from: AGORA_SERVICES=accounts,ideas,voting,analytics.
"""
import csv
import io
import uuid

import pytest
from e2e.ideas_helpers import new_idea, new_project
from openpyxl import load_workbook
from support import eventually


def _inputs(api, city, project, token, **params):
    return api.get(f"/cities/{city['slug']}/projects/{project['id']}/inputs", token=token, params=params)


def _ids(answer) -> list[str]:
    return [i["id"] for i in answer["items"]]


@pytest.fixture(scope="module")
def workspace(api):
    """A project with three ideas: one voted up and commented, one flagged until hidden, one accepted."""
    city = api.new_city()
    slug, admin = city["slug"], city["admin_token"]
    project = new_project(api, city, flag_threshold=2)
    young = api.new_user(city, birth_year=2004, gender="female", district="Centrum")
    older = api.new_user(city, birth_year=1955, gender="male", district="Noord")
    plain = api.new_user(city)
    moderator = api.promote(city, api.new_user(city), "moderator")
    popular = new_idea(api, city, project, young, title="Bike lanes", topics=["mobility"])
    flagged = new_idea(api, city, project, older, title="Plant trees", topics=["green"])
    accepted = new_idea(api, city, project, plain, title="Safer crossings", topics=["safety", "mobility"])
    for voter in (older, plain):
        r = api.put(f"/cities/{slug}/ideas/{popular['id']}/vote", token=voter["token"], json={"value": "up"})
        assert r.status_code == 200, r.text
    r = api.put(f"/cities/{slug}/ideas/{flagged['id']}/vote", token=young["token"], json={"value": "down"})
    assert r.status_code == 200, r.text
    r = api.post(f"/cities/{slug}/ideas/{popular['id']}/comments", token=older["token"],
                 json={"body": "=Yes, and wider please."})
    assert r.status_code == 201, r.text
    for user in (young, plain):
        r = api.post(f"/cities/{slug}/ideas/{flagged['id']}/flags", token=user["token"], json={"reason": "spam"})
        assert r.status_code == 201, r.text
    r = api.post(f"/cities/{slug}/ideas/{accepted['id']}/status", token=admin, json={"status": "under_review"})
    assert r.status_code == 200, r.text
    c = {"api": api, "city": city, "project": project, "admin": admin, "moderator": moderator, "young": young,
         "older": older, "popular": popular, "flagged": flagged, "accepted": accepted}

    def settled():
        items = {i["id"]: i for i in _inputs(api, city, project, admin).json()["items"]}
        return (len(items) == 3 and items[popular["id"]]["up_votes"] == 2 and items[popular["id"]]["comments"] == 1
                and items[flagged["id"]]["flags"] == 2 and items[accepted["id"]]["status"] == "under_review"
                and items[flagged["id"]]["down_votes"] == 1)

    eventually(settled, timeout=15)
    return c


def test_the_input_manager_lists_a_projects_ideas_with_counts_and_demographics(workspace):
    c = workspace
    api, city, project = c["api"], c["city"], c["project"]
    answer = _inputs(api, city, project, c["moderator"]["token"])
    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert _ids(page) == [c["accepted"]["id"], c["flagged"]["id"], c["popular"]["id"]]  # newest first
    assert page["next_cursor"] is None
    item = next(i for i in page["items"] if i["id"] == c["popular"]["id"])
    assert item["title"] == "Bike lanes" and item["topics"] == ["mobility"] and item["status"] == "proposed"
    assert (item["up_votes"], item["down_votes"], item["comments"], item["flags"]) == (2, 0, 1, 0)
    assert item["author"] == {"age_group": "under_25", "gender": "female", "district": "Centrum"}
    assert "topic_id" in item and item["created_at"]
    hidden = next(i for i in page["items"] if i["id"] == c["flagged"]["id"])
    assert hidden["hidden"] is True and hidden["flags"] == 2
    assert "@" not in answer.text and "author_id" not in answer.text


def test_the_input_manager_filters_sorts_and_pages(workspace):
    c = workspace
    api, city, project, token = c["api"], c["city"], c["project"], c["admin"]

    def ids(**params):
        r = _inputs(api, city, project, token, **params)
        assert r.status_code == 200, (params, r.text)
        return _ids(r.json())

    assert ids(status="under_review") == [c["accepted"]["id"]]
    assert ids(topic="mobility") == [c["accepted"]["id"], c["popular"]["id"]]
    assert ids(flagged="true") == [c["flagged"]["id"]]
    assert ids(flagged="false") == [c["accepted"]["id"], c["popular"]["id"]]
    assert ids(age_group="65+") == [c["flagged"]["id"]]
    assert ids(gender="female", district="Centrum") == [c["popular"]["id"]]
    assert ids(gender="unknown") == [c["accepted"]["id"]]
    assert ids(sort="popular") == [c["popular"]["id"], c["accepted"]["id"], c["flagged"]["id"]]
    assert ids(**{"from": "2020-01-01", "to": "2020-12-31"}) == []
    assert ids(topic_id=0) == []  # no topic model yet: no idea has an analytics topic

    for sort in ("new", "popular"):
        seen, cursor = [], None
        while True:
            r = _inputs(api, city, project, token, sort=sort, limit=1, **({"cursor": cursor} if cursor else {}))
            assert r.status_code == 200, r.text
            seen += _ids(r.json())
            cursor = r.json()["next_cursor"]
            if cursor is None:
                break
        assert seen == ids(sort=sort)


def test_the_input_manager_refuses_bad_input_citizens_and_other_cities(workspace, api):
    c = workspace
    city, project = c["city"], c["project"]
    assert _inputs(api, city, project, c["young"]["token"]).status_code == 403
    assert _inputs(api, city, project, None).status_code == 401
    for bad in ({"sort": "best"}, {"limit": 0}, {"limit": 101}, {"flagged": "maybe"}, {"age_group": "old"},
                {"from": "2021-01-02", "to": "2021-01-01"}, {"cursor": "not-a-cursor"}, {"topic_id": "x"}):
        r = _inputs(api, city, project, c["admin"], **bad)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["error"]
    assert _inputs(api, city, {"id": str(uuid.uuid4())}, c["admin"]).status_code == 404
    other = api.new_city()
    assert _inputs(api, other, project, other["admin_token"]).status_code == 404
    assert _inputs(api, city, project, other["admin_token"]).status_code == 403


def test_comments_and_votes_exports_carry_demographics_only(workspace, api):
    c = workspace
    slug, pid, admin = c["city"]["slug"], c["project"]["id"], c["admin"]
    r = api.get(f"/cities/{slug}/projects/{pid}/comments/export.csv", token=admin)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert 'attachment; filename="comments-' in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 1
    row = rows[0]
    assert row["idea_id"] == c["popular"]["id"] and row["body"] == "'=Yes, and wider please."  # no formula
    assert (row["author_age_group"], row["author_gender"], row["author_district"]) == ("65+", "male", "Noord")
    assert "@" not in r.text and c["older"]["id"] not in r.text

    def votes():
        r = api.get(f"/cities/{slug}/projects/{pid}/votes/export.csv", token=admin)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert len(rows) == 3
        return r, rows

    r, rows = eventually(votes, timeout=10)
    assert sorted((x["idea_id"], x["value"]) for x in rows) == sorted(
        [(c["popular"]["id"], "up"), (c["popular"]["id"], "up"), (c["flagged"]["id"], "down")])
    down = next(x for x in rows if x["value"] == "down")
    assert (down["voter_age_group"], down["voter_gender"], down["voter_district"]) == ("under_25", "female", "Centrum")
    assert "@" not in r.text and c["young"]["id"] not in r.text and c["older"]["id"] not in r.text

    for what, count in (("comments", 1), ("votes", 3)):
        r = api.get(f"/cities/{slug}/projects/{pid}/{what}/export.xlsx", token=admin)
        assert r.status_code == 200 and "spreadsheetml" in r.headers["Content-Type"]
        values = list(load_workbook(io.BytesIO(r.content)).active.values)
        assert len(values) == count + 1 and values[0][0] in ("comment_id", "idea_id")
        assert api.get(f"/cities/{slug}/projects/{pid}/{what}/export.csv",
                       token=c["moderator"]["token"]).status_code == 403
        other = api.new_city()
        assert api.get(f"/cities/{other['slug']}/projects/{pid}/{what}/export.csv",
                       token=other["admin_token"]).status_code == 404


def test_a_withdrawn_vote_leaves_the_votes_export(workspace, api):
    c = workspace
    slug, pid, admin = c["city"]["slug"], c["project"]["id"], c["admin"]
    voter = api.new_user(c["city"], birth_year=1990)
    url = f"/cities/{slug}/ideas/{c['accepted']['id']}/vote"
    assert api.put(url, token=voter["token"], json={"value": "up"}).status_code == 200

    def rows_of(n):
        r = api.get(f"/cities/{slug}/projects/{pid}/votes/export.csv", token=admin)
        rows = [x for x in csv.DictReader(io.StringIO(r.text)) if x["idea_id"] == c["accepted"]["id"]]
        assert len(rows) == n
        return rows

    assert eventually(lambda: rows_of(1), timeout=10)[0]["voter_age_group"] == "35-49"
    assert api.delete(url, token=voter["token"]).status_code in (200, 204)
    eventually(lambda: rows_of(0) == [], timeout=10)


def test_another_citys_project_is_not_found_on_the_dashboard(workspace, api):
    c = workspace
    pid, other = c["project"]["id"], api.new_city()
    r = api.get(f"/cities/{other['slug']}/dashboard", token=other["admin_token"], params={"project_id": pid})
    assert r.status_code == 404, r.text
    r = api.get(f"/cities/{other['slug']}/dashboard", token=other["admin_token"],
                params={"project_id": str(uuid.uuid4())})
    assert r.status_code == 404, r.text
    r = api.get(f"/cities/{c['city']['slug']}/dashboard", token=c["admin"], params={"project_id": pid})
    assert r.status_code == 200 and r.json()["totals"]["ideas"] == 3
