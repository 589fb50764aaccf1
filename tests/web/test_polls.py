"""The poll page: questions, the answer form, results after answering (counts as text beside SVG bars)."""
import re

import pytest

from tests.web.citizen_support import sign_in


def add_questions(api, city) -> list[dict]:
    slug, pid = city["slug"], city["project"]["id"]
    bodies = [
        {"text": {"en": "How do you come to the centre?", "nl": "Hoe kom je naar het centrum?"}, "kind": "single",
         "options": [{"text": {"en": "By bike", "nl": "Met de fiets"}}, {"text": {"en": "By bus"}},
                     {"text": {"en": "By car"}}]},
        {"text": {"en": "What should come first?"}, "kind": "multiple", "max_choices": 2,
         "options": [{"text": {"en": "Trees"}}, {"text": {"en": "Benches"}}, {"text": {"en": "Bike racks"}}]},
    ]
    out = []
    for body in bodies:
        r = api.post(f"/cities/{slug}/projects/{pid}/poll/questions", token=city["admin_token"], json=body)
        assert r.status_code == 201, r.text
        out.append(r.json())
    return out


@pytest.fixture
def poll_city(make_city, api):
    city = make_city(method="poll")
    city["questions"] = add_questions(api, city)
    return city


def test_poll_answers_are_checked_and_results_follow(site, poll_city, api):
    slug, pid = poll_city["slug"], poll_city["project"]["id"]
    single, multiple = poll_city["questions"]
    other = poll_city["citizens"][1]
    r = api.put(f"/cities/{slug}/projects/{pid}/poll/response", token=other["token"],
                json={"answers": {single["id"]: [single["options"][1]["id"]]}})
    assert r.status_code == 200, r.text

    page = site.get(f"/{slug}/projects/{pid}/poll")
    assert page.status_code == 200
    assert "How do you come to the centre?" in page.text and "Choose up to 2 answers." in page.text
    assert 'id="results"' not in page.text  # results come after answering

    site.login(poll_city, poll_city["citizens"][0])
    token = site.csrf(f"/{slug}/projects/{pid}/poll")
    too_many = [o["id"] for o in multiple["options"]]
    r = site.post(f"/{slug}/projects/{pid}/poll", data={"csrf_token": token, f"q.{multiple['id']}": too_many})
    assert r.status_code == 422
    assert "at most 2 choice" in r.text and "question field--invalid" in r.text
    assert api.get(f"/cities/{slug}/projects/{pid}/poll/results").json()["respondents"] == 1  # nothing saved

    r = site.post(f"/{slug}/projects/{pid}/poll", data={
        "csrf_token": token, f"q.{single['id']}": single["options"][0]["id"],
        f"q.{multiple['id']}": [multiple["options"][0]["id"], multiple["options"][2]["id"]]})
    assert r.status_code == 303 and r.headers["location"].endswith("/poll#results")
    page = site.get(f"/{slug}/projects/{pid}/poll").text
    assert 'id="results"' in page and "2 citizens answered." in page
    bike = re.search(r"By bike.*?</th>\s*<td class=\"num\">(\d+)</td>.*?(\d+)%", page, re.S)
    assert bike and bike.groups() == ("1", "50")
    assert page.count('chip--own">your answer<') == 3
    assert "Change your answers" in page


def test_anonymous_answers_are_saved_after_logging_in(site, poll_city, api):
    slug, pid = poll_city["slug"], poll_city["project"]["id"]
    single = poll_city["questions"][0]
    token = site.csrf(f"/{slug}/projects/{pid}/poll")
    r = site.post(f"/{slug}/projects/{pid}/poll", data={"csrf_token": token, f"q.{single['id']}": single["options"][2]["id"]})
    assert r.status_code == 303 and "/login?next=" in r.headers["location"]
    r = site.login(poll_city, poll_city["citizens"][0])
    assert r.headers["location"].endswith("/poll#results")
    results = api.get(f"/cities/{slug}/projects/{pid}/poll/results").json()
    assert results["questions"][0]["options"][2]["count"] == 1


def test_answer_a_poll_in_a_browser(page, poll_city, axe_check, layout_check):
    slug, pid = poll_city["slug"], poll_city["project"]["id"]
    sign_in(page, poll_city, poll_city["citizens"][0], next=f"/{slug}/projects/{pid}/poll")
    assert page.url.endswith("/poll")
    axe_check(page, "poll form")
    layout_check(page, "poll")
    page.get_by_label("By bus").check()
    boxes = page.locator("fieldset[data-max-choices] input[type=checkbox]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    assert boxes.nth(2).is_disabled()  # at most 2 choices
    page.get_by_role("button", name="Send my answers").click()
    results = page.locator("#results")
    results.wait_for()
    assert "1 citizen answered." in results.inner_text()
    bus = results.locator("tr", has_text="By bus")
    assert "100%" in bus.inner_text() and "your answer" in bus.inner_text()
    assert results.locator("svg.bar").count() == 6
    axe_check(page, "poll results")
    layout_check(page, "poll-results")
