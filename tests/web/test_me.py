"""The citizen's own pages: sign-up with the optional demographics, log-out and log-in, my page with
points, level, badges and rank, notifications with their unread count, profile and e-mail preferences."""
import time
import uuid

from support import eventually
from tests.web.citizen_support import PASSWORD, sign_in


def test_sign_up_with_demographics_then_log_out_and_in(page, web_city, api, axe_check, layout_check):
    slug = web_city["slug"]
    email = f"new-{uuid.uuid4().hex[:8]}@example.org"
    page.goto(f"/{slug}/signup")
    assert "Why we ask" in page.locator("#why-demographics").inner_text()
    axe_check(page, "sign-up")
    layout_check(page, "signup")
    page.fill("#f-display_name", "Noor")
    page.fill("#f-email", email)
    page.fill("#f-password", PASSWORD)
    page.fill("#f-birth_year", "1990")
    page.select_option("#f-gender", "female")
    page.fill("#f-district", "Centrum")
    page.get_by_role("button", name="Create my account").click()
    page.locator("header .account__name", has_text="Noor").wait_for()
    me = api.get(f"/cities/{slug}/users/me", token=api.login(slug, email, PASSWORD)).json()
    assert (me["display_name"], me["birth_year"], me["gender"], me["district"]) == ("Noor", 1990, "female", "Centrum")

    page.get_by_role("button", name="Log out").click()
    page.locator("header a", has_text="Log in").wait_for()
    sign_in(page, web_city, {"email": email}, next=f"/{slug}/me")
    assert page.url.endswith(f"/{slug}/me")
    assert "Centrum" in page.locator(".me-account").inner_text()
    axe_check(page, "my page")
    layout_check(page, "me")


def test_sign_up_refusals_are_inline(site, web_city):
    slug = web_city["slug"]
    token = site.csrf(f"/{slug}/signup")
    taken = web_city["citizens"][0]["email"]
    base = {"csrf_token": token, "display_name": "Someone", "password": PASSWORD, "next": f"/{slug}/"}
    r = site.post(f"/{slug}/signup", data={**base, "email": taken})
    assert r.status_code == 409 and "An account with this e-mail exists already" in r.text
    r = site.post(f"/{slug}/signup", data={**base, "email": "someone@example.org", "birth_year": "19x0"})
    assert r.status_code == 422 and "Give the year as four digits" in r.text
    r = site.post(f"/{slug}/signup", data={**base, "email": "someone@example.org", "birth_year": "1850"})
    assert r.status_code == 422 and 'id="f-birth_year-error"' in r.text and "between 1900" in r.text
    assert 'value="someone@example.org"' in r.text  # what was typed stays


def test_profile_edit_changes_name_and_demographics(site, web_city, api):
    slug = web_city["slug"]
    alice = web_city["citizens"][0]
    r = api.patch(f"/cities/{slug}/users/me", token=alice["token"], json={"birth_year": 1975, "district": "Zuid"})
    assert r.status_code == 200
    site.login(web_city, alice)
    form = site.get(f"/{slug}/me/profile").text
    assert 'value="1975"' in form and 'value="Zuid"' in form
    r = site.post(f"/{slug}/me/profile", data={"csrf_token": site.csrf(f"/{slug}/me/profile"),
                                              "display_name": "Alice B.", "birth_year": "", "gender": "other",
                                              "district": "Noord"})
    assert r.status_code == 303
    me = api.get(f"/cities/{slug}/users/me", token=alice["token"]).json()
    assert (me["display_name"], me["birth_year"], me["gender"], me["district"]) == ("Alice B.", None, "other", "Noord")
    assert "Alice B." in site.get(f"/{slug}/me").text  # the header follows


