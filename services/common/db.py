"""PostgreSQL access for services: a transaction per unit of work, on the process-wide engine
(services/common/engines.py)."""
from __future__ import annotations

import functools
import uuid
from contextlib import contextmanager

from nameko.extensions import DependencyProvider
from sqlalchemy import MetaData, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from services.common import ops, outbox, rawsql
from services.common.engines import engine, sqlalchemy_url  # noqa: F401  (the services' way to them)
from services.common.events import new_event

def unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached (rather than that a statement was wrong)."""
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
        ops.add_readiness_check(f"database:{self.schema}", self.ping)

    def ping(self) -> bool:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True

    def get_dependency(self, worker_ctx):
        return Db(self.factory, self.schema)
