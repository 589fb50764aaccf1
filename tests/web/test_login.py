"""Log-in: the session cookie, the return address, and two clicks from a vote for a citizen not yet signed in."""


def test_login_sets_a_protected_session_cookie_and_returns(site, web_city):
    slug = web_city["slug"]
    alice = web_city["citizens"][0]
    token = site.csrf(f"/{slug}/login")
    r = site.post(f"/{slug}/login", data={"email": alice["email"], "password": "citizen-password-1",
                                          "csrf_token": token, "next": f"/{slug}/projects/{web_city['project']['id']}"})
    assert r.status_code == 303
    assert r.headers["location"] == f"/{slug}/projects/{web_city['project']['id']}"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    home = site.get(f"/{slug}/").text
    assert alice["display_name"] in home and "Log out" in home


def test_wrong_password_and_foreign_return_address(site, web_city):
    slug = web_city["slug"]
    alice = web_city["citizens"][0]
    token = site.csrf(f"/{slug}/login")
    r = site.post(f"/{slug}/login", data={"email": alice["email"], "password": "wrong-password-1", "csrf_token": token})
    assert r.status_code == 401 and "The e-mail address or the password is not right." in r.text
    assert f'value="{alice["email"]}"' in r.text  # the e-mail is kept
    r = site.post(f"/{slug}/login", data={"email": alice["email"], "password": "citizen-password-1",
                                          "csrf_token": token, "next": "//evil.example.org/x"})
    assert r.status_code == 303 and r.headers["location"] == f"/{slug}/"


def test_too_many_attempts_is_a_clear_message(site, api, web_city):
    slug = web_city["slug"]
    victim = api.new_user(web_city)
    token = site.csrf(f"/{slug}/login")
    statuses = [site.post(f"/{slug}/login", data={"email": victim["email"], "password": "nope-nope-1",
                                                  "csrf_token": token}).status_code for _ in range(12)]
    assert statuses[-1] == 429, statuses
    r = site.post(f"/{slug}/login", data={"email": victim["email"], "password": "nope-nope-1", "csrf_token": token})
    assert "Too many attempts" in r.text


def test_logout_needs_csrf_and_ends_the_session(site, web_city):
    slug = web_city["slug"]
    site.login(web_city, web_city["citizens"][0])
    assert site.post(f"/{slug}/logout").status_code == 403
    token = site.csrf(f"/{slug}/")
    r = site.post(f"/{slug}/logout", data={"csrf_token": token})
    assert r.status_code == 303
    assert "Log in" in site.get(f"/{slug}/").text


def test_two_clicks_from_a_vote_when_not_signed_in(page, web_city, make_idea, api, axe_check, layout_check):
    slug, project = web_city["slug"], web_city["project"]
    alice, bob = web_city["citizens"]
    idea = make_idea(web_city, project, alice, title="A bench by the river")
    page.goto(f"/{slug}/projects/{project['id']}")
    page.locator(f"#idea-{idea['id']} .vote__button--up").click()     # click 1: to the log-in page
    page.wait_for_url("**/login?next=*")
    assert "your vote is cast right away" in page.locator("main").inner_text()
    axe_check(page, "login")
    layout_check(page, "login")
    page.fill("#f-email", bob["email"])
    page.fill("#f-password", "citizen-password-1")
    page.click("main form button[type=submit]")                       # click 2: log in, vote cast
    page.wait_for_url(f"**/ideas/{idea['id']}")
    assert page.locator(".idea__vote .vote__button--up").get_attribute("aria-pressed") == "true"
    assert "Your vote is counted." in page.locator(".flashes").inner_text()
    assert api.get(f"/cities/{slug}/ideas/{idea['id']}/vote", token=bob["token"]).json() == \
        {"value": "up", "up_votes": 1, "down_votes": 0}


def test_session_token_is_out_of_reach_of_javascript(page, web_city, login):
    login(page, web_city, web_city["citizens"][0])
    cookies = page.context.cookies()
    session = [c for c in cookies if c["name"] == "agora_session"]
    assert session and session[0]["httpOnly"] and session[0]["sameSite"] == "Lax"
    assert "agora_session" not in page.evaluate("document.cookie")
    assert web_city["citizens"][0]["token"] not in page.content()
