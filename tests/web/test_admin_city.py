"""The city-wide pages of the officials' workspace in Chromium: polls by group, pabulib import errors,
points and the most engaged citizens, webhooks with their secret shown once, users and their roles."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from support import SHARED_DATA
from tests.web.admin_support import wait_for

TABLET = {"width": 768, "height": 1024}


@pytest.fixture
def check(axe_check, layout_check):
    def run(page, name: str) -> None:
        axe_check(page, name)
        page.set_viewport_size(TABLET)
        page.wait_for_timeout(50)
        sideways = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert sideways <= 0, f"{name} scrolls sideways by {sideways}px at 768x1024"
        layout_check(page, name)
    return run


def downloaded(page, locator) -> bytes:
    with page.expect_download() as info:
        locator.click()
    return Path(info.value.path()).read_bytes()


def official_of(api, city: dict) -> dict:
    return api.promote(city, city["citizens"][0], "admin")


def test_poll_questions_and_results_by_group(page, api, make_city, login, check):
    city = make_city(method="poll", citizens=1)
    slug, pid = city["slug"], city["project"]["id"]
    login(page, city, official_of(api, city))
    page.goto(f"/{slug}/admin/projects/{pid}/poll")
    page.fill("#q-text-en", "Where should the new playground go?")
    page.fill("#q-text-nl", "Waar moet de nieuwe speeltuin komen?")
    page.fill("#q-options-en", "In the park\nOn the square")
    page.fill("#q-options-nl", "In het park\nOp het plein")
    page.get_by_role("button", name="Add the question").click()
    assert "The question is added" in page.locator(".flashes").inner_text()
    questions = api.get(f"/cities/{slug}/projects/{pid}/poll/questions").json()["items"]
    assert len(questions) == 1
    q = questions[0]
    assert q["text"] == {"en": "Where should the new playground go?", "nl": "Waar moet de nieuwe speeltuin komen?"}
    assert [o["text"] for o in q["options"]] == [{"en": "In the park", "nl": "In het park"},
                                                 {"en": "On the square", "nl": "Op het plein"}]
    park, square = q["options"][0]["id"], q["options"][1]["id"]
    for gender, choice, n in (("female", park, 3), ("male", square, 2)):
        for _ in range(n):
            voter = api.new_user(city, gender=gender)
            r = api.put(f"/cities/{slug}/projects/{pid}/poll/response", token=voter["token"],
                        json={"answers": {q["id"]: [choice]}})
            assert r.status_code == 200, r.text
    page.goto(f"/{slug}/admin/projects/{pid}/poll?by=gender")
    chart = page.locator("section.figure").first
    assert chart.locator("svg[role=img]").count() == 1
    table = chart.locator("table").inner_text()
    assert "women (3)" in table and "men (2)" in table
    check(page, "admin-poll")
    data = downloaded(page, chart.get_by_role("link", name="CSV table"))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["Gender", "Answer", "Respondents"]
    assert ["women (3)", "In the park", "3"] in rows and ["men (2)", "On the square", "2"] in rows
    assert ["women (3)", "On the square", "0"] in rows


def test_a_broken_pabulib_file_shows_the_line_and_changes_nothing(page, api, make_city, login, check):
    city = make_city(method="budgeting", citizens=1)
    slug, pid = city["slug"], city["project"]["id"]
    login(page, city, official_of(api, city))
    page.goto(f"/{slug}/admin/projects/{pid}/budget")
    base = f"/cities/{slug}/projects/{pid}/budget"
    assert api.get(base).status_code == 404  # a new budgeting project has no budget yet: the file would create it
    broken = ("META\nkey;value\nnum_projects;1\nnum_votes;1\nbudget;1000\nvote_type;approval\n"
              "PROJECTS\nproject_id;cost\np1;not-a-number\nVOTES\nvoter_id;vote\nv1;p1\n")
    page.fill("textarea[name=text]", broken)
    page.get_by_role("button", name="Import").click()
    alert = page.locator(".notice--error[role=alert]").last.inner_text()
    assert "line 9" in alert, alert
    check(page, "admin-budget-import-error")
    for path in (base, base + "/items"):  # no budget was created, so neither it nor any item exists
        r = api.get(path)
        assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND", r.text
    good = SHARED_DATA / "pb"
    files = sorted(good.glob("*.pb"), key=lambda p: p.stat().st_size) if good.exists() else []
    if files:
        page.set_input_files("input[name=file]", str(files[0]))
        page.get_by_role("button", name="Import").click()
        assert "Imported" in page.locator(".flashes").inner_text()
        assert page.locator("table.rules-table").count() == 1
        check(page, "admin-budget-imported-results")


def test_points_engaged_citizens_and_their_csv(page, api, make_city, make_idea, login, check):
    city = make_city(citizens=2)
    slug = city["slug"]
    login(page, city, official_of(api, city))
    author = city["citizens"][1]
    make_idea(city, city["project"], author)
    wait_for(lambda: api.get(f"/cities/{slug}/gamification/engaged", token=city["admin_token"]).json()["items"], 20)
    page.goto(f"/{slug}/admin/gamification")
    assert author["display_name"] in page.locator("table.data").first.inner_text()
    check(page, "admin-gamification")
    data = downloaded(page, page.get_by_role("link", name="Download as CSV"))
    assert author["display_name"].encode() in data
    page.fill("input[name='points.idea_posted']", "4")
    page.get_by_role("button", name="Save the rules").click()
    assert "The rules are saved" in page.locator(".flashes").inner_text()
    assert api.get(f"/cities/{slug}/gamification/rules").json()["points"]["idea_posted"] == 4


def test_a_webhook_shows_its_secret_once_then_its_deliveries(page, api, make_city, make_idea, login, check):
    city = make_city(citizens=2)
    slug = city["slug"]
    login(page, city, official_of(api, city))
    page.get_by_role("link", name="City workspace").click()
    page.get_by_role("link", name="Integrations").click()
    page.fill("input[name=url]", "http://127.0.0.1:9/agora")  # nothing listens: deliveries fail and retry
    page.get_by_role("button", name="Create the webhook").click()
    secret = page.locator("#webhook-secret").inner_text().strip()
    hooks = api.get(f"/cities/{slug}/webhooks", token=city["admin_token"]).json()["items"]
    assert len(hooks) == 1 and len(secret) >= 16
    check(page, "admin-integrations-secret")
    page.reload()
    assert page.locator("#webhook-secret").count() == 0 and secret not in page.content()
    assert len(api.get(f"/cities/{slug}/webhooks", token=city["admin_token"]).json()["items"]) == 1  # not made twice
    make_idea(city, city["project"], city["citizens"][1])
    wait_for(lambda: api.get(f"/cities/{slug}/webhooks/{hooks[0]['id']}/deliveries",
                             token=city["admin_token"]).json()["items"], 30)
    page.get_by_role("link", name="http://127.0.0.1:9/agora").click()
    assert page.locator("table.data tbody tr").count() >= 1
    assert secret not in page.content()
    check(page, "admin-webhook")


def test_users_are_listed_and_promoted(page, api, make_city, login, check):
    city = make_city(citizens=2)
    slug = city["slug"]
    login(page, city, official_of(api, city))
    target = city["citizens"][1]
    page.goto(f"/{slug}/admin/users")
    if page.locator("table.data").count() == 0:  # a platform without the users route
        page.fill("input[name=user_id]", target["id"])
        page.select_option("select[name=role]", "moderator")
        page.get_by_role("button", name="Set the role").click()
    else:
        assert target["email"] in page.locator("table.data").inner_text()
        check(page, "admin-users")
        page.select_option(f"#role-{target['id']}", "moderator")
        page.get_by_role("button", name=f"Save the role of {target['display_name']}").click()
    assert "takes effect at once" in page.locator(".flashes").inner_text()
    me = api.get(f"/cities/{slug}/users/me", token=api.login(slug, target["email"], "citizen-password-1")).json()
    assert me["role"] == "moderator"
