"""The read-model kit on the real PostgreSQL: facts merged in any order converge to the same row."""
import itertools
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Boolean, Column, DateTime, MetaData, Table, Text, text
from sqlalchemy.dialects.postgresql import UUID

from services.common import profiles as demographic_profiles
from services.common.readmodels import ReadModel

metadata = MetaData(schema="readmodel_test")
facts = Table(
    "facts", metadata,
    Column("city_id", UUID(as_uuid=True), primary_key=True),
    Column("thing_id", UUID(as_uuid=True), primary_key=True),
    Column("status", Text),
    Column("method", Text),
    Column("deleted", Boolean, nullable=False, server_default="false"),
    Column("state_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),
)
profiles = demographic_profiles.profiles_table(metadata)
things = ReadModel(facts, key=("city_id", "thing_id"), keep_known=("method",), tombstones=("deleted",),
                   touched="updated_at")
T0 = datetime(2026, 5, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def db(service_db):
    db = service_db("accounts")
    with db.transaction() as tx:
        tx.execute(text('CREATE SCHEMA IF NOT EXISTS "readmodel_test"'))
    metadata.create_all(db._factory.kw["bind"])
    return db


def _apply(db, facts_in_order, city_id, thing_id):
    for at, values in facts_in_order:
        with db.transaction() as tx:
            things.upsert(tx, at=at, city_id=city_id, thing_id=thing_id, **values)
    with db.read() as s:
        row = things.get(s, city_id=city_id, thing_id=thing_id)
    return (row.status, row.method, row.deleted, row.state_at)


def test_facts_in_any_order_and_repeated_converge(db, city_id):
    history = [
        (T0, {"status": "draft", "method": "voting"}),
        (T0 + timedelta(minutes=1), {"status": "active", "method": None}),
        (T0 + timedelta(minutes=2), {"status": "closed"}),
        (None, {"deleted": True}),
    ]
    outcomes = set()
    for order in itertools.permutations(history):
        outcomes.add(_apply(db, list(order) + [order[0]], city_id, uuid.uuid4()))
    assert outcomes == {("closed", "voting", True, T0 + timedelta(minutes=2))}


def test_an_older_fact_changes_nothing_but_unknown_columns(db, city_id):
    thing = uuid.uuid4()
    assert _apply(db, [(T0 + timedelta(hours=1), {"status": "active", "method": None}),
                       (T0, {"status": "draft", "method": "budgeting"})], city_id, thing) == \
        ("active", "budgeting", False, T0 + timedelta(hours=1))
    with db.read() as s:
        assert [r.thing_id for r in things.get_many(s, [thing, uuid.uuid4()], city_id=city_id)] == [thing]
        assert things.get(s, city_id=str(uuid.uuid4()), thing_id=thing) is None


def test_a_fact_must_name_its_key_and_the_table_its_columns(db, city_id):
    with pytest.raises(ValueError, match="thing_id"):
        with db.transaction() as tx:
            things.upsert(tx, at=T0, city_id=city_id, status="x")
    with pytest.raises(ValueError, match="nope"):
        ReadModel(facts, key=("city_id", "thing_id"), keep_known=("nope",))


def test_profiles_follow_the_newest_fact(db, city_id):
    user = uuid.uuid4()
    for at, year in [(T0 + timedelta(days=1), 1980), (T0, 1990)]:
        with db.transaction() as tx:
            demographic_profiles.upsert_profile(profiles, tx, city_id, user, birth_year=year, gender=None,
                                                district="north", at=at)
    with db.read() as s:
        assert demographic_profiles.get_profiles(profiles, s, city_id, [user]) == {
            str(user): {"birth_year": 1980, "gender": None, "district": "north"}}
