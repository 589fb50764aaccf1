"""The outbox relay and idempotent handlers on the real RabbitMQ and PostgreSQL, in-process containers."""
import uuid

import pytest
from kombu import Connection, Queue
from nameko.events import get_event_exchange
from nameko.testing.services import entrypoint_hook, entrypoint_waiter
from sqlalchemy import Column, Integer, Table, Text, func, select, text

from services.common.db import Database, engine
from services.common.entrypoints import on_event, on_events, rpc
from services.common.errors import Conflict
from services.common.events import new_event
from services.common.observability import Observability
from services.common.outbox import OutboxRelay
from services.common.tables import service_metadata
from support import eventually

metadata = service_metadata("kit_test")
things = Table("things", metadata, Column("id", Integer, primary_key=True), Column("name", Text))
applied = Table("applied", metadata, Column("id", Integer, primary_key=True, autoincrement=True), Column("note", Text))


class Producer:
    name = "kitproducer"
    db = Database(metadata)
    outbox = OutboxRelay(metadata)
    obs = Observability()

    @rpc
    def make(self, name, fail=False):
        with self.db.transaction() as tx:
            tx.execute(things.insert().values(name=name))
            tx.emit("kitproducer.thing_made", data={"name": name})
            if fail:
                raise ValueError("rolled back with its event")
        return name


class Consumer:
    name = "kitconsumer"
    db = Database(metadata)
    obs = Observability()
    failures_left = {"n": 0}

    @on_event("kitproducer", "thing_made")
    def on_thing(self, tx, event):
        if Consumer.failures_left["n"] > 0:
            Consumer.failures_left["n"] -= 1
            raise RuntimeError("transient")
        tx.execute(applied.insert().values(note=event.data["name"]))


@pytest.fixture(scope="module")
def tables(environment):
    eng = engine()
    with eng.begin() as conn:
        conn.execute(text('CREATE SCHEMA IF NOT EXISTS "kit_test"'))
    metadata.create_all(eng)
    yield eng


@pytest.fixture
def bus(environment):
    """A plain kombu subscriber on the producer's exchange, like a back-office system's."""
    conn = Connection(environment.amqp_uri)
    exchange = get_event_exchange("kitproducer", {})
    queue = Queue(f"backoffice-{uuid.uuid4().hex[:6]}", exchange=exchange, routing_key="#", auto_delete=True)
    received = []
    consumer = conn.Consumer([queue], callbacks=[lambda body, msg: (received.append(body), msg.ack())], accept=["json"])
    consumer.consume()

    def drain():
        try:
            conn.drain_events(timeout=0.2)
        except Exception:
            pass
        return received

    yield drain
    consumer.cancel()
    conn.release()


def _count(eng, table, where=None):
    with eng.connect() as conn:
        q = select(func.count()).select_from(table)
        return conn.execute(q.where(where) if where is not None else q).scalar()


def test_committed_events_are_published_and_rolled_back_ones_are_not(tables, bus, container_factory, rabbit_config):
    container = container_factory(Producer, rabbit_config)
    container.start()
    with entrypoint_hook(container, "make") as make:
        make("kept")
        with pytest.raises(ValueError):
            make("dropped", fail=True)
    got = eventually(lambda: [e for e in bus() if e["data"]["name"] == "kept"])
    envelope = got[0]
    assert envelope["type"] == "kitproducer.thing_made" and uuid.UUID(envelope["event_id"])
    assert not [e for e in bus() if e["data"]["name"] == "dropped"]
    assert _count(tables, things, things.c.name == "dropped") == 0
    eventually(lambda: _count(tables, metadata.tables["kit_test.outbox"],
                              metadata.tables["kit_test.outbox"].c.published_at.is_(None)) == 0)


def test_events_written_while_no_relay_ran_are_published_on_start(tables, bus, container_factory, rabbit_config):
    # A process that committed and died before publishing leaves an unpublished outbox row.
    env = new_event("kitproducer.thing_made", data={"name": "orphan"})
    with tables.begin() as conn:
        conn.execute(text("INSERT INTO kit_test.outbox (event_id, type, payload) VALUES (:i, :t, CAST(:p AS jsonb))"),
                     {"i": str(env.event_id), "t": env.type, "p": env.model_dump_json()})
    container = container_factory(Producer, rabbit_config)
    container.start()
    got = eventually(lambda: [e for e in bus() if e["data"]["name"] == "orphan"])
    assert got[0]["event_id"] == str(env.event_id)


