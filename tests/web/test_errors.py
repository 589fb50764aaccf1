"""Clear pages for 404, 403, 429 and a platform that is down: never a stack trace."""
from support import free_port


def test_a_platform_that_is_down_is_a_try_again_page(start_web_server, site):
    dead = start_web_server(f"http://127.0.0.1:{free_port()}", WEB_API_TIMEOUT="2")
    import httpx

    r = httpx.get(dead.url + "/some-city/", headers={"Accept-Language": "fr"})
    assert r.status_code == 503
    assert "La plateforme est occupée" in r.text and "Traceback" not in r.text
    assert "content-security-policy" in r.headers


def test_error_pages_are_translated_and_plain(site, web_city):
    slug = web_city["slug"]
    site.get(f"/{slug}/language/nl", params={"next": f"/{slug}/"})
    r = site.get(f"/{slug}/ideas/00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404 and "Deze pagina bestaat niet" in r.text
    r = site.get(f"/{slug}/ideas/not-a-uuid")
    assert r.status_code in (404, 422) and "Traceback" not in r.text
    r = site.get(f"/{slug}/no/such/page/here")
    assert r.status_code == 404


def test_htmx_errors_replace_the_page_not_the_card(site, web_city):
    slug = web_city["slug"]
    r = site.get(f"/{slug}/ideas/00000000-0000-0000-0000-000000000000", headers={"HX-Request": "true"})
    assert r.status_code == 404 and r.headers["hx-retarget"] == "body"


def test_error_page_in_the_browser(page, web_city, axe_check, layout_check):
    response = page.goto(f"/{web_city['slug']}/ideas/00000000-0000-0000-0000-000000000000")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "This page does not exist"
    axe_check(page, "404")
    layout_check(page, "error-404")
