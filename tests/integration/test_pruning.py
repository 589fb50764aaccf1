"""Bounded tables: published outbox rows and processed event ids older than the window go, in batches;
recent ones, and unpublished rows whatever their age, stay; an event redelivered within the window is
still recognised."""
import uuid

import pytest
from sqlalchemy import text

from services.common import metrics, pruning
from services.common.db import Db, engine

SCHEMA = "voting"
WINDOW = 3600.0  # seconds


@pytest.fixture
def eng(environment):
    return engine(environment.database_url)


def _outbox(conn, n, *, age_s: float, published: bool) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(n)]
    conn.execute(text(
        f"INSERT INTO {SCHEMA}.outbox (event_id, type, payload, created_at, published_at) "
        "SELECT e, 'voting.vote_cast', '{}'::jsonb, now() - make_interval(secs => :age), "
        "CASE WHEN :published THEN now() - make_interval(secs => :age) END FROM unnest(CAST(:ids AS uuid[])) e"),
        {"ids": ids, "age": age_s, "published": published})
    return ids


def _processed(conn, consumer, n, *, age_s: float) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(n)]
    conn.execute(text(
        f"INSERT INTO {SCHEMA}.processed_events (consumer, event_id, processed_at) "
        "SELECT :c, e, now() - make_interval(secs => :age) FROM unnest(CAST(:ids AS uuid[])) e"),
        {"c": consumer, "ids": ids, "age": age_s})
    return ids


def _present(conn, table, column, ids) -> int:
    return conn.execute(text(f"SELECT count(*) FROM {SCHEMA}.{table} WHERE {column} = ANY(CAST(:ids AS uuid[]))"),
                        {"ids": ids}).scalar()


def test_old_rows_go_in_batches_recent_and_unpublished_stay(eng):
    consumer = f"pruning-test-{uuid.uuid4().hex[:6]}"
    with eng.begin() as conn:
        old_sent = _outbox(conn, 23, age_s=WINDOW * 2, published=True)
        recent_sent = _outbox(conn, 5, age_s=WINDOW / 2, published=True)
        old_pending = _outbox(conn, 4, age_s=WINDOW * 2, published=False)
        old_seen = _processed(conn, consumer, 31, age_s=WINDOW * 2)
        recent_seen = _processed(conn, consumer, 6, age_s=WINDOW / 2)

    deleted = pruning.prune(eng, SCHEMA, older_than_seconds=WINDOW, batch=10)

    assert deleted["outbox"] >= 23 and deleted["processed_events"] >= 31  # three batches and four of 10
    with eng.connect() as conn:
        assert _present(conn, "outbox", "event_id", old_sent) == 0
        assert _present(conn, "outbox", "event_id", recent_sent) == 5
        assert _present(conn, "outbox", "event_id", old_pending) == 4  # never published: never pruned
        assert _present(conn, "processed_events", "event_id", old_seen) == 0
        assert _present(conn, "processed_events", "event_id", recent_seen) == 6

    # an event redelivered within the window is still recognised as applied
    from sqlalchemy.orm import sessionmaker

    db = Db(sessionmaker(bind=eng), SCHEMA)
    with db.transaction() as tx:
        assert tx.first_times([uuid.UUID(recent_seen[0])], consumer) == set()
        assert tx.first_times([uuid.UUID(old_seen[0])], consumer) == {uuid.UUID(old_seen[0])}


def test_table_rows_are_counted_and_exported(eng):
    with eng.begin() as conn:
        _outbox(conn, 3, age_s=0, published=False)
    rows = pruning.table_rows(eng, SCHEMA)
    with eng.connect() as conn:
        assert rows["outbox"] == conn.execute(text(f"SELECT count(*) FROM {SCHEMA}.outbox")).scalar() >= 3
    sample = metrics.TABLE_ROWS.labels(SCHEMA, "outbox")._value.get()
    assert sample == rows["outbox"]
    from prometheus_client import generate_latest

    assert f'agora_table_rows{{schema="{SCHEMA}",table="outbox"}}'.encode() in generate_latest()