def test_points_and_badges_after_someone_votes_for_my_idea(page, web_city, make_idea, api, axe_check):
    slug, project = web_city["slug"], web_city["project"]
    alice, bob = web_city["citizens"]
    idea = make_idea(web_city, project, alice)
    r = api.put(f"/cities/{slug}/ideas/{idea['id']}/vote", token=bob["token"], json={"value": "up"})
    assert r.status_code == 200, r.text
    eventually(lambda: api.get(f"/cities/{slug}/users/{alice['id']}/score").json()["points"] == 6, timeout=20)
    sign_in(page, web_city, alice, next=f"/{slug}/me")
    score = page.locator(".me-score")
    assert score.locator("[data-points]").inner_text() == "6"
    assert score.locator("[data-rank]").inner_text() == "1"
    assert "4 points to level 1." in score.inner_text()
    assert "Ideas posted" in score.locator(".badges").inner_text()
    axe_check(page, "my page with points")


def test_notifications_unread_count_and_mark_read(page, web_city, make_idea, api, axe_check, layout_check):
    slug, project = web_city["slug"], web_city["project"]
    alice, bob = web_city["citizens"]
    idea = make_idea(web_city, project, alice, title="A fountain in the park")
    for body in ("Lovely idea, and kids could play there.", "Where exactly in the park?"):
        r = api.post(f"/cities/{slug}/ideas/{idea['id']}/comments", token=bob["token"], json={"body": body})
        assert r.status_code == 201, r.text
    def count():
        return api.get(f"/cities/{slug}/users/me/notifications/unread-count", token=alice["token"]).json()["unread_count"]

    def settled():  # both comments' notices, and any badge notice, have arrived
        first = count()
        time.sleep(1)
        return first >= 2 and count() == first

    eventually(settled, timeout=30)
    unread = count()
    sign_in(page, web_city, alice, next=f"/{slug}/me/notifications")
    count = page.locator("h1 [data-unread-count]")
    assert count.inner_text() == f"{unread} unread"
    assert page.locator(".notice-item.is-unread").count() == unread
    assert "A fountain in the park" in page.locator(".notice-list").inner_text()
    axe_check(page, "notifications")
    layout_check(page, "notifications")
    page.locator(".notice-item.is-unread").first.get_by_role("button", name="Mark as read").click()
    page.locator(".flashes", has_text="Marked as read.").wait_for()
    assert page.locator("h1 [data-unread-count]").inner_text() == f"{unread - 1} unread"
    if unread > 1:
        page.get_by_role("button", name="Mark all as read").click()
        page.locator(".flashes", has_text="Every notification is marked as read.").wait_for()
    assert page.locator("h1 [data-unread-count]").inner_text() == "0 unread"
    assert api.get(f"/cities/{slug}/users/me/notifications/unread-count", token=alice["token"]).json()["unread_count"] == 0


def test_change_email_preferences(page, web_city, api, axe_check, layout_check):
    slug = web_city["slug"]
    alice = web_city["citizens"][0]
    sign_in(page, web_city, alice, next=f"/{slug}/me/preferences")
    assert page.get_by_label("Right away, one e-mail per notification").is_checked()
    axe_check(page, "preferences")
    layout_check(page, "preferences")
    page.get_by_label("Once a day, a digest").check()
    page.get_by_label("Keep my notifications on my page").uncheck()
    page.get_by_role("button", name="Save my preferences").click()
    page.locator(".flashes", has_text="Your notification preferences are saved.").wait_for()
    assert page.get_by_label("Once a day, a digest").is_checked()
    prefs = api.get(f"/cities/{slug}/users/me/notification-preferences", token=alice["token"]).json()
    assert prefs == {"email": "daily", "in_app": False}


def test_my_pages_need_a_login(site, web_city):
    slug = web_city["slug"]
    for path in ("me", "me/profile", "me/notifications", "me/preferences"):
        r = site.get(f"/{slug}/{path}")
        assert r.status_code == 303 and r.headers["location"] == f"/{slug}/login?next=%2F{slug}%2F{path.replace('/', '%2F')}"
