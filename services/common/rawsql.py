"""`text()` statements run on the DBAPI cursor of the transaction's connection, prepared once.

For the short statements of a vote, SQLAlchemy's execution path (compiling, caching, building the
result) costs more CPU than PostgreSQL spends running them, and PostgreSQL spends more planning a
statement than running it. So a `text()` statement goes to the connection's own psycopg2 cursor, in
the same transaction, and is a server-side prepared statement of that connection: `PREPARE` the first
time (its plan is then reused), `EXECUTE` after. A statement PostgreSQL cannot prepare (a parameter
whose type it cannot infer) runs as plain SQL. Rows come back with the access the services use
(attributes, indexes, `first`, `one`, `all`, `scalar`, `scalars`). A failing statement raises what
SQLAlchemy would raise (a `DBAPIError` subclass) and a lost connection is invalidated with its pool,
so outage handling and reconnection work as on SQLAlchemy's own path.

`DB_PREPARED_STATEMENTS=0` turns preparing off: needed behind a pooler that hands each transaction a
different server connection (PgBouncer in transaction mode).
"""
from __future__ import annotations

import hashlib
import re
import weakref
from collections import namedtuple

from sqlalchemy import exc as sa_exc
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import NullType

from services.common.config import settings

# SQLAlchemy's own rule for bound parameters in text(): `:name`, not `::cast`, not `\:escaped`
_BIND = re.compile(r"(?<![:\w\x5c]):(\w+)(?!:)")
_CAST = re.compile(r"CAST\(\s*:(\w+)\s+AS\s+([\w\s\[\]]+?)\s*\)", re.IGNORECASE)
MAX_CACHED = 4096
_UNPREPARABLE, _STALE = object(), object()
STALE_PLAN = "0A000"  # "cached plan must not change result type"


class _Statement:
    """A text() statement in the two forms psycopg2 is given: plain, or as its prepared EXECUTE."""

    __slots__ = ("plain", "name", "prepare", "execute")

    def __init__(self, sql: str):
        self.plain = _BIND.sub(r"%(\1)s", sql.replace("%", "%%"))
        names: list[str] = []

        def numbered(match):
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        self.name = "agora_" + hashlib.sha1(sql.encode()).hexdigest()[:20]
        self.prepare = f"PREPARE {self.name} AS {_BIND.sub(numbered, sql)}"
        # an argument the statement casts is cast the same way in the EXECUTE: a list that psycopg2
        # sends as ARRAY[...] of text is then a uuid[] or a date[] as the statement wants
        casts: dict[str, str] = {}
        for name, type_ in _CAST.findall(sql):
            casts.setdefault(name, type_)
        args = ", ".join(f"CAST(%({n})s AS {casts[n]})" if n in casts else f"%({n})s" for n in names)
        self.execute = f"EXECUTE {self.name}({args})" if names else f"EXECUTE {self.name}"


_statements: dict[str, _Statement] = {}
# per DBAPI connection: statement name -> True (prepared) or _UNPREPARABLE
_prepared: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


PREPARE: bool | None = None  # None: as the settings say (DB_PREPARED_STATEMENTS)
_plain: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def plain(statement) -> bool:
    """Whether `statement` can run this way: a text() with untyped, non-expanding parameters."""
    if type(statement) is not TextClause:
        return False
    found = _plain.get(statement)
    if found is None:
        found = _plain[statement] = all(
            not p.expanding and isinstance(p.type, NullType) for p in statement._bindparams.values()
        )
    return found


def _statement(sql: str) -> _Statement:
    found = _statements.get(sql)
    if found is None:
        if len(_statements) >= MAX_CACHED:
            _statements.clear()
        found = _statements[sql] = _Statement(sql)
    return found


