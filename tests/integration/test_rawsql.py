"""text() statements on the DBAPI cursor, prepared once per connection, on the real PostgreSQL."""
import uuid
import weakref
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import exc, text

from services.common import rawsql
from services.common.db import Db, engine
from services.common.tables import service_metadata

metadata = service_metadata("raw_test")


@pytest.fixture(scope="module")
def db(environment):
    eng = engine()
    with eng.begin() as conn:
        conn.execute(text('CREATE SCHEMA IF NOT EXISTS "raw_test"'))
        conn.execute(text("CREATE TABLE IF NOT EXISTS raw_test.items "
                          "(id uuid PRIMARY KEY, name text NOT NULL, day date, at timestamptz, n integer)"))
    metadata.create_all(eng)
    from sqlalchemy.orm import sessionmaker

    return Db(sessionmaker(bind=eng), "raw_test")


INSERT = text(
    "INSERT INTO raw_test.items (id, name, day, at, n) "
    "SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:names AS text[]), CAST(:days AS date[]), "
    "CAST(:ats AS timestamptz[]), CAST(:ns AS integer[])) RETURNING id, name, n"
)


@pytest.mark.parametrize("prepared", ["1", "0"])
def test_statements_run_prepared_or_plain_with_the_same_results(db, monkeypatch, prepared):
    monkeypatch.setattr(rawsql, "PREPARE", prepared == "1")
    monkeypatch.setattr(rawsql, "_prepared", weakref.WeakKeyDictionary())
    ids = [uuid.uuid4() for _ in range(3)]
    names = ['plain', 'with "quotes" and \\ backslash', "comma, {brace}"]
    at = datetime(2026, 5, 1, 12, 30, tzinfo=timezone.utc)
    for round_ in range(3):  # the first run prepares, the next ones execute what was prepared
        batch = [uuid.uuid4() for _ in range(3)] if round_ else ids
        with db.transaction() as tx:
            rows = tx.execute(INSERT, {"ids": [str(i) for i in batch], "names": names,
                                       "days": [date(2026, 5, 1), None, date(2026, 5, 3)],
                                       "ats": [at, at, None], "ns": [1, None, 3]}).all()
        assert sorted(r.name for r in rows) == sorted(names) and {r.n for r in rows} == {1, None, 3}
    prepared_on = [state.get(rawsql._statement(INSERT.text).name) for state in rawsql._prepared.values()]
    assert (True in prepared_on) == (prepared == "1")
    with db.transaction() as tx:
        got = tx.execute(text("SELECT name, day, at FROM raw_test.items WHERE id = ANY(CAST(:ids AS uuid[])) "
                              "AND name LIKE '%' ORDER BY name"), {"ids": [str(i) for i in ids]}).all()
        assert [r.name for r in got] == sorted(names)
        assert {r.day for r in got} == {date(2026, 5, 1), None, date(2026, 5, 3)}
        assert tx.execute(text("SELECT count(*) FROM raw_test.items WHERE id = :i"), {"i": ids[0]}).scalar() == 1
        assert tx.execute(text("SELECT name FROM raw_test.items WHERE id = :i"), {"i": uuid.uuid4()}).first() is None


def test_a_statement_postgresql_cannot_prepare_runs_plainly_in_the_same_transaction(db, monkeypatch):
    monkeypatch.setattr(rawsql, "PREPARE", True)
    # the type of :x cannot be inferred: PREPARE fails, the savepoint keeps the transaction going
    unknowable = text("SELECT :x IS NULL AS missing")
    with db.transaction() as tx:
        assert tx.execute(unknowable, {"x": "a"}).scalar() is False
        assert tx.execute(unknowable, {"x": None}).scalar() is True
        assert tx.execute(text("SELECT 1")).scalar() == 1
    name = rawsql._statement(unknowable.text).name
    assert any(state.get(name) is rawsql._UNPREPARABLE for state in rawsql._prepared.values())


def test_errors_are_sqlalchemy_errors_and_roll_back(db, monkeypatch):
    monkeypatch.setattr(rawsql, "PREPARE", True)
    same = str(uuid.uuid4())
    one = text("INSERT INTO raw_test.items (id, name) VALUES (:i, :n)")
    with db.transaction() as tx:
        tx.execute(one, {"i": same, "n": "first"})
    with pytest.raises(exc.IntegrityError):
        with db.transaction() as tx:
            tx.execute(one, {"i": str(uuid.uuid4()), "n": "rolled back"})
            tx.execute(one, {"i": same, "n": "duplicate"})
    with db.transaction() as tx:
        assert tx.execute(text("SELECT count(*) FROM raw_test.items WHERE name = 'rolled back'")).scalar() == 0


def test_bind_parameters_are_found_as_sqlalchemy_finds_them():
    sql = "SELECT CAST(:a AS text), x::int, CAST(:b AS int), '10:30', 'a%' WHERE x = :a"
    assert set(text(sql)._bindparams) == {"a", "b"}
    stmt = rawsql._Statement(sql)
    assert stmt.plain == "SELECT CAST(%(a)s AS text), x::int, CAST(%(b)s AS int), '10:30', 'a%%' WHERE x = %(a)s"
    assert stmt.prepare.endswith("AS SELECT CAST($1 AS text), x::int, CAST($2 AS int), '10:30', 'a%' WHERE x = $1")
    assert stmt.execute.endswith("(CAST(%(a)s AS text), CAST(%(b)s AS int))")


def test_a_table_changing_shape_under_a_prepared_statement_fails_once_then_prepares_again(db, monkeypatch):
    monkeypatch.setattr(rawsql, "PREPARE", True)
    eng = engine()
    table = f"raw_test.shape_{uuid.uuid4().hex[:8]}"
    with eng.begin() as conn:
        conn.execute(text(f"CREATE TABLE {table} (id integer PRIMARY KEY)"))
        conn.execute(text(f"INSERT INTO {table} VALUES (1)"))
    everything = text(f"SELECT * FROM {table}")

    def read():
        with db.transaction() as tx:
            return tx.execute(everything).all()

    for _ in range(3):
        assert [tuple(r) for r in read()] == [(1,)]
    name = rawsql._statement(everything.text).name
    prepared_on = sum(1 for state in rawsql._prepared.values() if state.get(name) is True)
    with eng.begin() as conn:
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN note text"))
    outcomes = []
    for _ in range(prepared_on + 3):
        try:
            outcomes.append([tuple(r) for r in read()])
        except exc.DBAPIError:
            outcomes.append("failed")
    # each connection that had it prepared fails once, then prepares it again with the new shape
    assert 1 <= outcomes.count("failed") <= prepared_on
    assert outcomes[-3:] == [[(1, None)]] * 3
