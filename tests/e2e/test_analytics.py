"""Analytics through the gateway: citizens' ideas become topics, similar ideas and a demographic heatmap.

Run with the services it reads from: AGORA_SERVICES=accounts,ideas,voting,analytics.
"""
import csv
import io
import uuid

import pytest
from e2e.ideas_helpers import new_idea, new_project
from openpyxl import load_workbook
from support import eventually

BIKES = [
    ("Safe bike lanes on the main street", "Cyclists need a protected bike lane, cars drive too close to bikes."),
    ("More bike racks at the station", "The bike racks at the station are always full, we need more racks for bikes."),
    ("Covered bike storage downtown", "Secure covered storage for bikes so they stay dry and are not stolen."),
    ("Bike lane to the school", "Children cycle to school, a separate bike lane would keep cyclists safe."),
    ("Repair the cycling path", "The cycling path has holes, bikes and cyclists fall, please repair the bike path."),
    ("Bike sharing scheme", "Shared bikes at every station, cheap bike rental for cyclists."),
    ("Traffic lights for cyclists", "Bike lanes need their own traffic lights so cyclists cross safely."),
    ("Wider bike lanes", "The bike lanes are too narrow for cargo bikes and many cyclists."),
]
PARKS = [
    ("Plant more trees in the park", "The park needs more trees for shade, green trees and flowers."),
    ("A new park with trees", "Turn the empty lot into a green park with trees, grass and benches."),
    ("Benches in the park", "Older people need benches in the park to rest under the trees."),
    ("Flowers and trees on the square", "Green the square with trees, flowers and plants instead of stone."),
    ("Clean the park pond", "The pond in the park is dirty, clean it and plant trees around the park."),
    ("Community garden in the park", "A garden in the park where neighbours grow vegetables and plant trees."),
    ("Protect the old trees", "Do not cut the old trees of the park, protect green spaces and trees."),
    ("Green roofs and trees", "Plant trees on every street and green roofs with plants for a greener city."),
]


def _post(api, city, project, user, title, body, **kw):
    return new_idea(api, city, project, user, title=title, body=body, **kw)


def _topics(api, city, project):
    r = api.get(f"/cities/{city['slug']}/projects/{project['id']}/topics")
    assert r.status_code == 200, r.text
    return r.json()


def _refresh(api, city, project):
    r = api.post(f"/cities/{city['slug']}/projects/{project['id']}/topics/refresh", token=city["admin_token"])
    assert r.status_code == 202, r.text


def _topic_of(answer, idea_id):
    found = [t["id"] for t in answer["topics"] if idea_id in t["idea_ids"]]
    assert len(found) <= 1
    return found[0] if found else None


@pytest.fixture(scope="module")
def consultation(api):
    """A city with an ideation project where young cyclists and older park lovers posted their ideas."""
    client = api
    city = client.new_city()
    project = new_project(client, city, title={"en": "Our city in 2030"})
    young = [client.new_user(city, birth_year=2004, gender="female", district="Centrum") for _ in range(2)]
    older = [client.new_user(city, birth_year=1955, gender="male", district="Noord") for _ in range(2)]
    slug = city["slug"]

    # Too few ideas for a model: a clear answer, no crash, also after a refresh.
    first = _post(client, city, project, young[0], *BIKES[0])
    eventually(lambda: _topics(client, city, project)["have"] == 1, timeout=10)
    answer = _topics(client, city, project)
    assert answer["status"] == "not_enough_ideas" and answer["topics"] == [] and answer["needed"] == 10
    _refresh(client, city, project)
    answer = eventually(lambda: (a := _topics(client, city, project))["status"] == "not_enough_ideas" and a, timeout=10)
    assert answer["topics"] == [] and answer["have"] <= 1

    bikes = [first] + [_post(client, city, project, young[i % 2], t, b) for i, (t, b) in enumerate(BIKES[1:])]
    parks = [_post(client, city, project, older[i % 2], t, b) for i, (t, b) in enumerate(PARKS)]
    ideas = bikes + parks
    eventually(lambda: _topics(client, city, project)["have"] == len(ideas), timeout=15)
    _refresh(client, city, project)
    topics = eventually(lambda: (a := _topics(client, city, project))["status"] == "ok" and a, timeout=30)
    return {"api": client, "city": city, "slug": slug, "project": project, "young": young, "older": older,
            "bikes": bikes, "parks": parks, "topics": topics}


