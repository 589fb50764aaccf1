"""The idea page (feedback, threaded comments, flag, edit, delete) and posting an idea."""
import re

from playwright.sync_api import expect

from support import eventually

SCRIPT_TITLE = "<script>window.pwned = 1</script>Benches <b>now</b>"


def test_idea_page_shows_feedback_and_threaded_comments(site, web_city, make_idea, api):
    slug, project = web_city["slug"], web_city["project"]
    alice, bob = web_city["citizens"]
    idea = make_idea(web_city, project, alice, title="Water fountains in the park")
    r = api.post(f"/cities/{slug}/ideas/{idea['id']}/status", token=web_city["admin_token"],
                 json={"status": "under_review", "feedback": {"en": "We are checking the pipes.", "nl": "We bekijken de leidingen."}})
    assert r.status_code == 200, r.text
    top = api.post(f"/cities/{slug}/ideas/{idea['id']}/comments", token=bob["token"], json={"body": "Yes, near the playground"}).json()
    api.post(f"/cities/{slug}/ideas/{idea['id']}/comments", token=alice["token"],
             json={"body": "Good point, and by the benches", "parent_id": top["id"]})
    api.put(f"/cities/{slug}/comments/{top['id']}/vote", token=alice["token"], json={"value": "up"})
    def counted():  # comment totals reach the ideas service as events
        return 'data-count="up">1<' in site.get(f"/{slug}/ideas/{idea['id']}").text
    eventually(counted, timeout=10, interval=0.2)
    page = site.get(f"/{slug}/ideas/{idea['id']}").text
    assert "Water fountains in the park" in page
    assert "We are checking the pipes." in page and "Under review" in page
    thread = page.split(f'id="comment-{top["id"]}"', 1)[1]
    replies = thread.split('comment-list--replies', 1)
    assert len(replies) == 2 and "Good point, and by the benches" in replies[1]
    assert re.search(r'data-count="up">1<', thread.split("comment-list--replies", 1)[0])
    site.get(f"/{slug}/language/nl", params={"next": "/"})
    assert "We bekijken de leidingen." in site.get(f"/{slug}/ideas/{idea['id']}").text


def test_post_an_idea_over_http_with_inline_errors(site, web_city, api):
    slug, project = web_city["slug"], web_city["project"]
    site.login(web_city, web_city["citizens"][0])
    path = f"/{slug}/projects/{project['id']}/ideas/new"
    token = site.csrf(path)
    r = site.post(path, data={"csrf_token": token, "title": "", "body": "", "lat": "51.05", "lng": ""})
    assert r.status_code == 422
    assert "Please correct the fields below." in r.text and 'aria-invalid="true"' in r.text
    r = site.post(path, data={"csrf_token": token, "title": "", "body": "Some text"})
    assert r.status_code == 422
    assert re.search(r'id="f-title-error">[^<]+<', r.text), "the API's 422 detail under the title"
    assert "Some text" in r.text  # the draft is kept
    r = site.post(path, data={"csrf_token": token, "title": "A crossing at the school", "body": "Kids cross here",
                              "topics": ["mobility", "not-a-topic"], "lat": "51.0543", "lng": "3,7174"})
    assert r.status_code == 303
    idea_id = r.headers["location"].rsplit("/", 1)[1]
    idea = api.get(f"/cities/{slug}/ideas/{idea_id}").json()
    assert idea["title"] == "A crossing at the school" and idea["topics"] == ["mobility"]
    assert idea["location"] == {"lat": 51.0543, "lng": 3.7174}
    assert "Your idea is posted" in site.get(r.headers["location"]).text


def test_a_script_in_a_title_is_shown_escaped(site, web_city, make_idea):
    slug, project = web_city["slug"], web_city["project"]
    idea = make_idea(web_city, project, web_city["citizens"][0], title=SCRIPT_TITLE, body="<img src=x onerror=alert(1)>")
    for path in (f"/{slug}/ideas/{idea['id']}", f"/{slug}/projects/{project['id']}"):
        html = site.get(path).text
        assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;Benches &lt;b&gt;now&lt;/b&gt;" in html
        assert "<script>window.pwned" not in html and "<img src=x" not in html


