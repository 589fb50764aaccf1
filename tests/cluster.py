"""Several platform processes side by side, citizens who vote, and the books that must balance after.

Used by the fault tests (tests/fault/) and the vote benchmark (bench/bench_votes.py):

- `Scratch`: a database of its own on the shared PostgreSQL and a vhost of its own on the shared
  RabbitMQ (or any AMQP URI given, e.g. a private broker node), with the migrations of the chosen
  services applied; `close()` drops what it created.
- `Proc`: one `nameko run` of any modules (a service, the gateway, several) as a subprocess with its
  own environment, so a test can SIGKILL one service and leave the others running.
- `City`: a city, authors with ideas in an active project, and voters: real users (the gateway checks
  every token's user against accounts), signed up through the API in parallel, with tokens signed by
  the platform's secret instead of a login each. `inserted_users` writes thousands of them straight
  into accounts' table for the benchmarks (one shared password hash, no events).
- `Books`: what the database says after the dust settles: votes stored once, outboxes drained,
  vote totals consistent, and every author's points equal to what the rules give for the stored votes.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

from support import (
    PLATFORM_KEY, ROOT, Api, Platform, create_database, create_vhost, delete_vhost, drop_database, eventually,
)

SERVICES = ("accounts", "ideas", "voting", "gamification")


class Scratch:
    """A database and a broker vhost of their own, migrated for `services`."""

    def __init__(self, services=SERVICES, amqp_uri: str | None = None, prefix: str = "agora_chaos"):
        self.name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        self.services = list(services)
        self.own_vhost = amqp_uri is None
        self.amqp_uri = create_vhost(self.name) if amqp_uri is None else amqp_uri
        self.database_url = create_database(self.name)
        env = {**os.environ, "DATABASE_URL": self.database_url, "AMQP_URI": self.amqp_uri}
        done = subprocess.run([sys.executable, "-m", "services.common.migrate", "upgrade", *self.services],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            self.close()
            raise RuntimeError(f"migrations failed:\n{done.stdout}\n{done.stderr}")
        self._engine = None

    @property
    def engine(self):
        if self._engine is None:
            self._engine = create_engine(self.database_url.replace("postgresql://", "postgresql+psycopg2://", 1),
                                         pool_size=4, max_overflow=4, pool_pre_ping=True)
        return self._engine

    def close(self):
        if self._engine is not None:
            self._engine.dispose()
        drop_database(self.name)
        if self.own_vhost:
            delete_vhost(self.name)


class Proc(Platform):
    """`nameko run` of `modules` (e.g. ["services.voting.service", "gateway.service"]) as one process."""

    def __init__(self, scratch, modules: list[str], *, expected: list[str] | None = None, extra_env=None,
                 log_dir: Path | None = None, name: str = "proc", database_url: str | None = None,
                 amqp_uri: str | None = None, port: int | None = None):
        gateway = any(m.startswith("gateway") or m.endswith("Gateway") or "Gateway" in m for m in modules)
        super().__init__(scratch, list(expected or scratch.services), extra_env=extra_env, gateway=gateway,
                         log_dir=log_dir, name=name)
        self._modules = list(modules)
        if port is not None:
            self.port = port
            self.url = f"http://127.0.0.1:{port}"
            self.env["GATEWAY_PORT"] = str(port)
            self.env["PUBLIC_URL"] = self.url
        if database_url:
            self.env["DATABASE_URL"] = database_url
        if amqp_uri:
            self.env["AMQP_URI"] = amqp_uri

    def modules(self) -> list[str]:
        return list(self._modules)

    def start(self, timeout: float = 90) -> "Proc":
        super().start(timeout)
        return self

    def ready(self) -> bool:
        probe = f"{self.url}/readyz" if self.gateway else f"http://127.0.0.1:{self.ops_port}/readyz"
        try:
            return requests.get(probe, timeout=2).status_code == 200
        except requests.RequestException:
            return False


def service_modules(*names: str) -> list[str]:
    return [f"services.{n}.service" for n in names]


# -- citizens --------------------------------------------------------------------------------------
def minted_token(city: dict, user_id: str, role: str = "citizen", ttl: int = 7200) -> str:
    from services.common.auth import issue_token
    from services.common.config import DEV_JWT_SECRET

    return issue_token(user_id=user_id, city_id=city["id"], city_slug=city["slug"], role=role,
                       secret=os.environ.get("JWT_SECRET", DEV_JWT_SECRET), ttl=ttl)


USER_PASSWORD = "voter-password-long"


def inserted_users(database, city: dict, n: int) -> list[dict]:
    """`n` citizens of `city` as rows in accounts.users, with tokens: real users without the cost of a
    sign-up (argon2) each. They publish no user_registered event: services that need their names ask
    accounts. `database`: a Scratch, or the URL of the platform's database."""
    if not isinstance(database, str):
        return _insert_users(database.engine, city, n)
    engine = create_engine(database.replace("postgresql://", "postgresql+psycopg2://", 1))
    try:
        return _insert_users(engine, city, n)
    finally:
        engine.dispose()