def test_ideas_of_citizens_show_up_in_topics(consultation):
    c = consultation
    topics = c["topics"]
    assert topics["model_version"] and len(topics["topics"]) >= 2
    for t in topics["topics"]:
        assert t["label"] and t["keywords"] and t["size"] == len(t["idea_ids"])
    everyone = {i["id"] for i in c["bikes"] + c["parks"]}
    assert {i for t in topics["topics"] for i in t["idea_ids"]} == everyone
    # Cycling ideas and green ideas never share a topic (the model may split either theme in two).
    bike_topics = {_topic_of(topics, i["id"]) for i in c["bikes"]}
    park_topics = {_topic_of(topics, i["id"]) for i in c["parks"]}
    assert not bike_topics & park_topics and len(bike_topics) <= 2 and len(park_topics) <= 2

    # An idea posted now gets a topic from the current model as it arrives, without a rebuild.
    late = _post(c["api"], c["city"], c["project"], c["young"][1], "Bike lane on the bridge",
                 "A protected bike lane on the bridge for cyclists and bikes.")
    after = eventually(lambda: (a := _topics(c["api"], c["city"], c["project"])) and _topic_of(a, late["id"]) is not None
                       and a, timeout=10)
    assert after["model_version"] == topics["model_version"]
    assert _topic_of(after, late["id"]) in bike_topics


def test_similar_ideas_for_an_idea_and_for_a_draft(consultation):
    c = consultation
    api, slug = c["api"], c["slug"]
    bike = c["bikes"][1]
    r = api.get(f"/cities/{slug}/ideas/{bike['id']}/similar", params={"limit": 3})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert 1 <= len(items) <= 3 and bike["id"] not in [i["idea_id"] for i in items]
    assert items[0]["idea_id"] in {i["id"] for i in c["bikes"]}
    assert all(0 < i["score"] <= 1 for i in items) and items == sorted(items, key=lambda i: -i["score"])

    r = api.post(f"/cities/{slug}/projects/{c['project']['id']}/similar",
                 json={"title": "bike racks", "body": "the station needs more racks for bikes"})
    assert r.status_code == 200, r.text
    top = r.json()["items"][0]
    assert top["idea_id"] == bike["id"] and top["title"] == bike["title"]

    # A deleted idea is no longer offered as a duplicate (the index follows the idea events).
    gone = c["parks"][-1]
    author = c["older"][(len(c["parks"]) - 1) % 2]
    assert api.delete(f"/cities/{slug}/ideas/{gone['id']}", token=author["token"]).status_code == 204

    def no_longer_similar():
        r = api.post(f"/cities/{slug}/projects/{c['project']['id']}/similar",
                     json={"title": gone["title"], "body": gone["body"]}, params={"limit": 20})
        return gone["id"] not in [i["idea_id"] for i in r.json()["items"]]

    eventually(no_longer_similar, timeout=10)
    assert api.get(f"/cities/{slug}/ideas/{gone['id']}/similar").status_code == 404


def test_heatmap_shows_which_groups_care_about_what(consultation):
    c = consultation
    api, slug, pid = c["api"], c["slug"], c["project"]["id"]
    topics = _topics(api, c["city"], c["project"])
    bike_topics = {_topic_of(topics, i["id"]) for i in c["bikes"]}
    park_topics = [_topic_of(topics, i["id"]) for i in c["parks"]]
    park_topic = max(set(park_topics), key=park_topics.count)
    r = api.get(f"/cities/{slug}/projects/{pid}/heatmap", params={"dimension": "age_group"},
                token=c["city"]["admin_token"])
    assert r.status_code == 200, r.text
    hm = r.json()
    assert hm["model_version"] == topics["model_version"] and hm["dimension"] == "age_group"
    cells = {(x["topic_id"], x["group"]): x for x in hm["cells"]}
    for cell in hm["cells"]:
        assert set(cell) == {"topic_id", "group", "count", "expected", "lift", "p_value"}
        assert 0 <= cell["p_value"] <= 1
    # older people wrote the green ideas, young people the cycling ones
    older = cells[(park_topic, "65+")]
    assert older["count"] >= 6 and older["lift"] > 1.3 and older["p_value"] < 0.05
    assert cells[(park_topic, "under_25")]["lift"] < 0.7
    assert all(cells[(t, "under_25")]["lift"] > 1.3 for t in bike_topics)
    assert hm["p_value"] < 0.05 and hm["chi2"] > 0 and hm["n"] == sum(x["count"] for x in hm["cells"])
    by_gender = api.get(f"/cities/{slug}/projects/{pid}/heatmap", params={"dimension": "gender"},
                        token=c["city"]["admin_token"]).json()
    assert {x["group"] for x in by_gender["cells"]} == {"female", "male"}
    by_district = api.get(f"/cities/{slug}/projects/{pid}/heatmap", params={"dimension": "district"},
                          token=c["city"]["admin_token"]).json()
    assert {x["group"] for x in by_district["cells"]} == {"Centrum", "Noord"}

    r = api.get(f"/cities/{slug}/projects/{pid}/heatmap", params={"dimension": "shoe_size"},
                token=c["city"]["admin_token"])
    assert r.status_code == 422
    assert api.get(f"/cities/{slug}/projects/{pid}/heatmap", token=c["young"][0]["token"]).status_code == 403
    assert api.get(f"/cities/{slug}/projects/{pid}/heatmap").status_code == 401


