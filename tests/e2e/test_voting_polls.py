"""Polls through the gateway: questions, one response per user, results overall and by demographic group."""
import uuid
from datetime import date

import pytest

from support import eventually, service_names
from e2e.voting_helpers import Bus, Content, ideas_routes_live, new_user

IDEAS_RUNNING = "ideas" in service_names()
YEAR = date.today().year


@pytest.fixture(scope="module")
def bus(environment):
    b = Bus(environment.amqp_uri)
    yield b
    b.close()


@pytest.fixture
def content(api, city, bus):
    return Content(api, city, bus, ideas_routes_live(api))


def base(city, project):
    return f"/cities/{city['slug']}/projects/{project}/poll"


def add_question(api, city, project, **fields):
    body = {"text": {"en": "How do you get to work?", "nl": "Hoe ga je naar het werk?"}, "kind": "single",
            "options": [{"text": {"en": "Bike", "nl": "Fiets"}}, {"text": {"en": "Tram", "nl": "Tram"}},
                        {"text": {"en": "Car", "nl": "Auto"}}], **fields}
    return api.post(base(city, project) + "/questions", token=city["admin_token"], json=body)


def poll_project(api, city, content, status="active") -> str:
    project = content.project(method="poll", status=status)
    # the project fact reaches voting by event; wait until it does
    eventually(lambda: add_question(api, city, project, text={"en": "warm-up"}).status_code == 201, timeout=10)
    return project


def answer(api, city, project, user, answers):
    return api.put(base(city, project) + "/response", token=user["token"], json={"answers": answers})


def results(api, city, project, by=None):
    r = api.get(base(city, project) + "/results", params={"by": by} if by else None)
    assert r.status_code == 200, r.text
    return r.json()


def counts(result, question_id, group=None):
    q = next(q for q in result["questions"] if q["id"] == question_id)
    if group is None:
        return [o["count"] for o in q["options"]]
    g = next((g for g in q["groups"] if g["group"] == group), None)
    return [o["count"] for o in g["options"]] if g else [0] * len(q["options"])


