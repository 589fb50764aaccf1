"""The project page: idea cards, sort, filters, search, paging and votes (with and without JavaScript)."""
import re

import pytest
from playwright.sync_api import expect

from support import eventually


@pytest.fixture
def ideas_city(web_city, make_idea, api):
    """Thirteen ideas (one page of twelve and one more), two of them with votes."""
    city, project = web_city, web_city["project"]
    alice, bob = city["citizens"]
    ideas = [make_idea(city, project, alice, title=f"Bike lane number {i}", body=f"Idea body {i} about cycling",
                       topics=["mobility"] if i % 2 else ["green"]) for i in range(12)]
    ideas.append(make_idea(city, project, bob, title="Trees on the Korenmarkt",
                           body="Plant lime trees for shade on the square", topics=["green"]))
    for voter in (api.new_user(city), api.new_user(city)):
        r = api.put(f"/cities/{city['slug']}/ideas/{ideas[3]['id']}/vote", token=voter["token"], json={"value": "up"})
        assert r.status_code == 200, r.text
    city["ideas"] = ideas
    return city


def card_titles(html: str) -> list[str]:
    return re.findall(r'<h3 class="card__title"><a href="[^"]+">([^<]+)</a>', html)


def test_cards_sort_filters_search_and_paging(site, ideas_city):
    slug, project = ideas_city["slug"], ideas_city["project"]
    path = f"/{slug}/projects/{project['id']}"
    first = site.get(path)
    assert first.status_code == 200
    titles = card_titles(first.text)
    assert len(titles) == 12 and titles[0] == "Trees on the Korenmarkt"  # newest first
    assert "Proposed" in first.text and "0 comments" in first.text
    nxt = re.search(r'href="([^"]+cursor=[^"]+)" rel="next"', first.text)
    assert nxt, "no next page"
    second = site.get(nxt.group(1).replace("&amp;", "&"))
    assert card_titles(second.text) == ["Bike lane number 0"]

    def popular_first():
        return card_titles(site.get(path, params={"sort": "popular"}).text)[0] == "Bike lane number 3"
    eventually(popular_first, timeout=10)

    greens = card_titles(site.get(path, params={"topic": "green"}).text)
    assert len(greens) == 7 and all(t in ("Trees on the Korenmarkt",) or int(t.rsplit(" ", 1)[1]) % 2 == 0 for t in greens)
    found = card_titles(site.get(path, params={"q": "lime trees"}).text)
    assert found == ["Trees on the Korenmarkt"]
    assert card_titles(site.get(path, params={"status": "accepted"}).text) == []
    assert "No idea matches these filters" in site.get(path, params={"status": "accepted"}).text


def test_htmx_filter_answers_only_the_list(site, ideas_city):
    slug, project = ideas_city["slug"], ideas_city["project"]
    r = site.get(f"/{slug}/projects/{project['id']}", params={"topic": "mobility"},
                 headers={"HX-Request": "true", "HX-Target": "ideas"})
    assert r.status_code == 200
    assert r.text.lstrip().startswith('<section id="ideas"') and "<html" not in r.text
    assert len(card_titles(r.text)) == 6


def test_vote_without_javascript_posts_and_comes_back(site, ideas_city, api):
    slug, project = ideas_city["slug"], ideas_city["project"]
    bob = ideas_city["citizens"][1]
    idea = ideas_city["ideas"][5]          # Alice's, on the first page
    site.login(ideas_city, bob)
    path = f"/{slug}/projects/{project['id']}"
    token = site.csrf(path)
    r = site.post(f"/{slug}/ideas/{idea['id']}/vote",
                  data={"csrf_token": token, "value": "up", "current": "", "next": path + f"#idea-{idea['id']}"})
    assert r.status_code == 303 and r.headers["location"] == path + f"#idea-{idea['id']}"
    mine = api.get(f"/cities/{slug}/ideas/{idea['id']}/vote", token=bob["token"]).json()
    assert mine == {"value": "up", "up_votes": 1, "down_votes": 0}
    page = site.get(path).text
    card = page.split(f'id="idea-{idea["id"]}"', 1)[1].split('class="card idea-card"', 1)[0]
    assert re.search(r'value="up" class="vote__button vote__button--up"\s+aria-pressed="true"', card)
    # the same button again withdraws the vote
    r = site.post(f"/{slug}/ideas/{idea['id']}/vote", data={"csrf_token": token, "value": "up", "current": "up",
                                                           "next": path})
    assert r.status_code == 303
    assert api.get(f"/cities/{slug}/ideas/{idea['id']}/vote", token=bob["token"]).json()["value"] is None