def test_dashboard_and_exports(consultation):
    c = consultation
    api, slug, pid, admin = c["api"], c["slug"], c["project"]["id"], c["city"]["admin_token"]
    idea = c["parks"][0]
    for voter in c["young"]:
        r = api.put(f"/cities/{slug}/ideas/{idea['id']}/vote", token=voter["token"], json={"value": "up"})
        assert r.status_code == 200, r.text
    r = api.post(f"/cities/{slug}/ideas/{idea['id']}/comments", token=c["young"][0]["token"],
                 json={"body": "Yes please, more shade."})
    assert r.status_code == 201, r.text

    def counted():
        r = api.get(f"/cities/{slug}/dashboard", token=admin)
        assert r.status_code == 200, r.text
        d = r.json()
        assert d["totals"]["votes"] >= 2 and d["totals"]["comments"] >= 1
        return d

    d = eventually(counted, timeout=10)
    assert d["totals"]["ideas"] >= len(c["bikes"]) + len(c["parks"])
    assert d["totals"]["participants"] == 4
    assert len(d["series"]) == 30 and d["series"][-1]["ideas"] >= 16 and d["series"][-1]["participants"] == 4
    assert d["participants_by"]["age_group"] == {"65+": 2, "under_25": 2}
    assert d["participants_by"]["gender"] == {"female": 2, "male": 2}
    assert d["participants_by"]["district"] == {"Centrum": 2, "Noord": 2}
    one_day = api.get(f"/cities/{slug}/dashboard", token=admin,
                      params={"from": "2020-01-01", "to": "2020-01-01", "project_id": pid}).json()
    assert one_day["totals"]["ideas"] == 0 and len(one_day["series"]) == 1
    r = api.get(f"/cities/{slug}/dashboard", token=admin, params={"from": "2021-01-02", "to": "2021-01-01"})
    assert r.status_code == 422
    assert api.get(f"/cities/{slug}/dashboard", token=admin, params={"from": "yesterday"}).status_code == 422
    assert api.get(f"/cities/{slug}/dashboard", token=c["older"][0]["token"]).status_code == 403

    def exported():
        r = api.get(f"/cities/{slug}/projects/{pid}/export.csv", token=admin)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
        rows = {row["idea_id"]: row for row in csv.DictReader(io.StringIO(r.text))}
        assert rows[idea["id"]]["up_votes"] == "2" and rows[idea["id"]]["comments"] == "1"
        return r

    r = eventually(exported, timeout=10)
    assert 'attachment; filename="ideas-' in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert "@" not in r.text and not any("email" in k for k in rows[0])
    row = next(x for x in rows if x["idea_id"] == idea["id"])
    assert row["author_age_group"] == "65+" and row["author_gender"] == "male" and row["author_district"] == "Noord"
    assert row["topic_label"] and row["title"] == idea["title"]

    r = api.get(f"/cities/{slug}/projects/{pid}/export.xlsx", token=admin)
    assert r.status_code == 200 and "spreadsheetml" in r.headers["Content-Type"]
    sheet = load_workbook(io.BytesIO(r.content)).active
    values = list(sheet.values)
    assert values[0][0] == "idea_id" and len(values) == len(rows) + 1
    assert api.get(f"/cities/{slug}/projects/{pid}/export.csv", token=c["young"][0]["token"]).status_code == 403


