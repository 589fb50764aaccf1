"""Fill a demo city that looks alive, through the public HTTP API only: `make demo` (with `make run` going).

The city `demo` ("Demo City", in English, Dutch and French) gets:

- 150 citizens with birth years, genders, districts and languages;
- two ideation projects holding 325 real petitions written by members of the public
  (scripts/demo_data/, Creative Commons Attribution 3.0; see SOURCE.md there), a third of them
  with a location in the city, tagged with the city's topics;
- votes on ideas (skewed: some ideas are popular, some divisive), comments in the citizens'
  languages with replies, votes on comments;
- official statuses with the city's feedback (under review, accepted, rejected, implemented);
- a poll with three questions and its answers;
- a participatory budget open for voting (knapsack ballot, items from accepted ideas, ballots and
  drafts) and last year's budget, closed, with its results;
- a refresh of the topic models, so the insights have data.

Re-running adds nothing twice: the city, the citizens and every project are looked up first, and a
project that exists already is left as it is. Sign-ups carry the platform key (PLATFORM_ADMIN_KEY), so
the gateway's limit on sign-ups from one address does not apply to this loader; logins are paced by
the gateway's login limit (429 + Retry-After), which the script waits out.

Environment: AGORA_URL (the gateway, default http://127.0.0.1:$GATEWAY_PORT), WEB_URL (the site,
default http://127.0.0.1:$WEB_PORT), PLATFORM_ADMIN_KEY, DEMO_CITY (slug, default demo).
"""
from __future__ import annotations

import csv
import os
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

GATEWAY = os.environ.get("AGORA_URL", f"http://127.0.0.1:{os.environ.get('GATEWAY_PORT', '8000')}").rstrip("/")
BASE = GATEWAY + "/api/v1"
WEB = os.environ.get("WEB_URL", f"http://127.0.0.1:{os.environ.get('WEB_PORT', '8080')}").rstrip("/")
KEY = os.environ.get("PLATFORM_ADMIN_KEY", "dev-platform-key")
SLUG = os.environ.get("DEMO_CITY", "demo")
PASSWORD = "demo-password-1"
ADMIN_EMAIL = "admin@demo.example.org"
CITIZENS = 150
WORKERS = 8
DATA = Path(__file__).resolve().parent / "demo_data" / "petitions_en.csv"

# The petition site's tags and the city's topics.
TOPICS = {
    "Civil Rights & Equality": "rights", "Economy & Jobs": "economy", "Budget & Taxes": "economy",
    "Health Care": "health", "Government & Regulatory Reform": "governance",
    "Innovation: Arts & Technology": "culture", "Technology & Innovation": "culture",
    "Energy & Environment": "environment", "Education": "education", "Criminal Justice Reform": "justice",
    "Transportation & Infrastructure": "mobility", "Urban Policy": "mobility", "Rural Policy": "mobility",
}
GREEN = {"health", "environment", "mobility"}

# A plausible city: the districts' boxes (south, west, north, east) inside 50.80-50.90 N, 4.30-4.43 E.
DISTRICTS = {
    "Centrum": (50.838, 4.340, 50.858, 4.370), "Noord": (50.858, 4.330, 50.900, 4.400),
    "Zuid": (50.800, 4.320, 50.838, 4.390), "Oost": (50.830, 4.370, 50.870, 4.430),
    "West": (50.830, 4.300, 50.870, 4.340),
}
FIRST_NAMES = (
    "Amira Anna Bram Camille Chloé Daan Elif Emma Eva Fatima Femke Finn Hanna Hugo Inès Jan Jasper Julie "
    "Karim Lars Léa Lena Lotte Louis Lucas Maarten Manon Marie Mila Mohamed Nina Noah Nora Olivier Omar "
    "Pieter Priya Quentin Rania Ruben Sam Sara Sofia Tom Yasmine Yusuf Zoë Thomas Laura Wout Aline"
).split()