def test_questions_need_an_admin_valid_text_and_a_poll_project(api, city, content):
    project = poll_project(api, city, content)
    citizen = new_user(api, city)
    r = api.post(base(city, project) + "/questions", token=citizen["token"],
                 json={"text": {"en": "q"}, "kind": "single", "options": [{"text": {"en": "a"}}, {"text": {"en": "b"}}]})
    assert r.status_code == 403
    r = add_question(api, city, project, text={"fr": "Comment?"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "text.fr"
    r = add_question(api, city, project, max_choices=2)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "max_choices"
    r = add_question(api, city, project, kind="multiple", max_choices=4)
    assert r.status_code == 422
    r = add_question(api, city, project, kind="ranking")
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "kind"
    r = add_question(api, city, project, options=[{"text": {"en": "only one"}}])
    assert r.status_code == 422
    r = add_question(api, city, project, kind="multiple", max_choices=2)
    assert r.status_code == 201
    q = r.json()
    assert q["kind"] == "multiple" and q["max_choices"] == 2 and q["text"]["nl"] == "Hoe ga je naar het werk?"
    assert [o["text"]["en"] for o in q["options"]] == ["Bike", "Tram", "Car"]
    listed = api.get(base(city, project) + "/questions").json()
    assert [x["id"] for x in listed["items"]][-1] == q["id"] and listed["next_cursor"] is None
    page = api.get(base(city, project) + "/questions", params={"limit": 1}).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = api.get(base(city, project) + "/questions", params={"limit": 1, "cursor": page["next_cursor"]}).json()
    assert rest["items"][0]["id"] == q["id"]

    ideation = content.project(method="ideation")

    def settled():  # once voting has heard of the project (a Response of 409 is falsy, hence the list)
        r = add_question(api, city, ideation)
        return [r] if r.status_code not in (404, 503) else None

    r = eventually(settled, timeout=10)[0]
    assert r.status_code == 409 and "not a poll" in r.json()["error"]["message"]
    r = add_question(api, city, str(uuid.uuid4()))
    assert r.status_code == (404 if IDEAS_RUNNING else 503)


def test_one_response_per_user_replaced_when_answered_again(api, city, bus, content):
    project = poll_project(api, city, content)
    single = add_question(api, city, project).json()
    multi = add_question(api, city, project, kind="multiple", max_choices=2,
                         text={"en": "Which parks need benches?"}).json()
    s_opts, m_opts = [o["id"] for o in single["options"]], [o["id"] for o in multi["options"]]
    user = new_user(api, city)
    tap = bus.tap()
    r = answer(api, city, project, user, {single["id"]: [s_opts[0]], multi["id"]: m_opts[:2]})
    assert r.status_code == 200 and r.json()["replaced"] is False
    r = answer(api, city, project, user, {single["id"]: [s_opts[1]]})
    assert r.status_code == 200 and r.json()["replaced"] is True
    res = results(api, city, project)
    assert counts(res, single["id"]) == [0, 1, 0] and counts(res, multi["id"]) == [0, 0, 0]
    assert res["respondents"] == 1
    mine = api.get(base(city, project) + "/response", token=user["token"]).json()
    assert mine["answers"] == {single["id"]: [s_opts[1]]}

    events = tap.drain(lambda ev: len([e for e in ev if e["type"] == "voting.poll_answered"]) >= 2)
    answered = [e for e in events if e["type"] == "voting.poll_answered"]
    assert [e["data"]["replaced"] for e in answered] == [False, True]
    assert answered[0]["data"] == {"project_id": project, "user_id": user["id"], "replaced": False,
                                   "answers": {single["id"]: [s_opts[0]], multi["id"]: m_opts[:2]}}

    # bad answers get API errors and change nothing
    for bad in ({single["id"]: [m_opts[0]]},  # an option of another question
                {multi["id"]: m_opts},  # more choices than allowed
                {single["id"]: s_opts[:2]},  # two on a single choice question
                {str(uuid.uuid4()): [s_opts[0]]},  # not a question of this poll
                {single["id"]: []}, {}):
        r = answer(api, city, project, user, bad)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["error"]["code"] == "VALIDATION_FAILED"
    r = api.put(base(city, project) + "/response", token=user["token"], json={"answers": "yes"})
    assert r.status_code == 422
    assert api.get(base(city, project) + "/response", token=user["token"]).json()["answers"] == mine["answers"]
    assert counts(results(api, city, project), single["id"]) == [0, 1, 0]


def test_closed_and_draft_polls_take_no_answers(api, city, content):
    project = poll_project(api, city, content)
    q = add_question(api, city, project).json()
    user = new_user(api, city)
    assert answer(api, city, project, user, {q["id"]: [q["options"][0]["id"]]}).status_code == 200
    content.update_project(project, method="poll", status="closed")
    eventually(lambda: answer(api, city, project, user, {q["id"]: [q["options"][0]["id"]]}).status_code == 409)
    assert answer(api, city, project, user, {q["id"]: [q["options"][2]["id"]]}).status_code == 409
    assert add_question(api, city, project).status_code == 409
    assert counts(results(api, city, project), q["id"]) == [1, 0, 0]
    draft = poll_project(api, city, content, status="draft")
    q = add_question(api, city, draft).json()
    assert answer(api, city, draft, user, {q["id"]: [q["options"][0]["id"]]}).status_code == 409


def test_results_by_age_group_gender_and_district(api, city, content):
    project = poll_project(api, city, content)
    q = add_question(api, city, project).json()
    bike, tram, car = (o["id"] for o in q["options"])
    people = [
        ({"birth_year": YEAR - 20, "gender": "female", "district": "Noord"}, bike),
        ({"birth_year": YEAR - 22, "gender": "male", "district": "Noord"}, bike),
        ({"birth_year": YEAR - 30, "gender": "female", "district": "Zuid"}, tram),
        ({"birth_year": YEAR - 40, "gender": "other", "district": "Zuid"}, car),
        ({"birth_year": YEAR - 70, "gender": "male", "district": "Centrum"}, car),
        ({}, tram),
    ]
    users = []
    for profile, choice in people:
        user = new_user(api, city, **profile)
        assert answer(api, city, project, user, {q["id"]: [choice]}).status_code == 200
        users.append(user)
    overall = results(api, city, project)
    assert counts(overall, q["id"]) == [2, 2, 2] and overall["respondents"] == 6 and overall["by"] is None
    by_age = results(api, city, project, "age_group")
    assert by_age["by"] == "age_group"
    assert counts(by_age, q["id"], "under_25") == [2, 0, 0]
    assert counts(by_age, q["id"], "25-34") == [0, 1, 0]
    assert counts(by_age, q["id"], "35-49") == [0, 0, 1]
    assert counts(by_age, q["id"], "65+") == [0, 0, 1]
    assert counts(by_age, q["id"], "unknown") == [0, 1, 0]
    by_gender = results(api, city, project, "gender")
    groups = [g["group"] for g in next(x for x in by_gender["questions"] if x["id"] == q["id"])["groups"]]
    assert groups == ["female", "male", "other", "unknown"]
    assert counts(by_gender, q["id"], "female") == [1, 1, 0] and counts(by_gender, q["id"], "male") == [1, 0, 1]
    assert counts(results(api, city, project, "district"), q["id"], "Zuid") == [0, 1, 1]
    # a user moving house moves their answers to the new district (demographics follow accounts' events)
    r = api.patch(f"/cities/{city['slug']}/users/me", token=users[0]["token"], json={"district": "Zuid"})
    assert r.status_code == 200
    eventually(lambda: counts(results(api, city, project, "district"), q["id"], "Zuid") == [1, 1, 1])
    assert api.get(base(city, project) + "/results", params={"by": "shoe_size"}).status_code == 422
    assert api.get(f"/cities/{city['slug']}/projects/not-a-uuid/poll/results").status_code == 404
    # another city sees nothing of this poll, and its people cannot answer it
    other = api.new_city()
    assert api.get(f"/cities/{other['slug']}/projects/{project}/poll/results").status_code == 404
    assert api.get(f"/cities/{other['slug']}/projects/{project}/poll/questions").status_code == (
        404 if IDEAS_RUNNING else 503)
    stranger = new_user(api, other)
    assert answer(api, city, project, stranger, {q["id"]: [bike]}).status_code == 403
    r = answer(api, other, project, stranger, {q["id"]: [bike]})
    assert r.status_code == (404 if IDEAS_RUNNING else 503)
    assert counts(results(api, city, project), q["id"]) == [2, 2, 2]


def test_questions_of_another_citys_project_are_404(api, city, content):
    project = poll_project(api, city, content)
    assert api.get(base(city, project) + "/questions").json()["items"]
    other = api.new_city()
    r = api.get(base(other, project) + "/questions")
    assert r.status_code == (404 if IDEAS_RUNNING else 503), r.text
    assert api.get(base(other, project) + "/questions", token=other["admin_token"]).status_code == (
        404 if IDEAS_RUNNING else 503)
    assert api.get(base(city, str(uuid.uuid4())) + "/questions").status_code == (404 if IDEAS_RUNNING else 503)
    assert api.get(base(city, "not-a-uuid") + "/questions").status_code == 404