@lru_cache(maxsize=1)
def _password_hash() -> str:
    from services.common.auth import hash_password

    return hash_password(USER_PASSWORD)


def _insert_users(engine, city: dict, n: int) -> list[dict]:
    password_hash = _password_hash()
    users = [{"id": str(uuid.uuid4()), "city_id": city["id"], "password_hash": password_hash} for _ in range(n)]
    for user in users:
        user["email"] = f"v-{user['id'][:13]}@example.org"
        user["display_name"] = f"Voter {user['id'][:8]}"
    with engine.begin() as conn:
        for start in range(0, n, 5000):
            conn.execute(text("INSERT INTO accounts.users (id, city_id, email, password_hash, display_name) "
                              "VALUES (:id, :city_id, :email, :password_hash, :display_name)"), users[start:start + 5000])
    return [{"id": u["id"], "token": minted_token(city, u["id"])} for u in users]


class City:
    """A city with `authors` authors, each with `ideas_each` ideas in one active project, and `voters` voters."""

    def __init__(self, api: Api, *, authors: int = 5, ideas_each: int = 4, voters: int = 100):
        self.api = api
        self.info = api.new_city()
        self.slug, self.id = self.info["slug"], self.info["id"]
        r = api.post(f"/cities/{self.slug}/projects", token=self.info["admin_token"], json={
            "title": {"en": "Busy day"}, "method": "ideation", "status": "active", "allow_down_votes": True})
        assert r.status_code == 201, r.text
        self.project = r.json()["id"]
        self.authors = self.users(authors)
        self.ideas: dict[str, str] = {}  # idea id -> author id
        with ThreadPoolExecutor(max_workers=8) as pool:
            for author_id, idea_id in pool.map(
                    lambda a: (a["id"], self._idea(a)), [a for a in self.authors for _ in range(ideas_each)]):
                self.ideas[idea_id] = author_id
        self.voters = self.users(voters)

    def users(self, n: int) -> list[dict]:
        """`n` citizens signed up through the API, a few side by side."""
        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(lambda _: self._user(), range(n)))

    def _user(self) -> dict:
        """Signs up as a client would on a busy machine: again after a 503 (the sign-up's password hash
        may outlast a short RPC timeout), and a sign-up that went through meanwhile is a 409: log in."""
        import jwt

        email = f"v-{uuid.uuid4().hex[:12]}@example.org"
        for attempt in range(8):
            r = self.api.post(f"/cities/{self.slug}/users",
                              json={"email": email, "password": USER_PASSWORD, "display_name": email[:14]})
            if r.status_code == 201:
                user_id = r.json()["id"]
                break
            if r.status_code == 409:
                token = self.api.login(self.slug, email, USER_PASSWORD)
                user_id = jwt.decode(token, options={"verify_signature": False})["sub"]
                break
            assert r.status_code == 503, r.text
            time.sleep(0.5 * (attempt + 1))
        else:
            raise AssertionError(f"sign-up kept answering 503: {r.text}")
        return {"id": user_id, "token": minted_token(self.info, user_id)}

    def _idea(self, author: dict) -> str:
        r = self.api.post(f"/cities/{self.slug}/projects/{self.project}/ideas", token=author["token"],
                          json={"title": "Shade trees on the market square", "body": "Summers are hot."})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def vote_path(self, idea_id: str) -> str:
        return f"/api/v1/cities/{self.slug}/ideas/{idea_id}/vote"

    def wait_voting_knows_ideas(self, timeout: float = 30) -> None:
        """Wait until voting answers for every idea (its read model has them or it asked ideas)."""
        def known():
            return all(self.api.get(f"/cities/{self.slug}/ideas/{i}/vote", timeout=5).status_code == 200
                       for i in self.ideas)
        eventually(known, timeout=timeout, interval=0.3)


