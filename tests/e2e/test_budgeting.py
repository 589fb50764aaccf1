"""Participatory budgeting through the gateway: the budget and its phases, items, ballots, results, events."""
import uuid

import pytest

from support import eventually
from e2e.budgeting_helpers import add_item, base, budget, configure, project, results
from e2e.voting_helpers import Bus

APPROVAL = {"type": "approval", "min_items": 1, "max_items": 2}
ITEMS = (("Benches", 300), ("Trees", 500), ("Playground", 600))


@pytest.fixture(scope="module")
def bus(environment):
    b = Bus(environment.amqp_uri)
    yield b
    b.close()


def put_ballot(api, city, pid, user, **body):
    return api.put(base(city, pid) + "/ballot", token=user["token"], json=body)


def submit(api, city, pid, user, **body):
    return api.post(base(city, pid) + "/ballot/submit", token=user["token"], json=body)


def fields(r):
    return {d["field"]: d["issue"] for d in r.json()["error"].get("details", [])}


def test_a_budget_from_collecting_to_published_results(api, city, bus):
    tap = bus.tap("budgeting")
    pid, (benches, trees, playground) = budget(api, city, ballot=APPROVAL, items=ITEMS)
    r = api.get(base(city, pid) + "/budget")
    assert r.status_code == 200 and r.json()["phase"] == "collecting" and r.json()["items_count"] == 3
    assert r.json()["ballot"] == APPROVAL and r.json()["total"] == 1000 and r.json()["currency"] == "EUR"
    page = api.get(base(city, pid) + "/budget/items", params={"limit": 2}).json()
    assert [i["title"]["en"] for i in page["items"]] == ["Benches", "Trees"] and page["next_cursor"]
    rest = api.get(base(city, pid) + "/budget/items", params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [i["id"] for i in rest["items"]] == [playground] and rest["next_cursor"] is None

    voters = [api.new_user(city, gender=g, birth_year=y) for g, y in
              (("female", 1990), ("female", 1950), ("male", 1990), ("male", 2001))]
    r = put_ballot(api, city, pid, voters[0], item_ids=[benches])
    assert r.status_code == 409 and "voting" in r.json()["error"]["message"]  # not yet

    assert configure(api, city, pid, phase="voting").status_code == 200
    assert add_item(api, city, pid, "Late", 10).status_code == 409
    assert configure(api, city, pid, total=2000).status_code == 409  # settings are fixed once voting
    assert configure(api, city, pid, phase="collecting").status_code == 409  # phases go forward only

    # drafts are checked on every change
    r = put_ballot(api, city, pid, voters[0], item_ids=[benches, trees, playground])
    assert r.status_code == 422 and "at most 2 items" in fields(r)["item_ids"]
    r = put_ballot(api, city, pid, voters[0], item_ids=[])
    assert r.status_code == 422 and "at least 1 item" in fields(r)["item_ids"]
    r = put_ballot(api, city, pid, voters[0], item_ids=[str(uuid.uuid4())])
    assert r.status_code == 422 and "unknown item" in fields(r)["item_ids[0]"]
    r = put_ballot(api, city, pid, voters[0], points={benches: 1})
    assert r.status_code == 422 and "item_ids" in fields(r)
    r = put_ballot(api, city, pid, voters[0], item_ids=[benches])
    assert r.status_code == 200 and r.json()["status"] == "draft"
    r = put_ballot(api, city, pid, voters[0], item_ids=[trees, benches])
    assert r.status_code == 200 and r.json()["item_ids"] == [trees, benches]
    draft = api.get(base(city, pid) + "/ballot", token=voters[0]["token"]).json()
    assert draft["status"] == "draft" and draft["item_ids"] == [trees, benches]
    assert api.get(base(city, pid) + "/ballot", token=voters[1]["token"]).status_code == 404
    assert submit(api, city, pid, voters[1]).status_code == 409  # nothing to submit

    r = submit(api, city, pid, voters[0])
    assert r.status_code == 200 and r.json()["status"] == "submitted" and r.json()["submitted_at"]
    assert put_ballot(api, city, pid, voters[0], item_ids=[benches]).status_code == 409
    assert submit(api, city, pid, voters[0]).status_code == 409
    # submitting with a body saves and submits at once
    for voter, chosen in ((voters[1], [trees, playground]), (voters[2], [playground]), (voters[3], [trees])):
        r = submit(api, city, pid, voter, item_ids=chosen)
        assert r.status_code == 200, r.text
    put_ballot(api, city, pid, api.new_user(city), item_ids=[benches])  # a draft never counts

    # results: admins may look while voting; everyone once closed
    r = results(api, city, pid)
    assert r.status_code == 409
    preview = results(api, city, pid, token=city["admin_token"], rule="greedy")
    assert preview.status_code == 200 and preview.json()["ballots"] == 4

    assert configure(api, city, pid, phase="closed").status_code == 200
    assert put_ballot(api, city, pid, voters[0], item_ids=[benches]).status_code == 409
    r = results(api, city, pid)
    assert r.status_code == 200, r.text
    out = r.json()
    votes = {i["item_id"]: i["votes"] for i in out["items"]}
    assert votes == {benches: 1, trees: 3, playground: 2}
    assert out["rule"] == "mes" and out["spent"] == sum(i["cost"] for i in out["items"] if i["selected"])
    greedy = results(api, city, pid, rule="greedy").json()
    assert greedy["selected"] == [trees, benches] and greedy["spent"] == 800
    for rule in ("mes-raw", "phragmen"):
        r = results(api, city, pid, rule=rule)
        assert r.status_code == 200 and r.json()["rule"] == rule and r.json()["spent"] <= 1000
    assert results(api, city, pid, rule="best").status_code == 422

    split = results(api, city, pid, rule="greedy", by="gender").json()
    groups = {g["group"]: g for g in split["groups"]}
    assert split["by"] == "gender" and set(groups) == {"female", "male"}
    assert {i["item_id"]: i["votes"] for i in groups["female"]["items"]} == {benches: 1, trees: 2, playground: 1}
    # groups this small get their counts, but no outcome of their own (see services/budgeting/tally.py)
    assert groups["male"]["voters"] == 2 and groups["male"]["selected"] is None and groups["female"]["spent"] is None
    ages = results(api, city, pid, by="age_group").json()
    assert sum(g["voters"] for g in ages["groups"]) == 4 and "65+" in {g["group"] for g in ages["groups"]}

    events = tap.drain(lambda ev: any(e["type"] == "budgeting.results_published" for e in ev), timeout=10)
    mine = [e for e in events if e["data"].get("project_id") == pid]
    submitted = [e for e in mine if e["type"] == "budgeting.ballot_submitted"]
    assert len(submitted) == 4 and {e["data"]["user_id"] for e in submitted} == {v["id"] for v in voters}
    first = next(e for e in submitted if e["data"]["user_id"] == voters[0]["id"])
    assert first["data"]["item_ids"] == [trees, benches] and first["data"]["ballot_id"] == draft["id"]
    phases = [e["data"]["phase"] for e in mine if e["type"] == "budgeting.phase_changed"]
    assert phases == ["collecting", "voting", "closed"]
    published = next(e for e in mine if e["type"] == "budgeting.results_published")
    assert published["data"]["selected"] == out["selected"] and published["data"]["rule"] == "mes"
    assert published["data"]["spent"] == out["spent"]


def test_knapsack_and_cumulative_ballots_are_checked_against_their_rules(api, city):
    pid, (a, b, c) = budget(api, city, total=1000, phase="voting", items=ITEMS,
                            ballot={"type": "knapsack", "min_spend_share": 0.5})
    voter = api.new_user(city)
    r = put_ballot(api, city, pid, voter, item_ids=[b, c])
    assert r.status_code == 422 and "more than the 1000 available" in fields(r)["item_ids"]
    r = put_ballot(api, city, pid, voter, item_ids=[a])
    assert r.status_code == 422 and "at least 50%" in fields(r)["item_ids"]
    assert put_ballot(api, city, pid, voter, item_ids=[a, b]).status_code == 200

    pid, (a, b, c) = budget(api, city, phase="voting", items=ITEMS, ballot={"type": "cumulative", "points": 5})
    r = put_ballot(api, city, pid, voter, points={a: 4, b: 2})
    assert r.status_code == 422 and "at most 5 allowed" in fields(r)["points"]
    r = put_ballot(api, city, pid, voter, points={a: -1})
    assert r.status_code == 422 and f"points.{a}" in fields(r)
    assert put_ballot(api, city, pid, voter, item_ids=[a]).status_code == 422
    r = submit(api, city, pid, voter, points={a: 3, b: 2, c: 0})
    assert r.status_code == 200 and r.json()["points"] == {a: 3, b: 2}
    assert configure(api, city, pid, phase="closed").status_code == 200
    out = results(api, city, pid, rule="greedy").json()
    assert {i["item_id"]: i.get("points") for i in out["items"]} == {a: 3, b: 2, c: 0}


def test_bad_budgets_and_items_are_refused_clearly(api, city):
    admin = city["admin_token"]
    poll = project(api, city, method="poll")
    r = configure(api, city, poll, total=100, currency="EUR", ballot={"type": "approval"})
    assert r.status_code == 409 and "budgeting projects" in r.json()["error"]["message"]
    assert configure(api, city, str(uuid.uuid4()), total=100, currency="EUR",
                     ballot={"type": "approval"}).status_code == 404
    assert configure(api, city, "not-a-uuid", total=100, currency="EUR", ballot={"type": "approval"}).status_code == 404
    pid = project(api, city)
    r = configure(api, city, pid, total=100)
    assert r.status_code == 422 and {"currency", "ballot"} <= set(fields(r))
    for body in ({"total": 0, "currency": "EUR", "ballot": {"type": "approval"}},
                 {"total": -5, "currency": "EUR", "ballot": {"type": "approval"}},
                 {"total": 100, "currency": "euro", "ballot": {"type": "approval"}},
                 {"total": 100, "currency": "EUR", "ballot": {"type": "cumulative"}},
                 {"total": 100, "currency": "EUR", "ballot": {"type": "approval", "min_items": 3, "max_items": 2}}):
        assert configure(api, city, pid, **body).status_code == 422, body
    citizen = api.new_user(city)
    r = api.put(base(city, pid) + "/budget", token=citizen["token"],
                json={"total": 100, "currency": "EUR", "ballot": {"type": "approval"}})
    assert r.status_code == 403
    assert api.get(base(city, pid) + "/budget/items").status_code == 404  # no budget yet
    assert configure(api, city, pid, total=100, currency="EUR", ballot={"type": "approval"}).status_code == 200

    for cost in (0, -10, "ten"):
        r = add_item(api, city, pid, "Bench", cost)
        assert r.status_code == 422 and "cost" in fields(r), r.text
    r = api.post(base(city, pid) + "/budget/items", token=admin, json={"title": {"de": "Bank"}, "cost": 5})
    assert r.status_code == 422 and "title.de" in fields(r)
    assert api.post(base(city, pid) + "/budget/items", token=citizen["token"],
                    json={"title": {"en": "x"}, "cost": 5}).status_code == 403

    # items from ideas: only accepted ones, once
    author = api.new_user(city)
    idea = api.post(base(city, pid) + "/ideas", token=author["token"],
                    json={"title": "A fountain", "body": "In the square."}).json()["id"]
    r = add_item(api, city, pid, "Fountain", 40, idea_id=idea)
    assert r.status_code == 422 and "must be accepted" in fields(r)["idea_id"]
    assert add_item(api, city, pid, "Fountain", 40, idea_id=str(uuid.uuid4())).status_code == 422
    for status in ("under_review", "accepted"):
        r = api.post(f"/cities/{city['slug']}/ideas/{idea}/status", token=admin, json={"status": status})
        assert r.status_code == 200, r.text
    r = add_item(api, city, pid, "Fountain", 40.5, idea_id=idea)
    assert r.status_code == 201 and r.json()["idea_id"] == idea and r.json()["cost"] == 40.5
    assert add_item(api, city, pid, "Fountain again", 40, idea_id=idea).status_code == 409
    extra = add_item(api, city, pid, "Spare", 5).json()["id"]
    assert api.delete(base(city, pid) + f"/budget/items/{extra}", token=admin).status_code == 200
    assert api.delete(base(city, pid) + f"/budget/items/{extra}", token=admin).status_code == 404


def test_a_token_of_another_city_reaches_nothing_here(api, city):
    pid, (a, _, _) = budget(api, city, phase="voting", items=ITEMS)
    other = api.new_city()
    stranger = api.new_user(other)
    assert put_ballot(api, city, pid, stranger, item_ids=[a]).status_code == 403
    assert api.get(f"/cities/{other['slug']}/projects/{pid}/budget").status_code == 404
    r = api.put(f"/cities/{other['slug']}/projects/{pid}/ballot", token=stranger["token"], json={"item_ids": [a]})
    assert r.status_code == 404
    assert eventually(lambda: api.get(base(city, pid) + "/budget/items").json()["items"])
