"""Helpers of the officials' workspace tests: a consultation whose ideas come from two age groups."""
from __future__ import annotations

import re
import time

# Two themes, one written by younger citizens, the other by older ones: the heatmap must tell them apart.
CYCLING = [
    ("Protected bike lanes on the ring road", "Cycling to school on the ring road is dangerous; a separated bike lane please."),
    ("More bike parking at the station", "Bike racks at the station are always full, we need more bike parking."),
    ("Bike lane through the park", "A safe cycling route through the park for students and commuters on bikes."),
    ("Shared bikes near the university", "Bike sharing stations near the university campus for cycling students."),
    ("Repair the cycle path on Main Street", "The cycle path on Main Street is broken; cycling there is unsafe for bikes."),
    ("Cycling lessons for teenagers", "Free cycling lessons and bike safety for teenagers at school."),
    ("Green wave for cyclists", "Traffic lights timed for bikes so cycling across town is faster."),
    ("Bike highway to the next town", "A fast bike highway for cycling commuters to the next town."),
    ("Covered bike storage downtown", "Covered bike storage so bikes stay dry, cycling downtown made easy."),
    ("Wider bike lanes on the bridge", "The bike lanes on the bridge are too narrow for cycling in both directions."),
    ("Cargo bikes for the market", "Cargo bikes for rent so shoppers can go cycling to the market."),
    ("Night lights on the bike path", "Lights along the bike path for safe cycling home at night."),
]
PARKING = [
    ("More parking near the hospital", "Parking near the hospital is impossible; visitors need car parking spaces."),
    ("Free parking on Sundays", "Car parking should be free on Sundays for church and family visits."),
    ("Parking for residents only", "Residents cannot find parking for their car in our street anymore."),
    ("A parking garage at the market", "A parking garage near the market so cars do not block the square."),
    ("Disabled parking spaces downtown", "More disabled parking spaces for cars near the shops downtown."),
    ("Cheaper parking permits", "Parking permits for residents' cars have become far too expensive."),
    ("Parking at the cemetery", "Older visitors need car parking close to the cemetery entrance."),
    ("Park and ride at the motorway", "A park and ride car park at the motorway exit with parking for cars."),
    ("Longer parking time at the doctor", "Parking time limits near the doctor are too short for a car visit."),
    ("Parking signs that show free places", "Signs showing free parking places in car parks would save driving."),
    ("Keep the parking on the square", "Do not remove the car parking spaces from the town square."),
    ("Parking for visitors of the elderly home", "Visitors of the elderly home need car parking nearby."),
]


def wait_for(check, timeout: float = 60.0, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(interval)


def consultation(api, make_city, young: int = 3, old: int = 3) -> dict:
    """A city whose first citizen is an admin (the official), with younger and older citizens who posted
    the cycling and the parking ideas, and a topic model built."""
    city = make_city(citizens=1)
    slug, pid = city["slug"], city["project"]["id"]
    city["official"] = api.promote(city, city["citizens"][0], "admin")
    city["young"] = [api.new_user(city, display_name=f"Young {i}", birth_year=2004, gender="female", district="Noord")
                     for i in range(young)]
    city["old"] = [api.new_user(city, display_name=f"Older {i}", birth_year=1950, gender="male", district="Zuid")
                   for i in range(old)]
    city["ideas"] = []
    for k, (title, body) in enumerate(CYCLING):
        author = city["young"][k % young]
        r = api.post(f"/cities/{slug}/projects/{pid}/ideas", token=author["token"],
                     json={"title": title, "body": body, "topics": ["mobility"]})
        assert r.status_code == 201, r.text
        city["ideas"].append(r.json())
    for k, (title, body) in enumerate(PARKING):
        author = city["old"][k % old]
        r = api.post(f"/cities/{slug}/projects/{pid}/ideas", token=author["token"],
                     json={"title": title, "body": body, "topics": ["mobility"]})
        assert r.status_code == 201, r.text
        city["ideas"].append(r.json())
    return city


def build_topics(api, city: dict, project_id: str | None = None, timeout: float = 90.0) -> dict:
    slug, pid = city["slug"], project_id or city["project"]["id"]
    r = api.post(f"/cities/{slug}/projects/{pid}/topics/refresh", token=city["admin_token"])
    assert r.status_code == 202, r.text

    def ready():
        t = api.get(f"/cities/{slug}/projects/{pid}/topics").json()
        if t.get("status") == "ok" and t["topics"] and sum(x["size"] for x in t["topics"]) >= 20:
            h = api.get(f"/cities/{slug}/projects/{pid}/heatmap", token=city["admin_token"],
                        params={"dimension": "age_group"}).json()
            return t if h.get("cells") else None
        return None

    return wait_for(ready, timeout)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)
