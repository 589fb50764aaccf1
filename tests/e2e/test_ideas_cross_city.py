"""Another city's ids answer 404 in every ideas and voting route that takes an id, as an unknown id does."""
import pytest

from e2e.ideas_helpers import new_idea, new_project
from support import eventually, service_names

pytestmark = pytest.mark.skipif(not {"accounts", "ideas", "voting"} <= set(service_names()),
                                reason="needs accounts, ideas and voting")


def test_every_route_with_an_id_of_another_city_is_404(api, city):
    project = new_project(api, city)
    poll = new_project(api, city, method="poll")
    author, voter = api.new_user(city), api.new_user(city)
    idea = new_idea(api, city, project, author)
    comment = api.post(f"/cities/{city['slug']}/ideas/{idea['id']}/comments", token=author["token"],
                       json={"body": "Agreed."}).json()
    assert api.put(f"/cities/{city['slug']}/ideas/{idea['id']}/vote", token=voter["token"],
                   json={"value": "up"}).status_code == 200
    question = {"text": {"en": "Bike or tram?"}, "kind": "single", "options": [{"text": {"en": "Bike"}},
                                                                             {"text": {"en": "Tram"}}]}
    eventually(lambda: api.post(f"/cities/{city['slug']}/projects/{poll['id']}/poll/questions",
                                token=city["admin_token"], json=question).status_code == 201, timeout=10)
    other = api.new_city()
    token = other["admin_token"]
    base = f"/cities/{other['slug']}"
    reads = [
        f"/projects/{project['id']}", f"/projects/{project['id']}/ideas", f"/ideas/{idea['id']}",
        f"/ideas/{idea['id']}/comments", f"/comments/{comment['id']}", f"/ideas/{idea['id']}/vote",
        f"/comments/{comment['id']}/vote", f"/projects/{poll['id']}/poll/questions",
        f"/projects/{poll['id']}/poll/results", f"/projects/{poll['id']}/poll/response",
    ]
    for path in reads:
        r = api.get(base + path, token=token)
        assert r.status_code == 404, (path, r.status_code, r.text)
        assert r.json()["error"]["code"] == "NOT_FOUND"
    writes = [
        ("put", f"/ideas/{idea['id']}/vote", {"value": "up"}), ("delete", f"/ideas/{idea['id']}/vote", None),
        ("patch", f"/ideas/{idea['id']}", {"title": "Taken over"}), ("delete", f"/comments/{comment['id']}", None),
        ("post", f"/ideas/{idea['id']}/flags", {"reason": "spam"}),
        ("post", f"/ideas/{idea['id']}/status", {"status": "under_review"}),
        ("post", f"/projects/{poll['id']}/poll/questions", question),
    ]
    for method, path, body in writes:
        r = getattr(api, method)(base + path, token=token, **({"json": body} if body is not None else {}))
        assert r.status_code == 404, (method, path, r.status_code, r.text)
    eventually(lambda: api.get(f"/cities/{city['slug']}/ideas/{idea['id']}").json()["up_votes"] == 1)