def _publish(amqp_uri, envelope: dict):
    with Connection(amqp_uri) as conn:
        exchange = get_event_exchange("kitproducer", {})
        conn.Producer(serializer="json").publish(envelope, exchange=exchange, routing_key="thing_made",
                                                 declare=[exchange])


def test_a_redelivered_event_is_applied_once(tables, container_factory, rabbit_config, environment):
    container = container_factory(Consumer, rabbit_config)
    container.start()
    envelope = new_event("kitproducer.thing_made", data={"name": "once"}).model_dump(mode="json")
    for _ in range(2):
        with entrypoint_waiter(container, "on_thing"):
            _publish(environment.amqp_uri, envelope)
    assert _count(tables, applied, applied.c.note == "once") == 1


def test_a_malformed_event_is_dropped_and_the_next_one_applied(tables, container_factory, rabbit_config, environment):
    container = container_factory(Consumer, rabbit_config)
    container.start()
    with entrypoint_waiter(container, "on_thing"):
        _publish(environment.amqp_uri, {"not": "an envelope"})
    good = new_event("kitproducer.thing_made", data={"name": "after-garbage"}).model_dump(mode="json")
    with entrypoint_waiter(container, "on_thing"):
        _publish(environment.amqp_uri, good)
    assert _count(tables, applied, applied.c.note == "after-garbage") == 1


def test_a_failing_handler_is_retried_until_it_applies(tables, container_factory, rabbit_config, environment):
    import services.common.event_batches as event_batches

    event_batches.REQUEUE_PAUSE_SECONDS = 0.05
    Consumer.failures_left["n"] = 2
    container = container_factory(Consumer, rabbit_config)
    container.start()
    _publish(environment.amqp_uri, new_event("kitproducer.thing_made", data={"name": "retried"}).model_dump(mode="json"))
    eventually(lambda: _count(tables, applied, applied.c.note == "retried") == 1, timeout=10)
    assert Consumer.failures_left["n"] == 0


class BatchConsumer:
    name = "kitbatches"
    db = Database(metadata)
    obs = Observability()
    batches: list[int] = []

    @on_events("kitproducer", "thing_made")
    def on_things(self, tx, events):
        BatchConsumer.batches.append(len(events))
        for event in events:
            tx.execute(applied.insert().values(note=event.data["name"]))
            if event.data["name"] == "refused":
                raise Conflict("This thing is refused.")


def test_events_waiting_together_are_applied_in_batches_each_once(tables, container_factory, rabbit_config,
                                                                   environment):
    # the queue exists before the events arrive, as it does for a consumer that was stopped for a while
    with Connection(environment.amqp_uri) as conn:
        exchange = get_event_exchange("kitproducer", {})
        Queue("evt-kitproducer-thing_made--kitbatches.on_things", exchange=exchange, routing_key="thing_made",
              durable=True)(conn.default_channel).declare()
    run = uuid.uuid4().hex[:6]
    events = [new_event("kitproducer.thing_made", data={"name": f"{run}-{n}"}).model_dump(mode="json")
              for n in range(40)]
    refused = new_event("kitproducer.thing_made", data={"name": "refused"}).model_dump(mode="json")
    for envelope in [*events[:20], refused, events[5], {"not": "an envelope"}, *events[20:]]:
        _publish(environment.amqp_uri, envelope)
    BatchConsumer.batches.clear()
    container = container_factory(BatchConsumer, rabbit_config)
    container.start()

    def mine():
        return _count(tables, applied, applied.c.note.like(f"{run}-%"))

    eventually(lambda: mine() == 40, timeout=15)
    assert max(BatchConsumer.batches) > 1  # several events to one worker and one transaction
    assert _count(tables, applied, applied.c.note == f"{run}-5") == 1  # the redelivered one applied once
    assert _count(tables, applied, applied.c.note == "refused") == 0  # refused alone, and dropped
    with Connection(environment.amqp_uri) as conn:
        _, waiting, _ = conn.default_channel.queue_declare(
            "evt-kitproducer-thing_made--kitbatches.on_things", passive=True)
    assert waiting == 0
