"""Transactional outbox: events are written with the change that caused them and published after.

`add` inserts the envelope in the caller's transaction. The `OutboxRelay` of each service process
publishes pending rows on the service's event exchange with publisher confirms and marks them sent: a
batch is published at once and its confirms awaited together (one round trip per batch, not per event),
and the rows are marked only when the broker has confirmed every message of the batch.
Rows are claimed with FOR UPDATE SKIP LOCKED, so several replicas can relay side by side, and a crash
between publishing and marking only republishes (consumers are idempotent), never loses.
"""
from __future__ import annotations

import eventlet
from amqp import spec
from eventlet.event import Event
from kombu import Connection
from kombu.messaging import Producer
from nameko.constants import PERSISTENT
from nameko.events import get_event_exchange
from nameko.extensions import DependencyProvider
from sqlalchemy import text

from services.common import logs, metrics
from services.common.config import settings
from services.common.events import Envelope

BATCH = 500
POLL_SECONDS = 1.0
CONFIRM_TIMEOUT_SECONDS = 10.0
MAX_BACKOFF_SECONDS = 5.0
_wakers: dict[str, list[Event]] = {}


def add(session, schema: str, envelope: Envelope) -> None:
    session.execute(
        text(f'INSERT INTO "{schema}".outbox (event_id, type, payload) VALUES (:id, :type, CAST(:payload AS jsonb))'),
        {"id": str(envelope.event_id), "type": envelope.type, "payload": envelope.model_dump_json()},
    )


def wake(schema: str) -> None:
    for event in _wakers.get(schema, []):
        if not event.ready():
            event.send(True)


class BrokerNacked(Exception):
    pass


class Confirms:
    """Publisher confirms on one channel, awaited for a whole batch instead of message by message."""

    def __init__(self, channel):
        self.channel = channel
        self.sent = 0
        self.pending: set[int] = set()
        self.nacked = False
        channel.confirm_select()
        channel.events["basic_ack"].add(self._ack)
        channel.events["basic_nack"].add(self._nack)

    def published(self) -> None:
        self.sent += 1
        self.pending.add(self.sent)

    def _settle(self, tag: int, multiple: bool) -> None:
        if multiple:
            self.pending = {t for t in self.pending if t > tag}
        else:
            self.pending.discard(tag)

    def _ack(self, delivery_tag, multiple):
        self._settle(delivery_tag, multiple)

    def _nack(self, delivery_tag, multiple):
        self.nacked = True
        self._settle(delivery_tag, multiple)

    def wait(self, timeout: float = CONFIRM_TIMEOUT_SECONDS) -> None:
        """Until the broker has confirmed everything published; raises if it refused any of it."""
        import time

        deadline = time.monotonic() + timeout
        while self.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{len(self.pending)} publishes not confirmed in {timeout}s")
            self.channel.wait([spec.Basic.Ack, spec.Basic.Nack], timeout=remaining)
        if self.nacked:
            self.nacked = False
            raise BrokerNacked("the broker refused a message of the batch")


class OutboxRelay(DependencyProvider):
    """Publishes the service's outbox; declared once on each service class."""

    def __init__(self, metadata):
        self.schema = metadata.schema
        self._thread = None
        self._running = False

    def setup(self):
        from services.common.db import engine

        self.engine = engine()
        self.service_name = self.container.service_name
        self.amqp_uri = self.container.config.get("AMQP_URI") or settings().amqp_uri
        self.exchange = get_event_exchange(self.service_name, self.container.config)
        self.log = logs.get(service=self.service_name, component="outbox")

    def start(self):
        self._running = True
        self._event = Event()
        _wakers.setdefault(self.schema, []).append(self._event)
        self._thread = self.container.spawn_managed_thread(self._run)

    def stop(self):
        """Finish the batch in flight, then stop."""
        self._running = False
        if self._event in _wakers.get(self.schema, []):
            _wakers[self.schema].remove(self._event)
        if not self._event.ready():
            self._event.send(False)
        if self._thread is not None:
            with eventlet.Timeout(10, False):
                self._thread.wait()
            self._thread.kill()

    def kill(self):
        self._running = False
        if self._thread is not None:
            self._thread.kill()

    def _run(self):
        connection = None
        backoff = 0.5
        while self._running:
            try:
                if connection is None:
                    connection = Connection(self.amqp_uri)
                    connection.ensure_connection(max_retries=1)
                    channel = connection.default_channel
                    self.exchange(channel).declare()
                    confirms = Confirms(channel)
                    producer = Producer(channel, exchange=self.exchange, serializer="json")
                sent = self.relay_batch(producer, confirms)
                backoff = 0.5
                if sent >= BATCH:
                    continue
            except Exception as exc:  # broker or database away: keep the rows, retry
                self.log.warning("outbox_relay_failed", error=str(exc), retry_in=backoff)
                if connection is not None:
                    try:
                        connection.release()
                    except Exception:
                        pass
                connection = None
                eventlet.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            with eventlet.Timeout(POLL_SECONDS, False):
                self._event.wait()
            if self._event.ready():
                self._event.reset()
        if connection is not None:
            connection.release()

    def relay_batch(self, producer, confirms: Confirms) -> int:
        with self.engine.begin() as conn:
            rows = conn.execute(
                text(
                    f'SELECT id, type, payload FROM "{self.schema}".outbox WHERE published_at IS NULL '
                    "ORDER BY id LIMIT :n FOR UPDATE SKIP LOCKED"
                ),
                {"n": BATCH},
            ).all()
            for row in rows:
                routing_key = row.type.split(".", 1)[1]
                producer.publish(
                    row.payload,
                    routing_key=routing_key,
                    delivery_mode=PERSISTENT,
                    headers={"event_id": row.payload["event_id"]},
                    retry=False,
                )
                confirms.published()
            confirms.wait()  # every message of the batch is safe with the broker before the rows are marked
            if rows:
                conn.execute(
                    text(f'UPDATE "{self.schema}".outbox SET published_at = now() WHERE id = ANY(:ids)'),
                    {"ids": [r.id for r in rows]},
                )
                metrics.OUTBOX_PUBLISHED.labels(self.service_name).inc(len(rows))
            pending = conn.execute(
                text(f'SELECT count(*) FROM "{self.schema}".outbox WHERE published_at IS NULL')
            ).scalar()
            metrics.OUTBOX_PENDING.labels(self.service_name).set(pending)
        return len(rows)