COMMENTS = {
    "en": [
        "Good idea, and it should reach every district, not only the centre.",
        "I would support this if the costs are published first.",
        "We tried something like this in our street and it worked well.",
        "Who would maintain it after the first year?",
        "Yes, please! This has been a problem for years.",
        "I am not convinced: it sounds expensive for what it brings.",
        "Could the city start with a small pilot and measure the results?",
        "My neighbours and I would gladly help to make this happen.",
        "This matters a lot for older residents and people with disabilities.",
        "A clear timeline would make this much more convincing.",
    ],
    "nl": [
        "Goed idee, en het moet ook de andere wijken bereiken.",
        "Ik steun dit als de kosten eerst openbaar worden gemaakt.",
        "In onze straat hebben we iets gelijkaardigs geprobeerd en het werkte.",
        "Wie onderhoudt dit na het eerste jaar?",
        "Ja, graag! Dit is al jaren een probleem.",
        "Ik ben niet overtuigd: het klinkt duur voor wat het oplevert.",
        "Kan de stad beginnen met een kleine proef en de resultaten meten?",
        "Mijn buren en ik willen graag helpen om dit mogelijk te maken.",
    ],
    "fr": [
        "Bonne idée, et elle devrait toucher tous les quartiers, pas seulement le centre.",
        "Je soutiendrais ce projet si les coûts étaient publiés d'abord.",
        "Nous avons essayé quelque chose de semblable dans notre rue et cela a marché.",
        "Qui l'entretiendra après la première année ?",
        "Oui, s'il vous plaît ! C'est un problème depuis des années.",
        "Je ne suis pas convaincu : cela semble cher pour ce que cela apporte.",
        "La ville pourrait-elle commencer par un petit essai et en mesurer les résultats ?",
        "Mes voisins et moi aiderions volontiers à le réaliser.",
    ],
}
REPLIES = {
    "en": ["Agreed, that is the key question.", "Good point, I had not thought of that.",
           "The costs are in the text, look at the second paragraph.", "A pilot sounds like a fair start."],
    "nl": ["Akkoord, dat is de kernvraag.", "Goed punt, daar had ik niet aan gedacht.",
           "Een proef lijkt me een eerlijk begin."],
    "fr": ["D'accord, c'est la vraie question.", "Bon point, je n'y avais pas pensé.",
           "Un essai me semble un bon début."],
}
FEEDBACK = {
    "under_review": None,
    "accepted": {
        "en": "The city council adopted this proposal. The services will publish a plan and a budget this year.",
        "nl": "De gemeenteraad heeft dit voorstel aangenomen. De diensten publiceren dit jaar een plan en een budget.",
        "fr": "Le conseil communal a adopté cette proposition. Les services publieront un plan et un budget cette année.",
    },
    "rejected": {
        "en": "Thank you for this proposal. It is not within the city's powers, so we cannot take it forward.",
        "nl": "Bedankt voor dit voorstel. Het valt niet onder de bevoegdheden van de stad, dus we kunnen het niet uitvoeren.",
        "fr": "Merci pour cette proposition. Elle ne relève pas des compétences de la ville : nous ne pouvons pas y donner suite.",
    },
    "implemented": {
        "en": "Done: this was carried out this spring. Thank you to everyone who supported it.",
        "nl": "Klaar: dit werd dit voorjaar uitgevoerd. Dank aan iedereen die het steunde.",
        "fr": "C'est fait : ce projet a été réalisé ce printemps. Merci à toutes celles et ceux qui l'ont soutenu.",
    },
}


# -- HTTP ------------------------------------------------------------------------------------------
_local = threading.local()


class ApiError(RuntimeError):
    pass


def http() -> requests.Session:
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


def call(method: str, path: str, token: str | None = None, expect=(200, 201, 202), **kw):
    """One API call; waits out 429 (Retry-After) and retries a 503 a few times; other statuses not in
    `expect` raise."""
    headers = dict(kw.pop("headers", {}))
    if token:
        headers["Authorization"] = f"Bearer {token}"
    for attempt in range(30):
        r = http().request(method, BASE + path, headers=headers, timeout=60, **kw)
        if r.status_code == 429:
            wait = float(r.headers.get("Retry-After", "1"))
            if wait > 120:
                raise ApiError(f"{method} {path} is rate limited for {wait:.0f} s: {r.text[:200]}")
            time.sleep(wait + random.random() * 0.2)
            continue
        if r.status_code == 503 and attempt < 5:
            time.sleep(1 + attempt)
            continue
        break
    if r.status_code not in expect:
        raise ApiError(f"{method} {path} -> {r.status_code}: {r.text[:300]}")
    return r.json() if r.content and r.headers.get("content-type", "").startswith("application/json") else None


STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:4.0f} s] {message}", flush=True)


def pool_map(fn, items) -> list:
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(fn, items))


def pages(path: str, token: str | None = None):
    cursor = None
    while True:
        sep = "&" if "?" in path else "?"
        page = call("GET", f"{path}{sep}limit=100" + (f"&cursor={cursor}" if cursor else ""), token=token)
        yield from page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return


# -- the city and its people -------------------------------------------------------------------------
class City:
    def __init__(self, rng: random.Random):
        self.rng = rng
        created = False
        r = http().get(f"{BASE}/cities/{SLUG}", timeout=10)
        if r.status_code == 404:
            call("POST", "/cities", headers={"X-Platform-Key": KEY}, json={
                "slug": SLUG, "name": "Demo City", "locales": ["en", "nl", "fr"],
                "admin": {"email": ADMIN_EMAIL, "password": PASSWORD, "display_name": "Demo City"},
            })
            created = True
            r = http().get(f"{BASE}/cities/{SLUG}", timeout=10)
        self.info = r.json()
        self.locales = self.info.get("locales") or ["en"]
        log(("Created" if created else "Found") + f" the city {SLUG!r} ({', '.join(self.locales)}).")
        self.admin = self.login(ADMIN_EMAIL)
        self.citizens = [self.person(i) for i in range(CITIZENS)]
        self._tokens: dict[int, str] = {}
        self._logged_in = {c["i"]: threading.Event() for c in self.citizens}
        self._login_error: Exception | None = None
        self._login_started = threading.Lock()

    def text(self, by_locale: dict) -> dict:
        """A multilingual text in the city's locales (a city made by an older demo may have fewer)."""
        kept = {k: v for k, v in by_locale.items() if k in self.locales}
        return kept or {self.locales[0]: by_locale["en"]}

    def person(self, i: int) -> dict:
        rng = random.Random(f"citizen-{i}")
        age = min(90, max(16, int(rng.gauss(44, 17))))
        return {
            "i": i, "email": f"citizen{i}@demo.example.org",
            "display_name": f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {chr(65 + (i * 7) % 26)}.",
            "birth_year": 2026 - age,
            "gender": rng.choices(["female", "male", "other", None], [48, 47, 3, 2])[0],
            "district": rng.choices(list(DISTRICTS), [30, 20, 20, 15, 15])[0],
            "locale": rng.choices(["en", "nl", "fr"], [40, 35, 25])[0],
            # how active: a few citizens do most of the posting and voting, as everywhere
            "activity": rng.paretovariate(1.6),
            "email_pref": rng.choices(["instant", "daily", "off"], [35, 45, 20])[0],
        }

    def login(self, email: str) -> str:
        return call("POST", f"/cities/{SLUG}/auth/token", json={"email": email, "password": PASSWORD})["access_token"]

    def sign_up_all(self) -> int:
        def one(c):
            body = {k: c[k] for k in ("email", "display_name", "birth_year", "gender", "district", "locale") if c[k]}
            body["locale"] = c["locale"] if c["locale"] in self.locales else self.locales[0]
            # The platform key: an operator's loader is not held to the sign-ups allowed from one address.
            answer = call("POST", f"/cities/{SLUG}/users", json={**body, "password": PASSWORD},
                          headers={"X-Platform-Key": KEY}, expect=(201, 409))
            return "error" not in (answer or {})  # 409: signed up by an earlier run
        return sum(pool_map(one, self.citizens))

    def log_in_all(self) -> None:
        """Logs every citizen in, the most active first, in a thread of its own: the gateway allows
        a burst of logins from one address and then one a second, so the rest of the work goes on
        meanwhile with the citizens already logged in (`token` waits for the others)."""
        if not self._login_started.acquire(blocking=False):
            return

        def run():
            try:
                for c in sorted(self.citizens, key=lambda c: -c["activity"]):
                    token = self._tokens[c["i"]] = self.login(c["email"])
                    if c["email_pref"] != "instant":  # as everywhere, not everyone wants every e-mail
                        call("PUT", f"/cities/{SLUG}/users/me/notification-preferences", token=token,
                             json={"email": c["email_pref"]})
                    self._logged_in[c["i"]].set()
            except Exception as exc:  # surfaces in the threads waiting for a token
                self._login_error = exc
                for event in self._logged_in.values():
                    event.set()
        threading.Thread(target=run, daemon=True).start()

    def token(self, c: dict) -> str:
        self.log_in_all()
        self._logged_in[c["i"]].wait()
        if self._login_error:
            raise ApiError(f"logging the citizens in failed: {self._login_error}")
        return self._tokens[c["i"]]

    def pick(self, k: int, rng: random.Random, exclude=(), among: list[dict] | None = None) -> list[dict]:
        """k distinct citizens (of `among`, else of all), the active ones more often."""
        pool = [c for c in (among or self.citizens) if c["i"] not in exclude]
        chosen: list[dict] = []
        weights = [c["activity"] for c in pool]
        while pool and len(chosen) < k:
            c = rng.choices(pool, weights)[0]
            j = pool.index(c)
            pool.pop(j), weights.pop(j)
            chosen.append(c)
        return chosen

    def projects(self) -> dict[str, dict]:
        return {p["title"].get("en") or next(iter(p["title"].values())): p
                for p in pages(f"/cities/{SLUG}/projects", token=self.admin)}

    def project(self, existing: dict, body: dict) -> tuple[dict, bool]:
        title = body["title"]["en"]
        if title in existing:
            log(f"{title!r} exists already: left as it is.")
            return existing[title], False
        body = {**body, "title": self.text(body["title"]), "description": self.text(body["description"])}
        return call("POST", f"/cities/{SLUG}/projects", token=self.admin, json=body), True


