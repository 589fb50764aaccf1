"""The city's home page, the language switch, security headers and error pages."""
import re


def test_city_home_lists_open_projects_and_languages(site, web_city, api):
    slug = web_city["slug"]
    api.post(f"/cities/{slug}/projects", token=web_city["admin_token"],
             json={"title": {"en": "Closed one"}, "method": "ideation", "status": "closed"})
    r = site.get(f"/{slug}/", headers={"Accept-Language": "en"})
    assert r.status_code == 200
    assert web_city["name"] in r.text
    assert "A greener centre" in r.text
    assert "Closed one" not in r.text
    for name in ("English", "Nederlands", "Français"):
        assert name in r.text
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", r.text), "an inline script"


def test_language_switch_is_remembered_and_content_follows(site, web_city):
    slug = web_city["slug"]
    r = site.get(f"/{slug}/language/nl", params={"next": f"/{slug}/"})
    assert r.status_code == 303 and r.headers["location"] == f"/{slug}/"
    page = site.get(f"/{slug}/").text
    assert 'lang="nl"' in page
    assert "Een groener centrum" in page and "A greener centre" not in page
    assert "Open projecten" in page  # the interface too


def test_unknown_city_and_page_are_404_pages(site, web_city):
    r = site.get("/no-such-city-anywhere/")
    assert r.status_code == 404
    assert "This page does not exist" in r.text and "Traceback" not in r.text
    r = site.get(f"/{web_city['slug']}/projects/00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404 and web_city["name"] in r.text


def test_post_without_csrf_token_is_refused(site, web_city):
    slug = web_city["slug"]
    site.get(f"/{slug}/login")
    r = site.post(f"/{slug}/login", data={"email": "x@example.org", "password": "whatever-1"})
    assert r.status_code == 403
    assert "did not come from this site" in r.text


def test_home_in_a_browser(page, web_city, axe_check, layout_check, grid_columns, make_city, api):
    slug = web_city["slug"]
    for i in range(2):
        api.post(f"/cities/{slug}/projects", token=web_city["admin_token"],
                 json={"title": {"en": f"Project {i}"}, "method": "ideation"})
    page.goto(f"/{slug}/")
    assert page.locator("h1").inner_text() == web_city["name"]
    assert page.locator(".project-card").count() == 3
    axe_check(page)
    layout_check(page, "home")
    assert grid_columns(page) >= 2
    page.set_viewport_size({"width": 390, "height": 844})
    assert grid_columns(page) == 1