class Voter:
    """A client thread's share of the load: its own (voter, idea) pairs, so the last answer of a pair
    is the pair's final state; records what each answer said."""

    def __init__(self, base_url: str, city: City, pairs: list[tuple[dict, str]], seed: int):
        import random

        self.base = base_url.rstrip("/")
        self.city = city
        self.pairs = pairs
        self.rnd = random.Random(seed)
        self.http = requests.Session()
        self.last: dict[tuple[str, str], tuple[int, str | None]] = {}  # (voter, idea) -> (status, value)
        self.statuses: dict[int, int] = {}
        self.timings: list[tuple[float, float, int]] = []  # (started, seconds, status)

    def one(self, timeout: float = 10) -> int:
        voter, idea = self.rnd.choice(self.pairs)
        value = "up" if self.rnd.random() < 0.75 else "down"
        started = time.monotonic()
        try:
            r = self.http.put(self.base + self.city.vote_path(idea), json={"value": value},
                              headers={"Authorization": f"Bearer {voter['token']}"}, timeout=timeout)
            status = r.status_code
        except requests.RequestException:
            status = 0
        self.timings.append((started, time.monotonic() - started, status))
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.last[(voter["id"], idea)] = (status, value)
        return status


def split_pairs(city: City, clients: int, votes_per_voter: int = 6, seed: int = 7) -> list[list[tuple[dict, str]]]:
    """Each voter's (voter, idea) pairs, dealt to `clients` so no pair is shared between clients."""
    import random

    rnd = random.Random(seed)
    ideas = list(city.ideas)
    shares: list[list] = [[] for _ in range(clients)]
    for n, voter in enumerate(city.voters):
        for idea in rnd.sample(ideas, min(votes_per_voter, len(ideas))):
            shares[n % clients].append((voter, idea))
    return shares


# -- the books -------------------------------------------------------------------------------------
def expected_points(conn, city_id: str) -> dict[str, int]:
    """Each author's points by services/gamification/rulebook.py, from the ideas and votes stored:
    one point per idea posted, and per up vote on an idea 5 points, counting at most `daily_cap_per_pair`
    up votes of one voter to one author a day; down votes earn nothing."""
    from services.gamification import rulebook

    rb = rulebook.effective(None)
    posted = rb["points"]["idea_posted"]
    upvoted = rb["points"]["idea_upvoted"]
    cap = rb["daily_cap_per_pair"]
    out: dict[str, int] = {}
    for author_id, n in conn.execute(text(
            "SELECT author_id, count(*) FROM ideas.ideas WHERE city_id = :c AND deleted_at IS NULL "
            "AND hidden_at IS NULL GROUP BY author_id"), {"c": city_id}):
        out[str(author_id)] = out.get(str(author_id), 0) + n * posted
    for author_id, n in conn.execute(text(
            """SELECT author_id, sum(LEAST(n, :cap)) FROM (
                 SELECT i.author_id, v.voter_id, (v.created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS n
                 FROM voting.votes v JOIN ideas.ideas i ON i.id = v.target_id AND i.city_id = v.city_id
                 WHERE v.city_id = :c AND v.target_type = 'idea' AND v.value = 'up' AND v.voter_id <> i.author_id
                 GROUP BY 1, 2, 3) per_pair_day GROUP BY author_id"""), {"c": city_id, "cap": cap}):
        out[str(author_id)] = out.get(str(author_id), 0) + int(n) * upvoted
    return out


def actual_points(conn, city_id: str) -> dict[str, int]:
    rows = conn.execute(text("SELECT user_id, points FROM gamification.totals WHERE city_id = :c AND period = 'all'"),
                        {"c": city_id})
    return {str(u): p for u, p in rows if p}


def ledger_points(conn, city_id: str) -> dict[str, int]:
    rows = conn.execute(text("SELECT user_id, sum(points) FROM gamification.ledger WHERE city_id = :c GROUP BY 1"),
                        {"c": city_id})
    return {str(u): int(p) for u, p in rows if p}


