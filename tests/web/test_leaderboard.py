"""The leaderboard: all time, this month, this week, with the signed-in citizen's own rank."""
from support import eventually
from tests.web.citizen_support import sign_in


def test_leaderboard_periods_over_http(site, web_city, make_idea, api):
    slug, project = web_city["slug"], web_city["project"]
    alice, bob = web_city["citizens"]
    idea = make_idea(web_city, project, alice)
    make_idea(web_city, project, bob, title="A second idea", body="Something else entirely for the square.")
    assert api.put(f"/cities/{slug}/ideas/{idea['id']}/vote", token=bob["token"], json={"value": "up"}).status_code == 200
    eventually(lambda: api.get(f"/cities/{slug}/leaderboard").json()["items"][0]["points"] == 6, timeout=20)
    for period in ("", "month", "week"):
        r = site.get(f"/{slug}/leaderboard", params={"period": period} if period else None)
        assert r.status_code == 200
        rows = r.text[r.text.index("<tbody>"):]
        assert rows.index(alice["display_name"]) < rows.index(bob["display_name"])  # 6 points before 1
        assert 'aria-current="page">' + {"": "All time", "month": "This month", "week": "This week"}[period] in r.text
    site.login(web_city, bob)
    assert "You: rank 2 with 1 point." in site.get(f"/{slug}/leaderboard", params={"period": "week"}).text
    nl = site.get(f"/{slug}/language/nl", params={"next": f"/{slug}/leaderboard"})
    assert nl.status_code == 303
    assert "Jij: plaats 2 met 1 punt." in site.get(f"/{slug}/leaderboard").text


def test_leaderboard_in_a_browser(page, web_city, make_idea, api, axe_check, layout_check):
    slug, project = web_city["slug"], web_city["project"]
    alice = web_city["citizens"][0]
    make_idea(web_city, project, alice)
    eventually(lambda: api.get(f"/cities/{slug}/leaderboard").json()["items"], timeout=20)
    sign_in(page, web_city, alice, next=f"/{slug}/leaderboard")
    assert page.locator("tr.is-own").count() == 1
    axe_check(page, "leaderboard")
    layout_check(page, "leaderboard")
    page.get_by_role("link", name="This week").click()
    page.locator(".tabs a[aria-current=page]", has_text="This week").wait_for()
    assert alice["display_name"] in page.locator("table").inner_text()
