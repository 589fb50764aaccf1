"""Transactional outbox: events are written with the change that caused them and published after.

`add_all` inserts the envelopes of a transaction in one statement, just before it commits. The
`OutboxRelay` of each service process publishes pending rows on the service's event exchange with
publisher confirms: one statement claims a batch (marked sent, FOR UPDATE SKIP LOCKED, so several
replicas relay side by side) and returns the stored JSON as it is, the batch is published at once,
its confirms are awaited together (one round trip per batch, not per event), and only then does the
claim commit. A broker that refuses or vanishes rolls the claim back; a crash between the confirms and
the commit only republishes (consumers are idempotent), never loses.
"""
from __future__ import annotations

import functools

import eventlet
from amqp import Message, spec
from eventlet.event import Event
from kombu import Connection
from nameko.constants import PERSISTENT
from nameko.events import get_event_exchange
from nameko.extensions import DependencyProvider
from sqlalchemy import text

from services.common import logs, metrics
from services.common.config import settings
from services.common.engines import engine
from services.common.events import Envelope

BATCH = 500
POLL_SECONDS = 1.0
CONFIRM_TIMEOUT_SECONDS = 10.0
MAX_BACKOFF_SECONDS = 5.0
_wakers: dict[str, list[Event]] = {}


def add_all(tx, schema: str, envelopes: list[Envelope]) -> None:
    tx.execute(_insert(schema), {"ids": [str(e.event_id) for e in envelopes], "types": [e.type for e in envelopes],
                                 "payloads": [e.model_dump_json() for e in envelopes]})


@functools.lru_cache(maxsize=None)
def _insert(schema: str):
    return text(
        f'INSERT INTO "{schema}".outbox (event_id, type, payload) '
        "SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:types AS text[]), CAST(:payloads AS jsonb[]))"
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
        self.engine = engine()
        self.service_name = self.container.service_name
        self.amqp_uri = self.container.config.get("AMQP_URI") or settings().amqp_uri
        self.exchange = get_event_exchange(self.service_name, self.container.config)
        self.log = logs.get(service=self.service_name, component="outbox")
        # claimed in order and marked at once; the payload as stored text, published without re-encoding
        self.claim = text(
            f'UPDATE "{self.schema}".outbox SET published_at = now() WHERE id IN ('
            f'SELECT id FROM "{self.schema}".outbox WHERE published_at IS NULL ORDER BY id LIMIT :n '
            "FOR UPDATE SKIP LOCKED) RETURNING id, event_id, type, payload::text AS payload"
        )

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
                sent = self.relay_batch(channel, confirms)
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

    def relay_batch(self, channel, confirms: Confirms) -> int:
        with self.engine.begin() as conn:
            rows = conn.execute(self.claim, {"n": BATCH}).all()
            for row in sorted(rows, key=lambda r: r.id):
                channel.basic_publish(
                    Message(row.payload, content_type="application/json", content_encoding="utf-8",
                            delivery_mode=PERSISTENT, application_headers={"event_id": str(row.event_id)}),
                    exchange=self.exchange.name, routing_key=row.type.split(".", 1)[1],
                )
                confirms.published()
            confirms.wait()  # every message of the batch is safe with the broker before the claim commits
        if rows:
            metrics.OUTBOX_PUBLISHED.labels(self.service_name).inc(len(rows))
        if len(rows) < BATCH:
            metrics.OUTBOX_PENDING.labels(self.service_name).set(0)
        return len(rows)