def test_vote_without_csrf_token_is_refused_and_changes_nothing(site, ideas_city, api):
    slug = ideas_city["slug"]
    bob = ideas_city["citizens"][1]
    idea = ideas_city["ideas"][0]
    site.login(ideas_city, bob)
    r = site.post(f"/{slug}/ideas/{idea['id']}/vote", data={"value": "up", "next": f"/{slug}/"})
    assert r.status_code == 403
    r = site.post(f"/{slug}/ideas/{idea['id']}/vote", data={"value": "up", "csrf_token": "forged"},
                  headers={"HX-Request": "true"})
    assert r.status_code == 403
    assert api.get(f"/cities/{slug}/ideas/{idea['id']}/vote", token=bob["token"]).json()["up_votes"] == 0


def test_own_idea_shows_counts_without_buttons(site, ideas_city):
    slug, project = ideas_city["slug"], ideas_city["project"]
    site.login(ideas_city, ideas_city["citizens"][1])  # Bob wrote the Korenmarkt idea
    page = site.get(f"/{slug}/projects/{project['id']}").text
    own = ideas_city["ideas"][-1]["id"]
    card = page.split(f'id="idea-{own}"', 1)[1].split('class="card idea-card"', 1)[0]
    assert "vote--own" in card and "<button" not in card


def test_one_click_vote_in_the_browser(page, ideas_city, login, api, axe_check, layout_check, grid_columns):
    slug, project = ideas_city["slug"], ideas_city["project"]
    bob = ideas_city["citizens"][1]
    idea = ideas_city["ideas"][5]
    login(page, ideas_city, bob)
    page.goto(f"/{slug}/projects/{project['id']}")
    page.evaluate("window.stillHere = true")
    card = page.locator(f"#idea-{idea['id']}")
    assert card.locator("[data-count=up]").inner_text() == "0"
    card.locator(".vote__button--up").click()                     # the one click
    card.locator(".vote__button--up[aria-pressed=true]").wait_for()
    assert card.locator("[data-count=up]").inner_text() == "1"
    assert page.evaluate("window.stillHere") is True                # updated in place, no reload
    assert api.get(f"/cities/{slug}/ideas/{idea['id']}/vote", token=bob["token"]).json()["value"] == "up"
    card.locator(".vote__button--down").click()                   # changing the vote
    card.locator(".vote__button--down[aria-pressed=true]").wait_for()
    assert card.locator("[data-count=up]").inner_text() == "0"
    assert card.locator("[data-count=down]").inner_text() == "1"
    assert api.get(f"/cities/{slug}/ideas/{idea['id']}/vote", token=bob["token"]).json()["value"] == "down"
    axe_check(page)
    layout_check(page, "project")
    assert grid_columns(page) >= 2


def test_filters_update_the_list_in_place(page, ideas_city):
    slug, project = ideas_city["slug"], ideas_city["project"]
    page.goto(f"/{slug}/projects/{project['id']}")
    page.evaluate("window.stillHere = true")
    assert page.locator(".idea-card").count() == 12
    with page.expect_response(lambda r: "topic=mobility" in r.url):
        page.select_option("#f-topic", "mobility")
    expect(page.locator(".idea-card")).to_have_count(6)
    assert "topic=mobility" in page.url and page.evaluate("window.stillHere") is True
    page.fill("#f-q", "Korenmarkt")
    page.select_option("#f-topic", "")
    expect(page.locator(".idea-card")).to_have_count(1)
    assert "Trees on the Korenmarkt" in page.locator("#ideas").inner_text()


def test_vote_with_javascript_off(new_page, ideas_city, login, api, web_server, browser):
    slug, project = ideas_city["slug"], ideas_city["project"]
    bob = ideas_city["citizens"][1]
    idea = ideas_city["ideas"][2]
    context = browser.new_context(base_url=web_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        login(page, ideas_city, bob)
        page.goto(f"/{slug}/projects/{project['id']}")
        page.locator(f"#idea-{idea['id']} .vote__button--up").click()
        page.wait_for_url(f"**/projects/{project['id']}*")
        assert page.locator(f"#idea-{idea['id']} .vote__button--up").get_attribute("aria-pressed") == "true"
        assert page.locator(f"#idea-{idea['id']} [data-count=up]").inner_text() == "1"
        assert api.get(f"/cities/{slug}/ideas/{idea['id']}/vote", token=bob["token"]).json()["value"] == "up"
    finally:
        context.close()
