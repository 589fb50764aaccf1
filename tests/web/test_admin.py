"""The officials' workspace over HTTP: who may open it, CSRF on every change, every page renders."""
from __future__ import annotations

from tests.web.admin_support import build_topics, consultation


def admin_paths(city: dict) -> list[str]:
    slug, pid = city["slug"], city["project"]["id"]
    idea = city["ideas"][0]["id"] if city.get("ideas") else "00000000-0000-0000-0000-000000000000"
    return [f"/{slug}/admin", f"/{slug}/admin/projects/new", f"/{slug}/admin/projects/{pid}",
            f"/{slug}/admin/projects/{pid}/edit", f"/{slug}/admin/projects/{pid}/insights",
            f"/{slug}/admin/projects/{pid}/insights/topics.csv", f"/{slug}/admin/projects/{pid}/inputs",
            f"/{slug}/admin/ideas/{idea}", f"/{slug}/admin/moderation", f"/{slug}/admin/projects/{pid}/budget",
            f"/{slug}/admin/projects/{pid}/poll", f"/{slug}/admin/gamification", f"/{slug}/admin/gamification/engaged.csv",
            f"/{slug}/admin/integrations", f"/{slug}/admin/users", f"/{slug}/admin/projects/{pid}/export.csv"]


def test_a_citizen_gets_403_pages_and_no_data(site, api, make_city):
    city = make_city(citizens=1)
    slug, pid = city["slug"], city["project"]["id"]
    secret_title = "Only the officials may read this draft"
    r = api.post(f"/cities/{slug}/projects", token=city["admin_token"],
                 json={"title": {"en": secret_title}, "method": "ideation", "status": "draft"})
    assert r.status_code == 201
    site.login(city, city["citizens"][0])
    for path in admin_paths(city) + [f"/{slug}/admin/projects/{r.json()['id']}/edit"]:
        page = site.get(path)
        assert page.status_code == 403, (path, page.status_code)
        assert secret_title not in page.text and "A greener centre" not in page.text, path
        assert "Traceback" not in page.text
    home = site.get(f"/{slug}/").text
    assert f"/{slug}/admin" not in home  # no workspace entry in a citizen's navigation
    # a moderator reaches moderation and the input manager, not the admins' pages
    moderator = api.promote(city, api.new_user(city, display_name="Mod"), "moderator")
    site.cookies.clear()
    site.login(city, moderator)
    assert site.get(f"/{slug}/admin/moderation").status_code == 200
    assert site.get(f"/{slug}/admin/projects/{pid}/inputs").status_code == 200
    assert site.get(f"/{slug}/admin/projects/{pid}/insights").status_code == 403
    assert site.get(f"/{slug}/admin/users").status_code == 403


def test_signed_out_visitors_are_sent_to_log_in_and_back(site, make_city):
    city = make_city(citizens=0)
    path = f"/{city['slug']}/admin/projects/{city['project']['id']}/insights"
    r = site.get(path)
    assert r.status_code == 303
    assert r.headers["location"].startswith(f"/{city['slug']}/login?next=")
    assert "insights" in r.headers["location"]


def test_every_change_needs_the_csrf_token(site, api, make_city, make_idea):
    city = make_city(citizens=1)
    slug, pid = city["slug"], city["project"]["id"]
    official = api.promote(city, city["citizens"][0], "admin")
    idea = make_idea(city, city["project"], api.new_user(city))
    site.login(city, official)
    before = api.get(f"/cities/{slug}/projects", token=city["admin_token"]).json()["items"]
    changes = [
        (f"/{slug}/admin/projects/new", {"title_en": "Sneaky", "method": "ideation"}),
        (f"/{slug}/admin/projects/{pid}/edit", {"title_en": "Renamed", "method": "ideation"}),
        (f"/{slug}/admin/projects/{pid}/inputs/status", {"idea_id": idea["id"], "status": "under_review"}),
        (f"/{slug}/admin/ideas/{idea['id']}/status", {"status": "under_review"}),
        (f"/{slug}/admin/moderation/idea/{idea['id']}", {"decision": "remove"}),
        (f"/{slug}/admin/projects/{pid}/budget/settings", {"total": "1000", "currency": "EUR"}),
        (f"/{slug}/admin/projects/{pid}/budget/phase", {"phase": "voting"}),
        (f"/{slug}/admin/projects/{pid}/budget/items", {"title_en": "x", "cost": "1"}),
        (f"/{slug}/admin/projects/{pid}/budget/import", {"text": "META"}),
        (f"/{slug}/admin/projects/{pid}/poll/questions", {"text_en": "Q", "options_en": "a\nb"}),
        (f"/{slug}/admin/gamification/rules", {"points.idea_posted": "99"}),
        (f"/{slug}/admin/integrations/webhooks", {"url": "http://127.0.0.1:9/x", "events": "*"}),
        (f"/{slug}/admin/users/role", {"user_id": idea["author"]["id"], "role": "admin"}),
    ]
    for path, data in changes:
        r = site.post(path, data=data)
        assert r.status_code == 403, (path, r.status_code)
        assert "did not come from this site" in r.text
        r = site.post(path, data={**data, "csrf_token": "not-the-token"})
        assert r.status_code == 403, path
    after = api.get(f"/cities/{slug}/projects", token=city["admin_token"]).json()["items"]
    assert [p["title"] for p in after] == [p["title"] for p in before]
    got = api.get(f"/cities/{slug}/ideas/{idea['id']}", token=city["admin_token"]).json()
    assert got["status"] == "proposed" and not got["hidden"]
    rules = api.get(f"/cities/{slug}/gamification/rules").json()
    assert rules["points"]["idea_posted"] != 99
    assert api.get(f"/cities/{slug}/webhooks", token=city["admin_token"]).json()["items"] == []


def test_every_page_renders_for_an_official(site, api, make_city):
    city = consultation(api, make_city, young=2, old=2)
    build_topics(api, city)
    site.login(city, city["official"])
    for path in admin_paths(city):
        r = site.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:2000])
        assert "Traceback" not in r.text
    slug, pid = city["slug"], city["project"]["id"]
    page = site.get(f"/{slug}/admin/projects/{pid}/insights").text
    assert page.count('role="img"') >= 4
    assert "Bike" in page or "bike" in page
    for dimension in ("gender", "district"):
        r = site.get(f"/{slug}/admin/projects/{pid}/insights", params={"dimension": dimension})
        assert r.status_code == 200 and "χ²" in r.text
