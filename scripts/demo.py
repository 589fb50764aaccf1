"""Load a demo city into a running platform, so a newcomer sees it alive: `make demo`.

Creates the city `demo` (or reuses it), citizens with demographics, an ideation project with ideas,
comments and votes, a poll, and a participatory budget. Uses only the public HTTP API.
"""
from __future__ import annotations

import os
import random
import sys

import requests

BASE = os.environ.get("AGORA_URL", f"http://127.0.0.1:{os.environ.get('GATEWAY_PORT', '8000')}") + "/api/v1"
KEY = os.environ.get("PLATFORM_ADMIN_KEY", "dev-platform-key")
SLUG = os.environ.get("DEMO_CITY", "demo")
PASSWORD = "demo-password-1"
http = requests.Session()

IDEAS = [
    ("Protected bike lanes on the ring road", "Separate cyclists from traffic with kerbs on the whole ring.", ["mobility"]),
    ("More benches in the central park", "Older residents need places to rest along the paths.", ["green"]),
    ("Night buses on weekends", "A bus every 30 minutes between midnight and 4 am on Fridays and Saturdays.", ["mobility"]),
    ("Community vegetable gardens", "Turn the empty lot behind the library into allotments.", ["green"]),
    ("Free wifi in the library square", "Students and visitors could work outside in summer.", ["culture"]),
    ("Car-free Sundays in the old town", "Close the centre to cars one Sunday a month.", ["mobility", "green"]),
    ("Skate park near the station", "Young people have nowhere to skate safely.", ["sport"]),
    ("Plant 500 street trees", "Shade the hottest streets; measured heat islands first.", ["green"]),
]


def call(method, path, token=None, expect=(200, 201), **kw):
    headers = kw.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    r = http.request(method, BASE + path, headers=headers, timeout=30, **kw)
    if r.status_code not in expect:
        sys.exit(f"{method} {path} -> {r.status_code}: {r.text[:300]}")
    return r.json() if r.content else None


def login(email):
    return call("POST", f"/cities/{SLUG}/auth/token", json={"email": email, "password": PASSWORD})["access_token"]


def poll(admin, citizens, rng):
    project = call("POST", f"/cities/{SLUG}/projects", token=admin, json={
        "title": {"en": "How do you get to work?", "nl": "Hoe ga je naar je werk?"},
        "description": {"en": "A short poll.", "nl": "Een korte peiling."}, "method": "poll", "status": "active",
    })
    question = call("POST", f"/cities/{SLUG}/projects/{project['id']}/poll/questions", token=admin, json={
        "text": {"en": "Main way to travel", "nl": "Belangrijkste vervoermiddel"}, "kind": "single",
        "options": [{"text": {"en": e, "nl": n}} for e, n in (("Bike", "Fiets"), ("Bus", "Bus"), ("Car", "Auto"))],
    })
    for token in citizens:
        option = rng.choice(question["options"])
        call("PUT", f"/cities/{SLUG}/projects/{project['id']}/poll/response", token=token,
             json={"answers": {question["id"]: [option["id"]]}})


def budget(admin, citizens, rng):
    project = call("POST", f"/cities/{SLUG}/projects", token=admin, json={
        "title": {"en": "Neighbourhood budget 2027", "nl": "Buurtbudget 2027"},
        "description": {"en": "Choose what we fund.", "nl": "Kies wat we financieren."},
        "method": "budgeting", "status": "active",
    })
    path = f"/cities/{SLUG}/projects/{project['id']}"
    call("PUT", path + "/budget", token=admin, json={
        "total": 100000, "currency": "EUR", "ballot": {"type": "approval", "max_items": 3}, "phase": "collecting"})
    items = [call("POST", path + "/budget/items", token=admin, json={"title": {"en": en, "nl": nl}, "cost": cost})["id"]
             for en, nl, cost in (("Playground", "Speeltuin", 40000), ("Street trees", "Straatbomen", 30000),
                                  ("Benches", "Bankjes", 10000), ("Bike racks", "Fietsenrekken", 25000),
                                  ("Library books", "Bibliotheekboeken", 20000))]
    call("PUT", path + "/budget", token=admin, json={"phase": "voting"})
    for token in citizens:
        call("POST", path + "/ballot/submit", token=token, json={"item_ids": rng.sample(items, rng.randint(1, 3))})


