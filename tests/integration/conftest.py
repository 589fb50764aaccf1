"""Fixtures for testing a service's handlers against the real PostgreSQL, without the bus.

    @pytest.fixture(scope="module")
    def db(service_db):
        return service_db("accounts")      # a services.common.db.Db on the accounts schema

    def test_something(db, city_id, clock, peers):
        peers.answers[("ideas", "vote_target")] = lambda city_id, kind, tid: {...}
        with db.transaction() as tx:
            handlers.do_something(tx, city_id, now=clock.now, peers=peers)

One scratch database per test session holds the migrated schemas of the services asked for (each
migrated once); tests keep their rows apart by a fresh `city_id` (every row has one), so nothing is
truncated between tests.
"""
from __future__ import annotations

import importlib
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import sessionmaker

from support import create_database, drop_database

FIXED_NOW = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)


class FakePeers:
    """Stands in for `services.common.peers.Peers`: `ask(service, method, *args)` answers from
    `answers[(service, method)]`, a value or a callable given the arguments (an exception instance
    or class is raised); every call is recorded in `calls` as `(service, method, args)`."""

    def __init__(self, answers: dict | None = None):
        self.answers = dict(answers or {})
        self.calls: list[tuple] = []

    def ask(self, service: str, method: str, *args):
        self.calls.append((service, method, args))
        try:
            answer = self.answers[(service, method)]
        except KeyError:
            raise AssertionError(f"unexpected call {service}.{method}{args}") from None
        if isinstance(answer, BaseException) or (isinstance(answer, type) and issubclass(answer, BaseException)):
            raise answer
        return answer(*args) if callable(answer) else answer

    def asked(self, service: str, method: str) -> list[tuple]:
        """The arguments of every call made to `service.method`."""
        return [args for s, m, args in self.calls if (s, m) == (service, method)]


class FixedClock:
    """A clock that stands still until moved: `clock.now` is the datetime handlers are given."""

    def __init__(self, now: datetime = FIXED_NOW):
        self.now = now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture(scope="session")
def service_db():
    """`service_db(name)`: a `services.common.db.Db` on the service's schema in the session's scratch
    database, its migrations applied (once per session per service)."""
    from services.common import migrate
    from services.common.db import Db, engine

    name = f"agora_handlers_{uuid.uuid4().hex[:10]}"
    url = create_database(name)
    migrated: dict[str, Db] = {}

    def get(service: str) -> Db:
        if service not in migrated:
            migrate.upgrade([service], url=url)
            schema = importlib.import_module(f"services.{service}.models").metadata.schema
            migrated[service] = Db(sessionmaker(bind=engine(url, pool_size=5), expire_on_commit=False), schema)
        return migrated[service]

    yield get
    from services.common.engines import _engines, sqlalchemy_url

    eng = _engines.pop(sqlalchemy_url(url), None)
    if eng is not None:
        eng.dispose()
    drop_database(name)


@pytest.fixture
def city_id() -> str:
    """A tenant of its own for each test: its rows are apart from every other test's."""
    return str(uuid.uuid4())


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def peers() -> FakePeers:
    return FakePeers()