def unpublished(conn, schemas=("accounts", "ideas", "voting", "gamification")) -> dict[str, int]:
    return {s: conn.execute(text(f'SELECT count(*) FROM "{s}".outbox WHERE published_at IS NULL')).scalar()
            for s in schemas}


class Books:
    """Checks that nothing was lost, doubled or left half-done, once the platform has settled."""

    def __init__(self, scratch: Scratch, city: City):
        self.scratch, self.city = scratch, city

    def settled(self) -> bool:
        with self.scratch.engine.connect() as conn:
            return (not any(unpublished(conn).values())
                    and actual_points(conn, self.city.id) == expected_points(conn, self.city.id))

    def wait_settled(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.settled():
                    return
            except Exception:  # the database may be coming back
                pass
            time.sleep(0.5)

    def check(self, voters: list[Voter] = ()) -> dict:
        """Every assertion of 'nothing lost, nothing doubled'; returns a summary."""
        city_id = self.city.id
        with self.scratch.engine.connect() as conn:
            pending = unpublished(conn)
            assert not any(pending.values()), f"events left in the outboxes: {pending}"
            votes = {(str(v), str(t)): val for v, t, val in conn.execute(text(
                "SELECT voter_id, target_id, value FROM voting.votes WHERE city_id = :c"), {"c": city_id})}
            dupes = conn.execute(text(
                "SELECT count(*) FROM (SELECT 1 FROM voting.votes WHERE city_id = :c "
                "GROUP BY voter_id, target_type, target_id HAVING count(*) > 1) d"), {"c": city_id}).scalar()
            assert dupes == 0, f"{dupes} (voter, target) pairs stored more than once"
            # every answered vote is stored with the value of the pair's last answer
            answered = 0
            for voter in voters:
                for pair, (status, value) in voter.last.items():
                    if status == 200:
                        answered += 1
                        assert votes.get(pair) == value, f"vote {pair} answered {value}, stored {votes.get(pair)}"
            # the totals of each idea agree with its votes, in voting and in the ideas read model
            bad = conn.execute(text(
                """SELECT c.target_id FROM voting.vote_counts c
                   LEFT JOIN (SELECT target_id, count(*) FILTER (WHERE value = 'up') AS up,
                                     count(*) FILTER (WHERE value = 'down') AS down
                              FROM voting.votes WHERE city_id = :c GROUP BY target_id) v ON v.target_id = c.target_id
                   JOIN ideas.ideas i ON i.id = c.target_id
                   WHERE c.city_id = :c AND (c.up_votes <> COALESCE(v.up, 0) OR c.down_votes <> COALESCE(v.down, 0)
                         OR i.up_votes <> c.up_votes OR i.down_votes <> c.down_votes)"""), {"c": city_id}).all()
            assert not bad, f"{len(bad)} ideas whose totals disagree with their votes"
            expected = expected_points(conn, city_id)
            actual = actual_points(conn, city_id)
            ledger = ledger_points(conn, city_id)
            wrong = {u: (expected.get(u, 0), actual.get(u, 0)) for u in set(expected) | set(actual)
                     if expected.get(u, 0) != actual.get(u, 0)}
            assert not wrong, f"points (expected, actual) differ for {len(wrong)} users: {list(wrong.items())[:5]}"
            assert ledger == actual, "the ledger and the totals disagree"
        return {"votes": len(votes), "answered_200": answered, "authors_points": sum(actual.values()),
                "up_votes": sum(1 for v in votes.values() if v == "up")}


def drive(voters: list[Voter], seconds: float, *, pause: float = 0.0, stop=None) -> None:
    """Each client votes in a loop for `seconds` (or until `stop()`), one request at a time."""
    deadline = time.monotonic() + seconds

    def loop(v: Voter):
        while time.monotonic() < deadline and not (stop and stop()):
            v.one()
            if pause:
                time.sleep(pause)

    with ThreadPoolExecutor(max_workers=len(voters)) as pool:
        list(pool.map(loop, voters))


__all__ = ["Scratch", "Proc", "City", "Voter", "Books", "drive", "split_pairs", "service_modules",
           "minted_token", "inserted_users", "expected_points", "actual_points", "unpublished", "PLATFORM_KEY"]
