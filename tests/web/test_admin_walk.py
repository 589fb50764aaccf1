"""An official walks a whole consultation in Chromium: creates a project, moderates a flagged idea, changes
statuses with feedback, reads the insights and downloads charts, runs and closes a budget, compares the
rules and exports. Every page passes axe, works at tablet width and does not scroll sideways on a phone."""
from __future__ import annotations

import csv
import io
from xml.etree import ElementTree
from pathlib import Path

import pytest
from babel.numbers import format_currency

from tests.web.admin_support import build_topics, consultation

TABLET = {"width": 768, "height": 1024}


@pytest.fixture
def check(axe_check, layout_check):
    """axe, no sideways scroll at tablet width (and at 390x844 with the screenshots of layout_check)."""
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


def test_an_official_walks_a_consultation(page, api, make_city, login, check):
    city = consultation(api, make_city)
    slug, pid = city["slug"], city["project"]["id"]
    admin = city["admin_token"]
    r = api.post(f"/cities/{slug}/projects/{pid}/topics/refresh", token=admin)
    assert r.status_code == 202
    flagged = city["ideas"][-1]  # a parking idea by an older citizen, flagged by three younger ones
    for user in city["young"]:
        r = api.post(f"/cities/{slug}/ideas/{flagged['id']}/flags", token=user["token"], json={"reason": "spam"})
        assert r.status_code == 201, r.text
    assert api.get(f"/cities/{slug}/ideas/{flagged['id']}", token=admin).json()["hidden"] is True

    login(page, city, city["official"])
    page.get_by_role("link", name="City workspace").click()
    assert page.url.endswith(f"/{slug}/admin")
    check(page, "admin-overview")

    # a participatory budget project, its title in the city's three languages side by side
    page.get_by_role("link", name="New project").click()
    page.fill("#title_en", "Budget 2027: your neighbourhood")
    page.fill("#title_nl", "Begroting 2027: jouw buurt")
    page.fill("#title_fr", "Budget 2027 : ton quartier")
    page.fill("#description_en", "Choose what the city builds next year.")
    page.select_option("select[name=method]", "budgeting")
    page.fill("input[name=topics]", "mobility, green")
    check(page, "admin-project-form")
    page.get_by_role("button", name="Create the project").click()
    assert page.locator("h1").inner_text() == "Budget 2027: your neighbourhood"
    budget_pid = page.url.rstrip("/").split("/")[-1]
    created = api.get(f"/cities/{slug}/projects/{budget_pid}").json()
    assert created["title"] == {"en": "Budget 2027: your neighbourhood", "nl": "Begroting 2027: jouw buurt",
                                "fr": "Budget 2027 : ton quartier"}
    assert created["method"] == "budgeting" and created["topics"] == ["mobility", "green"]
    check(page, "admin-project")

    # the input manager: the flagged idea among the flagged ones, then two ideas moved with feedback
    page.goto(f"/{slug}/admin/projects/{pid}/inputs?flagged=true")
    rows = page.locator("table.data tbody tr")
    assert rows.count() == 1 and flagged["title"] in rows.first.inner_text()
    page.goto(f"/{slug}/admin/projects/{pid}/inputs")
    assert page.locator("input[name=idea_id]").count() == len(city["ideas"])
    check(page, "admin-inputs")
    first, second = city["ideas"][0], city["ideas"][1]
    page.check(f"#pick-{first['id']}")
    page.check(f"#pick-{second['id']}")
    page.select_option("#bulk-status", "under_review")
    page.fill("#bulk-feedback-en", "We are studying this with the mobility team.")
    page.fill("#bulk-feedback-nl", "We bekijken dit met het mobiliteitsteam.")
    page.get_by_role("button", name="Apply to the selected ideas").click()
    assert "2 ideas are now" in page.locator(".flashes").inner_text()
    for idea in (first, second):
        got = api.get(f"/cities/{slug}/ideas/{idea['id']}").json()
        assert got["status"] == "under_review"
        assert got["feedback"] == {"en": "We are studying this with the mobility team.",
                                   "nl": "We bekijken dit met het mobiliteitsteam."}

    # one idea further along its workflow, from its own page
    page.goto(f"/{slug}/admin/ideas/{first['id']}")
    page.check("input[name=status][value=accepted]")
    page.fill("#feedback-en", "Accepted: the ring road gets a protected bike lane.")
    page.fill("#feedback-fr", "Acceptée : le périphérique aura une piste cyclable protégée.")
    check(page, "admin-idea")
    page.get_by_role("button", name="Change the status").click()
    got = api.get(f"/cities/{slug}/ideas/{first['id']}").json()
    assert got["status"] == "accepted"
    assert got["feedback"]["fr"] == "Acceptée : le périphérique aura une piste cyclable protégée."
    assert "Accepted" in page.locator(".chip--status").first.inner_text()

    # moderation: the hidden idea with its flags' reasons, restored
    page.get_by_role("link", name="Moderation").click()
    item = page.locator("article.moderation-item").filter(has_text=flagged["title"])
    assert "3 flags" in item.inner_text() and "Spam × 3" in item.inner_text() and "Hidden" in item.inner_text()
    check(page, "admin-moderation")
    item.get_by_role("button", name="Restore").click()
    assert "Restored" in page.locator(".flashes").inner_text()
    assert api.get(f"/cities/{slug}/ideas/{flagged['id']}", token=admin).json()["hidden"] is False

    # insights: topics, the heatmap, the sentences, and the downloads
    topics = build_topics(api, city)["topics"]
    page.goto(f"/{slug}/admin/projects/{pid}/insights")
    assert page.locator("svg.chart").count() >= 6  # topics, heatmap, participation and three groups
    sentences = page.locator("#sentences li")
    assert sentences.count() >= 1
    text = sentences.all_inner_texts()
    assert any("as often as others" in s or "only ones" in s or "less often" in s for s in text), text
    assert "p <" in text[0] or "p =" in text[0]
    assert "χ²" in page.locator("#heatmap-heading + nav + p").inner_text()
    check(page, "admin-insights")
    svg = downloaded(page, page.locator("ul[aria-label='Download Topics of the ideas']").get_by_text("SVG picture"))
    assert svg.startswith(b"<?xml") and b'role="img"' in svg and b"<title" in svg
    # the words of each topic are the model's; what holds is that every topic the API found is a tile
    tiles = [t.text or "" for t in ElementTree.fromstring(svg).iter("{http://www.w3.org/2000/svg}title")]
    for topic in (t for t in topics if t["size"] > 0):
        assert any(tile.startswith(f"{topic['label']}: ") for tile in tiles), (topic["label"], tiles)
    png = downloaded(page, page.locator("ul[aria-label='Download Topics of the ideas']").get_by_text("PNG picture"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    heat_csv = downloaded(page, page.locator("ul[aria-label='Download Topics by age group']").get_by_text("CSV table"))
    rows = list(csv.reader(io.StringIO(heat_csv.decode("utf-8-sig"))))
    assert rows[0] == ["Topic", "Age group", "Ideas", "Expected", "Lift", "p-value"]
    heat = api.get(f"/cities/{slug}/projects/{pid}/heatmap", token=admin, params={"dimension": "age_group"}).json()
    assert len(rows) - 1 == len(heat["cells"])
    assert sum(int(r[2]) for r in rows[1:]) == heat["n"]
    # a cell of the grid lists its ideas
    page.locator("table.heat-table a.heat-cell").first.click()
    assert page.locator("table.data tbody tr").count() >= 1
    check(page, "admin-insights-cell")
    page.go_back()
    page.locator("table.data th a").first.click()  # a topic's ideas
    assert page.locator("table.data tbody tr").count() >= 5
    check(page, "admin-insights-topic")

    # the budget: rules, items (one from the accepted idea), voting, closing, the rules side by side
    page.goto(f"/{slug}/admin/projects/{budget_pid}")
    page.get_by_role("link", name="Participatory budget").click()
    page.fill("input[name=total]", "100000")
    page.select_option("select[name=ballot_type]", "approval")
    page.fill("input[name=max_items]", "2")
    page.get_by_role("button", name="Save the budget").click()
    assert "The budget is saved" in page.locator(".flashes").inner_text()
    page.select_option("select[name=idea_id]", first["id"])
    page.locator("form:has(select[name=idea_id]) input[name=cost]").fill("60000")
    page.get_by_role("button", name="Add the idea as an item").click()
    for title, cost in (("A playground in the park", "50000"), ("Benches on the square", "30000")):
        page.fill("#item-title-en", title)
        page.locator("form:has(#item-title-en) input[name=cost]").fill(cost)
        page.get_by_role("button", name="Add the item").click()
    check(page, "admin-budget")
    items = api.get(f"/cities/{slug}/projects/{budget_pid}/budget/items").json()["items"]
    assert [i["cost"] for i in items] == [60000, 50000, 30000] and items[0]["idea_id"] == first["id"]
    page.get_by_role("button", name="Open voting").click()
    ballots = [(u, [items[0]["id"], items[2]["id"]]) for u in city["young"]] + \
              [(u, [items[1]["id"], items[2]["id"]]) for u in city["old"]]
    for user, chosen in ballots:
        r = api.post(f"/cities/{slug}/projects/{budget_pid}/ballot/submit", token=user["token"],
                     json={"item_ids": chosen})
        assert r.status_code == 200, r.text
    page.reload()
    page.get_by_role("button", name="Close and publish the results").click()
    assert api.get(f"/cities/{slug}/projects/{budget_pid}/budget").json()["phase"] == "closed"
    page.get_by_role("link", name="Results by rule").click()
    table = page.locator("table.rules-table")
    for rule in ("Greedy", "Method of Equal Shares", "Phragmén"):
        assert rule in table.locator("thead").inner_text()
    spent = table.locator("tfoot tr").first.locator("td.num").all_inner_texts()
    for rule, shown in zip(("greedy", "mes", "phragmen"), spent):
        answer = api.get(f"/cities/{slug}/projects/{budget_pid}/budget/results", params={"rule": rule}).json()
        assert shown == format_currency(answer["spent"], "EUR", locale="en", currency_digits=False,
                                        decimal_quantization=False), (rule, shown)
    satisfied = table.locator("tfoot tr").nth(2).locator("td.num").all_inner_texts()
    assert satisfied == ["6", "6", "6"]  # every voter chose the benches, which each rule funds
    check(page, "admin-budget-results")
    page.get_by_role("link", name="Age group").click()
    assert page.locator("text=under 25").count() >= 1 and page.locator("text=65 and over").count() >= 1
    check(page, "admin-budget-groups")
    page.goto(f"/{slug}/admin/projects/{budget_pid}/budget")
    pb = downloaded(page, page.get_by_role("link", name="Export as pabulib file"))
    assert b"PROJECTS" in pb and b"VOTES" in pb and pb.count(b"\n") >= 12

    # exports of the ideas
    page.get_by_role("link", name="Integrations").click()
    row = page.locator("table.data tr").filter(has_text="A greener centre")
    ideas_csv = downloaded(page, row.get_by_role("link", name="CSV"))
    assert first["title"].encode() in ideas_csv and b"author_age_group" in ideas_csv
    xlsx = downloaded(page, row.get_by_role("link", name="XLSX"))
    assert xlsx[:2] == b"PK"
    check(page, "admin-integrations")
