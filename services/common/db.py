"""PostgreSQL access for services: one engine per process, a transaction per unit of work.

psycopg2 is made cooperative with eventlet (psycogreen), so a slow query blocks only its own worker.
"""
from __future__ import annotations

import functools
import threading
import uuid
from contextlib import contextmanager

from nameko.extensions import DependencyProvider
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.common import rawsql
from services.common.config import settings

_engines: dict[str, Engine] = {}
PING_AFTER_IDLE_SECONDS = 5.0
CONNECT_ARGS = {"connect_timeout": 3, "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
                "keepalives_count": 3}
_lock = threading.Lock()


def sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def make_green() -> None:
    """Let psycopg2 yield to the eventlet hub while it waits on the network."""
    import eventlet.patcher

    if eventlet.patcher.is_monkey_patched("socket"):
        from psycogreen.eventlet import patch_psycopg

        patch_psycopg()


def engine(url: str | None = None, pool_size: int = 20) -> Engine:
    """The process-wide engine for a database URL."""
    url = sqlalchemy_url(url or settings().database_url)
    with _lock:
        if url not in _engines:
            make_green()
            eng = create_engine(
                # a small overflow: several processes share the server's max_connections
                url, pool_size=pool_size, max_overflow=5, pool_recycle=1800,
                # fail fast when the server is away, and notice a peer that vanished without a word
                connect_args=CONNECT_ARGS,
            )
            ping_idle_connections(eng)
            _engines[url] = eng
        return _engines[url]


def ping_idle_connections(eng: Engine, idle_seconds: float = PING_AFTER_IDLE_SECONDS) -> None:
    """Check a pooled connection before use when it has been idle for a while.

    `pool_pre_ping` would cost a round trip on every checkout, i.e. on every unit of work. A connection
    in steady use proves itself; one that sat idle (across a database restart, say) is pinged, and a
    dead one is replaced before the caller sees it. A connection that dies while in use raises, and
    SQLAlchemy then invalidates the whole pool, so one failure renews every stale connection.
    """
    import time

    from sqlalchemy import event, exc

    @event.listens_for(eng, "checkin")
    def _checked_in(dbapi_connection, record):
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(eng, "checkout")
    def _checked_out(dbapi_connection, record, proxy):
        last = record.info.get("checked_in_at")
        if last is None or time.monotonic() - last < idle_seconds:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
        except Exception as e:  # the pool drops it and connects anew (up to three times)
            raise exc.DisconnectionError(str(e)) from e


def unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached (rather than that a statement was wrong)."""
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, sa_exc.TimeoutError):  # no pooled connection came free in time
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError)):
            code = getattr(exc.orig, "pgcode", None)
            # no SQLSTATE: the client lost or never got a connection; 08xxx connection exceptions;
            # 57P0x: the server is shutting down or cannot accept connections
            return code is None or code.startswith("08") or code.startswith("57P")
    return False


def dispose_all() -> None:
    with _lock:
        for eng in _engines.values():
            eng.dispose()
        _engines.clear()


class Tx:
    """One database transaction of a service: its session, plus the outbox and idempotency records."""

    def __init__(self, session: Session, schema: str):
        self.session = session
        self.schema = schema
        self.emitted: list = []
        self._connection = None

    def execute(self, statement, parameters=None, **kwargs):
        """Run a Core statement on the transaction's connection (the session's own, so statements run
        through `tx.session` share the transaction), without the ORM's per-statement work; a plain
        `text()` statement goes straight to the DBAPI cursor (services/common/rawsql.py)."""
        if self._connection is None:
            self._connection = self.session.connection()
        if not kwargs and rawsql.plain(statement) and (parameters is None or isinstance(parameters, dict)):
            return rawsql.execute(self._connection, statement, parameters)
        return self._connection.execute(statement, parameters, **kwargs)

    def emit(self, type_: str, *, city_id=None, actor_id=None, data: dict):
        """Record an event for the outbox (written in one statement when the transaction commits); it
        is published only if this transaction commits."""
        from services.common.events import new_event

        envelope = new_event(type_, city_id=city_id, actor_id=actor_id, data=data)
        self.emitted.append(envelope)
        return envelope

    def first_times(self, event_ids, consumer: str) -> set:
        """Record that `consumer` applied each of `event_ids`; returns those it had not applied before."""
        rows = self.execute(_record_processed(self.schema), {"c": consumer, "ids": [str(e) for e in event_ids]})
        return {uuid.UUID(str(r.event_id)) for r in rows}


@functools.lru_cache(maxsize=None)
def _record_processed(schema: str):
    return text(
        f'INSERT INTO "{schema}".processed_events (consumer, event_id) '
        "SELECT :c, e FROM unnest(CAST(:ids AS uuid[])) AS e ON CONFLICT DO NOTHING RETURNING event_id"
    )


class Db:
    """What a service worker sees: `with self.db.transaction() as tx: ...` commits on success."""

    def __init__(self, factory: sessionmaker, schema: str):
        self._factory = factory
        self.schema = schema

    @contextmanager
    def transaction(self):
        from services.common import outbox

        session = self._factory()
        tx = Tx(session, self.schema)
        try:
            yield tx
            if tx.emitted:
                outbox.add_all(tx, self.schema, tx.emitted)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        if tx.emitted:
            outbox.wake(self.schema)

    @contextmanager
    def read(self):
        """A session for reads only; nothing is committed."""
        session = self._factory()
        try:
            yield session
        finally:
            session.rollback()
            session.close()


class Database(DependencyProvider):
    """Nameko dependency giving each worker a `Db` bound to the service's schema."""

    def __init__(self, metadata: MetaData):
        self.metadata = metadata
        self.schema = metadata.schema

    def setup(self):
        max_workers = int(self.container.config.get("max_workers", 10))
        self.engine = engine(pool_size=max_workers + 5)
        self.factory = sessionmaker(bind=self.engine, expire_on_commit=False)
        from services.common import ops

        ops.add_readiness_check(f"database:{self.schema}", self.ping)

    def ping(self) -> bool:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True

    def get_dependency(self, worker_ctx):
        return Db(self.factory, self.schema)