def main():
    try:
        http.get(BASE.rsplit("/api/v1", 1)[0] + "/healthz", timeout=5)
    except requests.RequestException:
        sys.exit(f"No platform at {BASE}: start it with `make run` first.")
    if http.get(f"{BASE}/cities/{SLUG}", timeout=10).status_code == 404:
        call("POST", "/cities", headers={"X-Platform-Key": KEY}, json={
            "slug": SLUG, "name": "Demo City", "locales": ["en", "nl"],
            "admin": {"email": "admin@demo.example.org", "password": PASSWORD, "display_name": "Demo Admin"},
        })
    else:
        print(f"City {SLUG!r} exists already; adding to it.")
    admin = login("admin@demo.example.org")
    rng = random.Random(7)
    citizens = []
    for i in range(12):
        email = f"citizen{i}@demo.example.org"
        r = http.post(f"{BASE}/cities/{SLUG}/users", timeout=30, json={
            "email": email, "password": PASSWORD, "display_name": f"Citizen {i}",
            "birth_year": rng.randint(1950, 2006), "gender": rng.choice(["female", "male", "other"]),
            "district": rng.choice(["Centrum", "Noord", "Zuid"]), "locale": rng.choice(["en", "nl"]),
        })
        if r.status_code not in (201, 409):
            sys.exit(r.text)
        citizens.append(login(email))
    project = call("POST", f"/cities/{SLUG}/projects", token=admin, json={
        "title": {"en": "Ideas for a greener, easier city", "nl": "Ideeën voor een groenere stad"},
        "description": {"en": "Tell us what to change.", "nl": "Vertel ons wat er moet veranderen."},
        "method": "ideation", "status": "active", "topics": ["mobility", "green", "culture", "sport"],
    })
    ideas = []
    for i, (title, body, topics) in enumerate(IDEAS):
        ideas.append(call("POST", f"/cities/{SLUG}/projects/{project['id']}/ideas", token=citizens[i % 12],
                          json={"title": title, "body": body, "topics": topics, "locale": "en"}))
    votes = 0
    for idea_index, idea in enumerate(ideas):
        for voter in rng.sample(range(12), 7):
            if voter == idea_index % 12:
                continue
            value = "up" if rng.random() < 0.8 else "down"
            call("PUT", f"/cities/{SLUG}/ideas/{idea['id']}/vote", token=citizens[voter], json={"value": value})
            votes += 1
        call("POST", f"/cities/{SLUG}/ideas/{idea['id']}/comments", token=citizens[(idea_index + 3) % 12],
             json={"body": "Good idea, and it should reach every district."})
    call("POST", f"/cities/{SLUG}/ideas/{ideas[0]['id']}/status", token=admin, json={"status": "under_review"})
    call("POST", f"/cities/{SLUG}/ideas/{ideas[0]['id']}/status", token=admin,
         json={"status": "accepted", "feedback": {"en": "Planned for next year.", "nl": "Gepland voor volgend jaar."}})
    poll(admin, citizens, rng)
    budget(admin, citizens, rng)
    print(f"Demo city ready: {len(citizens)} citizens, {len(ideas)} ideas, {votes} votes, a poll and a budget.")
    print(f"  curl {BASE}/cities/{SLUG}/projects/{project['id']}/ideas?sort=popular")
    print(f"  curl {BASE}/cities/{SLUG}/leaderboard")
    print(f"Log in as admin@demo.example.org / {PASSWORD} (or citizen0..11@demo.example.org).")


if __name__ == "__main__":
    main()
