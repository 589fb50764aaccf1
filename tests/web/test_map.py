"""The map of ideas that have a location, with the list of them as its text alternative."""


def located(web_city, make_idea):
    project, alice = web_city["project"], web_city["citizens"][0]
    return [
        make_idea(web_city, project, alice, title="A bench by the river", location={"lat": 51.0543, "lng": 3.7174}),
        make_idea(web_city, project, alice, title="Trees on Korenmarkt", location={"lat": 51.0550, "lng": 3.7210}),
        make_idea(web_city, project, alice, title="An idea without a place"),
    ]


def test_map_lists_ideas_with_a_location(site, web_city, make_idea):
    slug, pid = web_city["slug"], web_city["project"]["id"]
    located(web_city, make_idea)
    for path in (f"/{slug}/projects/{pid}/map", f"/{slug}/map", f"/{slug}/map?project={pid}"):
        r = site.get(path)
        assert r.status_code == 200, path
        assert "A bench by the river" in r.text and "Trees on Korenmarkt" in r.text
        assert "An idea without a place" not in r.text
        assert 'data-lat="51.0543"' in r.text and "51.0543° N, 3.7174° E" in r.text
        assert "2 ideas with a place" in r.text
    assert 'href="/' + slug + '/projects/' + pid + '/map"' in site.get(f"/{slug}/projects/{pid}").text  # linked


def test_map_in_a_browser_without_tiles(page, web_city, make_idea, axe_check, layout_check):
    slug, pid = web_city["slug"], web_city["project"]["id"]
    located(web_city, make_idea)
    page.goto(f"/{slug}/projects/{pid}/map")
    page.locator("#ideas-map.is-ready").wait_for()
    markers = page.locator("#ideas-map .leaflet-marker-icon")
    assert markers.count() == 2
    assert page.locator("#ideas-map .leaflet-tile").count() == 0  # no tile URL in tests
    markers.first.click()
    page.locator(".leaflet-popup-content a").wait_for()
    assert page.locator(".leaflet-popup-content a").inner_text() in ("A bench by the river", "Trees on Korenmarkt")
    axe_check(page, "map")
    layout_check(page, "map")