def test_awkward_texts_and_bad_input(consultation):
    c = consultation
    api, slug, pid = c["api"], c["slug"], c["project"]["id"]
    url = f"/cities/{slug}/projects/{pid}/similar"
    for draft in ({"title": "", "body": ""}, {"title": "bike"}, {"title": "🚲🚲🌳", "body": "👍👍"},
                  {"title": "Fietsenstalling bij het station", "body": "Meer plaats voor fietsen, more bike racks"},
                  {"title": "Big", "body": "bike racks station trees " * 2000},
                  {"title": "=HYPERLINK(\"http://evil\")", "body": "<script>alert(1)</script> \ud7ff"}):
        r = api.post(url, json=draft)
        assert r.status_code == 200, (draft["title"], r.text)
        assert isinstance(r.json()["items"], list)
    assert api.post(url, json={"title": "bike"}).json()["items"][0]["idea_id"] in {i["id"] for i in c["bikes"]}
    assert api.post(url, json={"title": "x", "body": "y" * 100_001}).status_code == 422
    assert api.post(url, json={"title": 5}).status_code == 422
    assert api.post(url, json={"title": "bike", "body": "\u0000"}).status_code == 422  # refused at the gateway
    assert api.post(url, json={"title": "bike"}, params={"limit": 0}).status_code == 422
    assert api.post(url, data="{", headers={"Content-Type": "application/json"}).status_code == 400
    assert api.post(f"/cities/{slug}/projects/not-a-uuid/similar", json={"title": "bike"}).status_code == 404
    assert api.post(f"/cities/{slug}/projects/{uuid.uuid4()}/similar", json={"title": "bike"}).status_code == 404
    assert api.get(f"/cities/{slug}/ideas/not-a-uuid/similar").status_code == 404
    assert api.get(f"/cities/{slug}/ideas/{uuid.uuid4()}/similar").status_code == 404
    assert api.get(f"/cities/{slug}/projects/{uuid.uuid4()}/topics").status_code == 404
    assert api.post(f"/cities/{slug}/projects/{pid}/topics/refresh", token=c["young"][0]["token"]).status_code == 403

    # Ideas of one word, emoji only, mixed languages and a long body are stored and answer normally.
    user = c["young"][0]
    odd = [_post(api, c["city"], c["project"], user, "Bikes", "Bikes"),
           _post(api, c["city"], c["project"], user, "🚲🚲", "🌳🌳 👍"),
           _post(api, c["city"], c["project"], user, "Fietspad naar school",
                 "Een veilig fietspad, a safe bike lane, un carril bici seguro"),
           _post(api, c["city"], c["project"], user, "Long", "cyclists need bike lanes " * 390)]
    for idea in odd:
        r = eventually(lambda i=idea: (r := api.get(f"/cities/{slug}/ideas/{i['id']}/similar")).status_code == 200
                       and r, timeout=10)
        assert isinstance(r.json()["items"], list)
    assert _topics(api, c["city"], c["project"])["status"] == "ok"


def test_a_city_sees_nothing_of_another(consultation, api):
    c = consultation
    other = api.new_city()
    idea, pid = c["bikes"][0], c["project"]["id"]
    assert api.get(f"/cities/{other['slug']}/ideas/{idea['id']}/similar").status_code == 404
    assert api.get(f"/cities/{other['slug']}/projects/{pid}/topics").status_code == 404
    assert api.post(f"/cities/{other['slug']}/projects/{pid}/similar", json={"title": "bike"}).status_code == 404
    assert api.get(f"/cities/{other['slug']}/projects/{pid}/heatmap", token=other["admin_token"]).status_code == 404
    assert api.get(f"/cities/{other['slug']}/projects/{pid}/export.csv", token=other["admin_token"]).status_code == 404
    assert api.get(f"/cities/{c['slug']}/projects/{pid}/heatmap", token=other["admin_token"]).status_code == 403
    d = api.get(f"/cities/{other['slug']}/dashboard", token=other["admin_token"]).json()
    assert d["totals"]["ideas"] == 0 and d["totals"]["participants"] == 0


def test_the_timer_builds_a_model_once_a_project_has_enough_ideas(api, city):
    project = new_project(api, city)
    user = api.new_user(city, birth_year=1990)
    for title, body in BIKES[:5] + PARKS[:5]:
        _post(api, city, project, user, title, body)
    answer = eventually(lambda: (a := _topics(api, city, project))["status"] == "ok" and a, timeout=40, interval=0.5)
    assert sum(t["size"] for t in answer["topics"]) == 10
