"""Quorum queues on the real RabbitMQ: declared as such, a poison event given up after the delivery limit
(with a log, not a loop), and a classic queue of an existing deployment upgraded with its messages."""
import json
import uuid

import pytest
from amqp.exceptions import PreconditionFailed
from kombu import Connection, Exchange, Queue
from sqlalchemy import text
from nameko.events import get_event_exchange

from services.common import metrics, queues
from services.common.config import reset_settings
from services.common.db import Database, engine
from services.common.entrypoints import on_event
from services.common.events import new_event
from services.common.observability import Observability
from services.common.tables import service_metadata
from support import eventually

metadata = service_metadata("kit_queues")
POISON_QUEUE = "evt-kitpoison-thing_made--kitpoisoned.on_thing"


class Poisoned:
    name = "kitpoisoned"
    db = Database(metadata)
    obs = Observability()
    deliveries: list[str] = []

    @on_event("kitpoison", "thing_made")
    def on_thing(self, tx, event):
        Poisoned.deliveries.append(str(event.event_id))
        raise RuntimeError("this event always fails")


def _declared_as(amqp_uri: str, name: str, arguments: dict) -> bool:
    """Whether `name` accepts a declaration with `arguments` (RabbitMQ refuses another queue type)."""
    with Connection(amqp_uri) as conn:
        try:
            Queue(name, durable=True, queue_arguments=arguments)(conn.channel()).declare()
            return True
        except PreconditionFailed:
            return False


def _depth(amqp_uri: str, name: str) -> int:
    with Connection(amqp_uri) as conn:
        return conn.channel().queue_declare(name, passive=True).message_count


@pytest.fixture
def tables(environment):
    eng = engine()
    with eng.begin() as conn:
        conn.execute(text('CREATE SCHEMA IF NOT EXISTS "kit_queues"'))
    metadata.create_all(eng)
    return eng


@pytest.fixture
def delivery_limit(monkeypatch):
    monkeypatch.setenv("QUEUE_DELIVERY_LIMIT", "3")
    reset_settings()
    yield 3
    monkeypatch.delenv("QUEUE_DELIVERY_LIMIT")
    reset_settings()


def test_a_poison_event_is_given_up_after_the_delivery_limit(tables, delivery_limit, container_factory, rabbit_config,
                                                             environment):
    import services.common.event_batches as event_batches

    event_batches.REQUEUE_PAUSE_SECONDS = 0.05
    Poisoned.deliveries.clear()
    container = container_factory(Poisoned, rabbit_config)
    container.start()
    assert _declared_as(environment.amqp_uri, POISON_QUEUE, queues.arguments())  # a quorum queue
    assert not _declared_as(environment.amqp_uri, POISON_QUEUE, {"x-queue-type": "classic"})

    event = new_event("kitpoison.thing_made", data={"name": "poison"})
    with Connection(environment.amqp_uri) as conn:
        exchange = get_event_exchange("kitpoison", {})
        conn.Producer(serializer="json").publish(event.model_dump(mode="json"), exchange=exchange,
                                                 routing_key="thing_made", declare=[exchange],
                                                 headers={"event_id": str(event.event_id)})
    eventually(lambda: len(Poisoned.deliveries) >= delivery_limit and _depth(environment.amqp_uri, POISON_QUEUE) == 0,
               timeout=15)
    container.stop()
    # delivered as many times as the limit allows, then acked with an error log naming it: no loop
    assert Poisoned.deliveries == [str(event.event_id)] * delivery_limit
    assert metrics.EVENTS_GIVEN_UP.labels("kitpoisoned", "on_thing")._value.get() == 1


def test_a_classic_queue_is_upgraded_to_quorum_with_its_messages(environment):
    name = f"evt-kitlegacy-{uuid.uuid4().hex[:6]}--kitconsumer.on_legacy"
    exchange = Exchange("kitlegacy.events", type="topic", durable=True)
    with Connection(environment.amqp_uri) as conn:
        Queue(name, exchange=exchange, routing_key="legacy", durable=True)(conn.channel()).declare()  # classic
        producer = conn.Producer(serializer="json")
        for n in range(25):
            producer.publish({"n": n}, exchange=exchange, routing_key="legacy")
    queue = queues.durable_queue(name, exchange=exchange, routing_key="legacy")

    assert queues.ensure_quorum(environment.amqp_uri, queue) is True
    assert queues.ensure_quorum(environment.amqp_uri, queue) is False  # once upgraded, a plain declare

    assert _declared_as(environment.amqp_uri, name, queues.arguments())
    received = []
    with Connection(environment.amqp_uri) as conn:
        conn.Producer(serializer="json").publish({"n": 25}, exchange=exchange, routing_key="legacy")  # still bound
        channel = conn.channel()
        while (message := channel.basic_get(name, no_ack=True)) is not None:
            received.append(message.body)
        with pytest.raises(Exception):  # the side queue is gone
            conn.channel().queue_declare(f"{name}.upgrade", passive=True)
        conn.channel().queue_delete(name)
    assert sorted(json.loads(b)["n"] for b in received) == list(range(26))  # none lost on the way