def test_only_the_author_may_edit_and_delete(site, web_city, make_idea, api):
    slug, project = web_city["slug"], web_city["project"]
    alice, bob = web_city["citizens"]
    idea = make_idea(web_city, project, alice, title="Before the edit")
    site.login(web_city, bob)
    assert "Edit" not in site.get(f"/{slug}/ideas/{idea['id']}").text.split('class="idea__actions', 1)[1].split("</div>")[0]
    r = site.get(f"/{slug}/ideas/{idea['id']}/edit")
    assert r.status_code == 403 and "You may not do this" in r.text
    token = site.csrf(f"/{slug}/ideas/{idea['id']}")
    assert site.post(f"/{slug}/ideas/{idea['id']}/delete", data={"csrf_token": token}).status_code == 403
    site.cookies.clear()
    site.login(web_city, alice)
    edit = f"/{slug}/ideas/{idea['id']}/edit"
    token = site.csrf(edit)
    assert 'value="Before the edit"' in site.get(edit).text
    r = site.post(edit, data={"csrf_token": token, "title": "After the edit", "body": "New body", "topics": ["green"]})
    assert r.status_code == 303
    assert api.get(f"/cities/{slug}/ideas/{idea['id']}").json()["title"] == "After the edit"
    r = site.post(f"/{slug}/ideas/{idea['id']}/delete", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == f"/{slug}/projects/{project['id']}"
    assert api.get(f"/cities/{slug}/ideas/{idea['id']}").status_code == 404
    assert site.get(f"/{slug}/ideas/{idea['id']}").status_code == 404


def test_flag_reaches_the_moderators(site, web_city, make_idea, api):
    slug, project = web_city["slug"], web_city["project"]
    alice, bob = web_city["citizens"]
    idea = make_idea(web_city, project, alice, title="Buy cheap watches here")
    site.login(web_city, bob)
    path = f"/{slug}/ideas/{idea['id']}"
    token = site.csrf(path)
    r = site.post(f"/{slug}/ideas/{idea['id']}/flag", data={"csrf_token": token, "reason": "spam", "next": path})
    assert r.status_code == 303 and r.headers["location"] == path
    assert "the moderators will have a look" in site.get(path).text
    queue = api.get(f"/cities/{slug}/moderation/flags", token=web_city["admin_token"]).json()["items"]
    assert any(idea["id"] in str(item) for item in queue)
    r = site.post(f"/{slug}/ideas/{idea['id']}/flag", data={"csrf_token": token, "reason": "spam", "next": path})
    assert r.status_code == 303  # a second flag: a plain sentence (409), not an error page
    assert 'notice--error' in site.get(path).text


def test_post_an_idea_in_the_browser(page, web_city, make_idea, login, api, axe_check, layout_check):
    slug, project = web_city["slug"], web_city["project"]
    alice, bob = web_city["citizens"]
    existing = make_idea(web_city, project, alice, title="Safe bicycle parking at the station",
                         body="Covered bicycle parking near the station entrance")
    login(page, web_city, bob)
    page.goto(f"/{slug}/projects/{project['id']}")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.click("text=Post an idea")
    page.wait_for_url("**/ideas/new")

    def similar_shown():
        page.fill("#f-title", "")
        page.type("#f-title", "bicycle parking at the station", delay=10)
        page.wait_for_timeout(900)
        return existing["title"] in page.locator("#similar").inner_text()
    eventually(similar_shown, timeout=20, interval=0.5)  # the analytics index catches up with new ideas
    assert page.locator(f"#similar a[href$='/ideas/{existing['id']}']").count() == 1
    picker = page.locator("[data-map-picker]")
    assert picker.is_visible()
    page.fill("#f-lat", "51.0543")                      # typed coordinates move the map's marker
    page.fill("#f-lng", "3.7174")
    page.press("#f-lng", "Tab")
    expect(page.locator("[data-map-picker] .leaflet-marker-icon")).to_have_count(1)
    axe_check(page, "new idea")
    layout_check(page, "idea-new")
    page.fill("#f-title", SCRIPT_TITLE)
    page.fill("#f-body", "Near the new square")
    page.check("input[name=topics][value=green]")
    page.click("text=Post the idea")
    page.wait_for_url(re.compile(r".*/ideas/[0-9a-f-]{36}$"))
    assert page.locator("h1").inner_text() == SCRIPT_TITLE
    assert page.evaluate("window.pwned") is None and not dialogs
    idea_id = page.url.rsplit("/", 1)[1]
    idea = api.get(f"/cities/{slug}/ideas/{idea_id}").json()
    assert idea["title"] == SCRIPT_TITLE and idea["topics"] == ["green"] and idea["location"] is not None


def test_comment_and_reply_in_the_browser(page, web_city, make_idea, login, api, axe_check, layout_check):
    slug, project = web_city["slug"], web_city["project"]
    alice, bob = web_city["citizens"]
    idea = make_idea(web_city, project, alice, title="A playground in the north", location={"lat": 51.06, "lng": 3.73})
    login(page, web_city, bob)
    page.goto(f"/{slug}/ideas/{idea['id']}")
    page.evaluate("window.stillHere = true")
    assert "Latitude 51.06" in page.locator(".idea__location").inner_text()  # the map's text alternative
    page.fill("#comment-body-new", "Yes please, with a sandpit")
    page.click("text=Post the comment")
    page.locator(".comment").first.wait_for()
    assert "Yes please, with a sandpit" in page.locator("#comments").inner_text()
    comments = api.get(f"/cities/{slug}/ideas/{idea['id']}/comments").json()["items"]
    assert [c["body"] for c in comments] == ["Yes please, with a sandpit"]
    top = comments[0]["id"]
    page.locator(f"#comment-{top} summary", has_text="Reply").click()
    page.fill(f"#comment-body-{top}", "And shade for the parents")
    page.locator(f"#comment-{top} button", has_text="Post the reply").click()
    page.locator(".comment-list--replies .comment").wait_for()
    assert page.evaluate("window.stillHere") is True
    replies = [c for c in api.get(f"/cities/{slug}/ideas/{idea['id']}/comments").json()["items"] if c["parent_id"] == top]
    assert [r["body"] for r in replies] == ["And shade for the parents"]
    axe_check(page, "idea")
    layout_check(page, "idea")


def test_empty_comment_shows_the_error_in_place(page, web_city, make_idea, login):
    slug, project = web_city["slug"], web_city["project"]
    idea = make_idea(web_city, project, web_city["citizens"][0])
    login(page, web_city, web_city["citizens"][1])
    page.goto(f"/{slug}/ideas/{idea['id']}")
    page.evaluate("document.querySelector('#comment-body-new').removeAttribute('required')")
    page.fill("#comment-body-new", "   ")
    page.click("text=Post the comment")
    page.locator("#comment-body-new-error").wait_for()
    assert page.locator("#comment-body-new").get_attribute("aria-invalid") == "true"