# -- ideas, votes, comments, statuses ----------------------------------------------------------------
def petitions() -> list[dict]:
    with DATA.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        topics = []
        for tag in filter(None, (t.strip() for t in row["tags"].split(","))):
            topic = TOPICS.get(tag)
            if topic and topic not in topics:
                topics.append(topic)
        row["topics"] = topics
    return rows


def location(rng: random.Random, district: str) -> dict:
    south, west, north, east = DISTRICTS[district]
    return {"lat": round(rng.uniform(south, north), 6), "lng": round(rng.uniform(west, east), 6)}


class Filler:
    def __init__(self, city: City):
        self.city = city
        self.counts = {k: 0 for k in ("ideas", "located", "idea_votes", "comments", "replies", "comment_votes",
                                      "statuses", "poll_responses", "ballots", "drafts")}
        self._lock = threading.Lock()

    def count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.counts[key] += n

    def ideas(self, project: dict, rows: list[dict], seed: str) -> list[dict]:
        rng = random.Random(seed)
        # Most ideas come from a few citizens, everywhere; here from the 60 most active, who are also
        # the first logged in (the login limit's burst), so posting never waits for a login.
        writers = sorted(self.city.citizens, key=lambda c: -c["activity"])[:60]
        plan = []
        for n, row in enumerate(rows):
            author = self.city.pick(1, rng, among=writers)[0]
            body = {"title": " ".join(row["title"].split())[:200], "body": row["body"], "topics": row["topics"][:10], "locale": "en"}
            if rng.random() < 0.35:
                body["location"] = location(rng, author["district"])
            # how much the city likes it, and how much it agrees about it
            plan.append((author, body, rng.lognormvariate(0, 1.0), rng.betavariate(5, 1.6)))
        plan.sort(key=lambda item: -item[0]["activity"])  # the order the authors log in

        def post(item):
            author, body, appeal, agreement = item
            idea = call("POST", f"/cities/{SLUG}/projects/{project['id']}/ideas",
                        token=self.city.token(author), json=body)
            self.count("ideas")
            if "location" in body:
                self.count("located")
            return {"id": idea["id"], "author": author["i"], "appeal": appeal, "agreement": agreement}
        return pool_map(post, plan)

    def votes(self, ideas: list[dict], seed: str) -> None:
        rng = random.Random(seed)
        by_citizen = []
        weights = [i["appeal"] for i in ideas]
        for c in sorted(self.city.citizens, key=lambda c: -c["activity"]):  # the order they log in
            k = min(len(ideas) // 2, max(2, int(3 * c["activity"] + rng.randint(0, 8))))
            chosen = {}
            for idea in rng.choices(ideas, weights, k=k):
                if idea["author"] != c["i"]:
                    chosen[idea["id"]] = "up" if rng.random() < idea["agreement"] else "down"
            by_citizen.append((c, chosen))

        def cast(item):
            c, chosen = item
            token = self.city.token(c)
            for idea_id, value in chosen.items():
                call("PUT", f"/cities/{SLUG}/ideas/{idea_id}/vote", token=token, json={"value": value})
            self.count("idea_votes", len(chosen))
        pool_map(cast, by_citizen)

    def comments(self, ideas: list[dict], seed: str, share: float) -> None:
        rng = random.Random(seed)
        ranked = sorted(ideas, key=lambda i: -i["appeal"])
        chosen = ranked[: int(len(ranked) * share)]
        plan = []
        for idea in chosen:
            n = max(1, min(6, int(idea["appeal"] * 2 + rng.random() * 2)))
            commenters = self.city.pick(n, rng, exclude={idea["author"]})
            plan.append((idea, commenters, random.Random(f"{seed}-{idea['id']}")))

        def discuss(item):
            idea, commenters, r = item
            posted = []
            for c in commenters:
                lang = c["locale"] if c["locale"] in COMMENTS else "en"
                comment = call("POST", f"/cities/{SLUG}/ideas/{idea['id']}/comments", token=self.city.token(c),
                               json={"body": r.choice(COMMENTS[lang])})
                posted.append((comment["id"], c))
                self.count("comments")
            for comment_id, c in posted:
                if r.random() < 0.3:  # a reply, often by the idea's author
                    who = self.city.citizens[idea["author"]] if r.random() < 0.5 else self.city.pick(1, r, {c["i"]})[0]
                    lang = who["locale"] if who["locale"] in REPLIES else "en"
                    call("POST", f"/cities/{SLUG}/ideas/{idea['id']}/comments", token=self.city.token(who),
                         json={"body": r.choice(REPLIES[lang]), "parent_id": comment_id})
                    self.count("replies")
                for voter in self.city.pick(r.randint(0, 2), r, exclude={c["i"]}):
                    call("PUT", f"/cities/{SLUG}/comments/{comment_id}/vote", token=self.city.token(voter),
                         json={"value": "up" if r.random() < 0.85 else "down"})
                    self.count("comment_votes")
        pool_map(discuss, plan)

    def statuses(self, ideas: list[dict], seed: str) -> list[str]:
        """The city's answers: the most supported ideas under review, some accepted (a few of them
        implemented since), some rejected. Returns the accepted ideas' ids."""
        rng = random.Random(seed)
        ranked = sorted(ideas, key=lambda i: -i["appeal"] * i["agreement"])[: max(4, len(ideas) // 8)]
        steps = []
        for n, idea in enumerate(ranked):
            path = ["under_review"]
            if n % 3 == 0:
                path.append("accepted")
                if n % 9 == 0:
                    path.append("implemented")
            elif n % 3 == 1 and rng.random() < 0.6:
                path.append("rejected")
            steps.append((idea, path))

        def answer(item):
            idea, path = item
            for status in path:
                body = {"status": status}
                if FEEDBACK[status]:
                    body["feedback"] = self.city.text(FEEDBACK[status])
                call("POST", f"/cities/{SLUG}/ideas/{idea['id']}/status", token=self.city.admin, json=body)
                self.count("statuses")
            return idea["id"] if "accepted" in path else None
        return [i for i in pool_map(answer, steps) if i]

    def poll(self, project: dict) -> None:
        admin, path = self.city.admin, f"/cities/{SLUG}/projects/{project['id']}/poll"
        questions = [
            ({"en": "How do you usually get around the city?", "nl": "Hoe verplaats je je meestal in de stad?",
              "fr": "Comment vous déplacez-vous le plus souvent en ville ?"}, "single", None,
             [("On foot", "Te voet", "À pied"), ("By bike", "Met de fiets", "À vélo"),
              ("Bus or tram", "Bus of tram", "Bus ou tram"), ("By car", "Met de auto", "En voiture")]),
            ({"en": "What should the city work on first? (up to three)",
              "nl": "Waar moet de stad eerst aan werken? (maximaal drie)",
              "fr": "Sur quoi la ville doit-elle travailler en premier ? (trois au plus)"}, "multiple", 3,
             [("Green spaces", "Groen", "Espaces verts"), ("Safe streets", "Veilige straten", "Rues sûres"),
              ("Housing", "Wonen", "Logement"), ("Public transport", "Openbaar vervoer", "Transports publics"),
              ("Culture", "Cultuur", "Culture"), ("Clean streets", "Propere straten", "Rues propres")]),
            ({"en": "How happy are you with your neighbourhood?", "nl": "Hoe tevreden ben je over je buurt?",
              "fr": "Êtes-vous satisfait de votre quartier ?"}, "single", None,
             [("Very happy", "Heel tevreden", "Très satisfait"), ("Happy", "Tevreden", "Satisfait"),
              ("Neutral", "Neutraal", "Neutre"), ("Unhappy", "Ontevreden", "Insatisfait")]),
        ]
        made = []
        for text, kind, max_choices, options in questions:
            body = {"text": self.city.text(text), "kind": kind,
                    "options": [{"text": self.city.text({"en": e, "nl": n, "fr": f})} for e, n, f in options]}
            if max_choices:
                body["max_choices"] = max_choices
            made.append((call("POST", path + "/questions", token=admin, json=body), kind, max_choices))
        rng = random.Random("poll")
        answering = self.city.pick(110, rng)

        def respond(c):
            r = random.Random(f"poll-{c['i']}")
            answers = {}
            for question, kind, max_choices in made:
                ids = [o["id"] for o in question["options"]]
                # the districts lean differently, so the results by district say something
                bias = list(DISTRICTS).index(c["district"]) % len(ids)
                picked = r.sample(ids, r.randint(1, max_choices)) if kind == "multiple" else \
                    [ids[bias] if r.random() < 0.45 else r.choice(ids)]
                answers[question["id"]] = picked
            call("PUT", path + "/response", token=self.city.token(c), json={"answers": answers})
            self.count("poll_responses")
        pool_map(respond, answering)

    def budget(self, project: dict, *, total: int, ballot: dict, items: list, accepted: list[str],
               voters: int, drafts: int, close: bool, seed: str) -> None:
        admin, path = self.city.admin, f"/cities/{SLUG}/projects/{project['id']}"
        call("PUT", path + "/budget", token=admin, json={"total": total, "currency": "EUR", "ballot": ballot,
                                                         "phase": "collecting"})
        made = []
        for n, (en, nl, fr, cost) in enumerate(items):
            body = {"title": self.city.text({"en": en, "nl": nl, "fr": fr}), "cost": cost}
            if n < len(accepted):  # an accepted idea becomes an item, under the idea's own title
                idea = call("GET", f"/cities/{SLUG}/ideas/{accepted[n]}")
                body.update(idea_id=idea["id"], title=self.city.text({"en": idea["title"][:200]}))
            made.append((call("POST", path + "/budget/items", token=admin, json=body)["id"], cost))
        call("PUT", path + "/budget", token=admin, json={"phase": "voting"})
        rng = random.Random(seed)
        appeal = {item_id: rng.lognormvariate(0, 0.6) for item_id, _ in made}
        people = self.city.pick(voters + drafts, rng)

        def choose(r: random.Random) -> list[str]:
            order = sorted(made, key=lambda m: -appeal[m[0]] * r.random())
            if ballot["type"] == "approval":
                return [m[0] for m in order[: r.randint(1, ballot.get("max_items", 3))]]
            chosen, spent = [], 0
            for item_id, cost in order:
                if spent + cost <= total:
                    chosen.append(item_id)
                    spent += cost
            return chosen

        def vote(item):
            n, c = item
            r = random.Random(f"{seed}-{c['i']}")
            if n < voters:
                call("POST", path + "/ballot/submit", token=self.city.token(c), json={"item_ids": choose(r)})
                self.count("ballots")
            else:
                call("PUT", path + "/ballot", token=self.city.token(c), json={"item_ids": choose(r)[:2]})
                self.count("drafts")
        pool_map(vote, list(enumerate(people)))
        if close:
            call("PUT", path + "/budget", token=admin, json={"phase": "closed"})


# -- the whole city ----------------------------------------------------------------------------------
def main() -> int:
    try:
        http().get(GATEWAY + "/healthz", timeout=5)
    except requests.RequestException:
        sys.exit(f"No platform at {GATEWAY}: start it with `make run` first.")
    rng = random.Random(2026)
    city = City(rng)
    fill = Filler(city)
    new = city.sign_up_all()
    log(f"{new} citizens signed up ({CITIZENS - new} there already).")

    rows = petitions()
    green_rows = [r for r in rows if GREEN & set(r["topics"])]
    open_rows = [r for r in rows if not GREEN & set(r["topics"])]
    existing = city.projects()
    accepted: list[str] = []
    for title, description, topics, subset, seed in (
        ({"en": "Ideas for Demo City", "nl": "Ideeën voor Demo City", "fr": "Des idées pour Demo City"},
         {"en": "What should change in our city? Post your idea, vote for the ones you like and tell us what you think.",
          "nl": "Wat moet er veranderen in onze stad? Deel je idee, stem op wat je goed vindt en zeg wat je denkt.",
          "fr": "Que faut-il changer dans notre ville ? Proposez votre idée, votez pour celles qui vous plaisent et "
                "dites-nous ce que vous en pensez."},
         sorted({TOPICS[t] for t in TOPICS} - GREEN), open_rows, "open"),
        ({"en": "A healthier, greener city", "nl": "Een gezondere, groenere stad", "fr": "Une ville plus verte et plus saine"},
         {"en": "Health, nature, energy and getting around: your proposals for the next five years.",
          "nl": "Gezondheid, natuur, energie en mobiliteit: jouw voorstellen voor de komende vijf jaar.",
          "fr": "Santé, nature, énergie et mobilité : vos propositions pour les cinq prochaines années."},
         sorted({TOPICS[t] for t in TOPICS}), green_rows, "green"),
    ):
        project, created = city.project(existing, {"title": title, "description": description, "method": "ideation",
                                                   "status": "active", "topics": topics})
        if not created:
            accepted += [i["id"] for i in pages(f"/cities/{SLUG}/projects/{project['id']}/ideas?status=accepted")]
            continue
        log(f"{title['en']!r}: posting {len(subset)} ideas ...")
        ideas = fill.ideas(project, subset, seed)
        log(f"{title['en']!r}: votes ...")
        fill.votes(ideas, seed)
        log(f"{title['en']!r}: comments, replies and their votes ...")
        fill.comments(ideas, seed, share=0.35)
        log(f"{title['en']!r}: the city's answers ...")
        accepted += fill.statuses(ideas, seed)
        call("POST", f"/cities/{SLUG}/projects/{project['id']}/topics/refresh", token=city.admin, expect=(202, 200))

    project, created = city.project(existing, {
        "title": {"en": "How do you live in Demo City?", "nl": "Hoe leef je in Demo City?",
                  "fr": "Comment vivez-vous à Demo City ?"},
        "description": {"en": "Three short questions about getting around and your neighbourhood.",
                        "nl": "Drie korte vragen over je verplaatsingen en je buurt.",
                        "fr": "Trois courtes questions sur vos déplacements et votre quartier."},
        "method": "poll", "status": "active"})
    if created:
        log("The poll ...")
        fill.poll(project)

    project, created = city.project(existing, {
        "title": {"en": "Neighbourhood budget 2026", "nl": "Buurtbudget 2026", "fr": "Budget de quartier 2026"},
        "description": {"en": "Last year's budget: 150,000 euros, three choices each. The results are in.",
                        "nl": "Het budget van vorig jaar: 150.000 euro, drie keuzes per persoon. De resultaten zijn bekend.",
                        "fr": "Le budget de l'an dernier : 150 000 euros, trois choix chacun. Les résultats sont connus."},
        "method": "budgeting", "status": "active"})
    if created:
        log("Last year's budget, closed with its results ...")
        fill.budget(project, total=150_000, ballot={"type": "approval", "min_items": 1, "max_items": 3},
                    items=[("Playground in the Zuid park", "Speeltuin in het Zuidpark", "Aire de jeux au parc Sud", 60_000),
                           ("Street trees in Noord", "Straatbomen in Noord", "Arbres d'alignement à Noord", 45_000),
                           ("Benches along the canal", "Bankjes langs het kanaal", "Bancs le long du canal", 15_000),
                           ("Covered bike racks", "Overdekte fietsenstallingen", "Abris à vélos", 30_000),
                           ("Books for the library", "Boeken voor de bibliotheek", "Livres pour la bibliothèque", 20_000),
                           ("Summer festival in Oost", "Zomerfeest in Oost", "Fête d'été à Oost", 25_000)],
                    accepted=[], voters=110, drafts=0, close=True, seed="budget-2026")

    project, created = city.project(existing, {
        "title": {"en": "Neighbourhood budget 2027", "nl": "Buurtbudget 2027", "fr": "Budget de quartier 2027"},
        "description": {"en": "250,000 euros to spend: choose the projects you want, within the budget.",
                        "nl": "250.000 euro te besteden: kies de projecten die je wilt, binnen het budget.",
                        "fr": "250 000 euros à dépenser : choisissez les projets que vous voulez, dans les limites du budget."},
        "method": "budgeting", "status": "active"})
    if created:
        log("This year's budget, open for voting ...")
        fill.budget(project, total=250_000, ballot={"type": "knapsack"},
                    # the first three are the accepted ideas, under their own titles, when there are three
                    items=[("Lighting along the park paths", "Verlichting langs de parkpaden",
                            "Éclairage des allées du parc", 70_000),
                           ("A community garden in West", "Een buurtmoestuin in West", "Un potager collectif à West", 55_000),
                           ("Shade on the market square", "Schaduw op het marktplein", "De l'ombre sur la place du marché",
                            40_000),
                           ("Safer crossings near schools", "Veiligere oversteekplaatsen aan scholen",
                            "Passages plus sûrs près des écoles", 80_000),
                           ("Drinking fountains", "Drinkfonteinen", "Fontaines à boire", 25_000),
                           ("A repair café in every district", "Een repaircafé in elke wijk",
                            "Un repair café dans chaque quartier", 35_000),
                           ("Green schoolyards", "Groene speelplaatsen", "Cours de récréation vertes", 90_000),
                           ("Public toilets in the centre", "Openbare toiletten in het centrum",
                            "Toilettes publiques au centre", 45_000)],
                    accepted=accepted[:3], voters=70, drafts=15, close=False, seed="budget-2027")

    c = fill.counts
    print(f"\nDemo city ready in {time.monotonic() - STARTED:.0f} s: {CITIZENS} citizens, {c['ideas']} new ideas "
          f"({c['located']} on the map), {c['idea_votes']} votes on ideas, {c['comments']} comments and "
          f"{c['replies']} replies ({c['comment_votes']} votes on them), {c['statuses']} status changes, "
          f"{c['poll_responses']} poll responses, {c['ballots']} ballots and {c['drafts']} drafts.")
    print(f"\nOpen {WEB}/{SLUG}/")
    print(f"Log in as citizen0@demo.example.org ... citizen{CITIZENS - 1}@demo.example.org, or as the city's admin "
          f"{ADMIN_EMAIL}; the password is {PASSWORD}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