def execute(connection, statement: TextClause, parameters: dict | None) -> "Rows":
    """Run `statement` on the DBAPI connection under the SQLAlchemy `connection`."""
    parameters = parameters or {}
    known = _statement(statement.text)
    dbapi = connection.dialect.loaded_dbapi
    dbapi_connection = connection.connection.dbapi_connection
    cursor = dbapi_connection.cursor()
    prepare = settings().db_prepared_statements if PREPARE is None else PREPARE
    try:
        if not prepare:
            cursor.execute(known.plain, parameters)
            return Rows.read(cursor)
        state = _prepared.setdefault(dbapi_connection, {})
        done = state.get(known.name)
        if done is None or done is _STALE:
            if done is _STALE:
                cursor.execute(f"DEALLOCATE {known.name}")
            done, rows = _prepare_and_execute(cursor, known, parameters, dbapi.Error)
            state[known.name] = done
            if rows is not None:
                return rows
        if done is True:
            cursor.execute(known.execute, parameters)
        else:
            cursor.execute(known.plain, parameters)
        return Rows.read(cursor)
    except dbapi.Error as err:
        if getattr(err, "pgcode", None) == STALE_PLAN and prepare:
            # the tables changed shape under a prepared plan (a migration while running): this
            # transaction fails, the next one prepares the statement again
            _prepared.setdefault(dbapi_connection, {})[known.name] = _STALE
        lost = connection.dialect.is_disconnect(err, dbapi_connection, cursor)
        if lost and not connection.invalidated:
            connection.engine.pool._invalidate(connection.connection, err)  # as SQLAlchemy does: renew the pool
            connection.invalidate(err)
        raise sa_exc.DBAPIError.instance(
            statement.text, parameters, err, dbapi.Error, connection_invalidated=lost, dialect=connection.dialect,
        ) from err
    finally:
        cursor.close()


def _prepare_and_execute(cursor, known: _Statement, parameters: dict, dbapi_error) -> tuple:
    """PREPARE the statement and run it once, in a savepoint: when PostgreSQL refuses either, the
    transaction goes on as if nothing had happened, the statement is marked to run plainly and the
    caller runs it so. Returns (True, rows) or (_UNPREPARABLE, None)."""
    cursor.execute("SAVEPOINT agora_prepare")
    try:
        cursor.execute(known.prepare)
        cursor.execute(known.execute, parameters)
        rows = Rows.read(cursor)
    except dbapi_error:
        cursor.execute("ROLLBACK TO SAVEPOINT agora_prepare")  # raises in turn when the connection is lost
        cursor.execute("RELEASE SAVEPOINT agora_prepare")
        return _UNPREPARABLE, None
    cursor.execute("RELEASE SAVEPOINT agora_prepare")
    return True, rows


def _row_type(names: tuple[str, ...]) -> type:
    row_type = _row_types.get(names)
    if row_type is None:
        row_type = _row_types[names] = namedtuple("Row", names, rename=True)
    return row_type


_row_types: dict[tuple[str, ...], type] = {}


class Rows:
    """The rows of a statement, read at once."""

    __slots__ = ("rows", "rowcount")

    def __init__(self, rows: list, rowcount: int):
        self.rows, self.rowcount = rows, rowcount

    @classmethod
    def read(cls, cursor) -> "Rows":
        if cursor.description is None:
            return cls([], cursor.rowcount)
        make = _row_type(tuple(d[0] for d in cursor.description))._make
        return cls([make(r) for r in cursor.fetchall()], cursor.rowcount)

    def __iter__(self):
        return iter(self.rows)

    def all(self) -> list:
        return list(self.rows)

    def first(self):
        return self.rows[0] if self.rows else None

    def one(self):
        if len(self.rows) != 1:
            raise (sa_exc.NoResultFound if not self.rows else sa_exc.MultipleResultsFound)(
                f"{len(self.rows)} rows where exactly one was required")
        return self.rows[0]

    def scalar(self):
        return self.rows[0][0] if self.rows else None

    def scalar_one(self):
        return self.one()[0]

    def scalars(self) -> "Scalars":
        return Scalars(r[0] for r in self.rows)


class Scalars(list):
    def all(self) -> list:
        return list(self)

    def first(self):
        return self[0] if self else None
