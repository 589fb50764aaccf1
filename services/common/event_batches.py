"""Event handlers that apply the messages which arrived together in one worker and one transaction.

Nameko runs one worker per message: a worker, a transaction, a commit and an ack for every event. Under
a stream of votes that per-message cost is most of a consumer's work. Here each handler's queue is
consumed as before (the same queue names, one durable queue per handler, shared by all replicas), but the
messages that are waiting when a worker is free go to one worker as a batch:

- the envelopes are parsed (a malformed one is logged and dropped), the event ids recorded in one
  statement (a redelivered event is skipped), the handler applied to the new events, one commit, then
  every message of the batch is acked;
- at most one batch of a queue is in flight per process, so a batch is as large as what arrived while
  the previous one ran (up to the prefetch): no waiting to fill a batch, no added latency when idle;
- when a batch fails, nothing of it was committed and each event is applied again alone, in its own
  transaction, with the rules of a single event: a rejected event (AgoraError) is dropped, a failing
  one goes back to the queue after a pause (the batches after it go on meanwhile), so one bad event
  never holds back the others. When the database is away, the rest of the batch is kept unapplied and
  tried again after the pause, without going back to the queue: an outage is not the events' fault and
  does not use up their deliveries;
- the queues are quorum queues that count deliveries (services/common/queues.py): an event that failed
  on its last delivery but one is logged (`event_given_up`, with its id) and acked instead of returned,
  so a poison message neither loops for ever nor vanishes silently.

Stopping follows nameko's order (entrypoints, then workers, then dependencies): once a handler is asked
to stop it starts no batch, lets the batch in flight finish and settle, and only then gives up its
consumer. What it had put aside stays unacknowledged and goes back to the queue with the channel. A
batch started later would run after the service's dependencies had stopped, fail in its setup and kill
the container in the middle of its stop, and the runner would then stop every other container a second
time (timers stopped twice, consumers cancelled twice: the shutdown never ended).
"""
from __future__ import annotations

from datetime import datetime, timezone
from functools import partial

import eventlet
from amqp.exceptions import AMQPError
from eventlet.event import Event
from kombu.exceptions import KombuError
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.containers import ContainerBeingKilled
from nameko.events import EventHandler as NamekoEventHandler
from nameko.events import get_event_exchange
from nameko.messaging import QueueConsumer
from pydantic import ValidationError

from services.common import logs, metrics, queues
from services.common.config import settings
from services.common.db import unavailable
from services.common.errors import AgoraError
from services.common.events import Envelope

DEFAULT_PREFETCH = 200
REQUEUE_PAUSE_SECONDS = 1.0
BROKER_ERRORS = (OSError, AMQPError, KombuError)


class EventQueueConsumer(QueueConsumer):
    """The event handlers' own consumer connection (RPC keeps nameko's), with a prefetch sized for
    batches (`EVENT_PREFETCH`, default 200 per handler) and no greenthread per message: a message is
    only put aside for its handler's next batch."""

    @property
    def prefetch_count(self):
        return int(self.container.config.get("EVENT_PREFETCH", DEFAULT_PREFETCH))

    def handle_message(self, provider, body, message):
        provider.handle_message(body, message)


class BatchEventHandler(NamekoEventHandler):
    """Consumes `evt-<source>-<event>--<service>.<method>` and hands its waiting messages to one worker."""

    queue_consumer = EventQueueConsumer()

    def __init__(self, source_service, event_type, **kwargs):
        super().__init__(source_service, event_type, requeue_on_error=True, **kwargs)
        self._waiting: list = []
        self._flushing = None  # the greenthread applying batches, while there are any
        self._stopping = False

    def setup(self):
        service_name = self.container.service_name
        self.queue = queues.durable_queue(
            f"evt-{self.source_service}-{self.event_type}--{service_name}.{self.method_name}",
            exchange=get_event_exchange(self.source_service, self.container.config),
            routing_key=self.event_type,
        )
        queues.ensure_quorum(self.container.config[AMQP_URI_CONFIG_KEY], self.queue)
        self.queue_consumer.register_provider(self)

    def stop(self):
        self._stopping = True
        self._waiting = []  # unacked: the broker gives them to another consumer, or to this one restarted
        if self._flushing is not None:
            self._flushing.wait()
        super().stop()

    def handle_message(self, body, message):
        if self._stopping:
            return
        self._waiting.append((body, message))
        if self._flushing is None:
            self._flushing = self.container.spawn_managed_thread(self._flush, identifier=f"{self.method_name}.batches")

    def _flush(self):
        try:
            while self._waiting and not self._stopping:
                batch, self._waiting = self._waiting, []
                done = Event()
                try:
                    self.container.spawn_worker(
                        self, ([body for body, _ in batch],), {},
                        handle_result=partial(self._batch_done, batch, done),
                    )
                except ContainerBeingKilled:
                    for _, message in batch:
                        self.queue_consumer.requeue_message(message)
                    return
                done.wait()
        finally:
            self._flushing = None

    def _batch_done(self, batch, done, worker_ctx, result=None, exc_info=None):
        try:
            acks = result if exc_info is None and isinstance(result, list) else [False] * len(batch)
            self._settle(self.queue_consumer.ack_message, [m for (_, m), ack in zip(batch, acks) if ack])
            failed = [m for (_, m), ack in zip(batch, acks) if ack is False]
            given_up = [m for m in failed if delivery_count(m) >= settings().queue_delivery_limit - 1]
            for message in given_up:
                logs.get().error("event_given_up", entrypoint=self.method_name, deliveries=delivery_count(message) + 1,
                                 event_id=(message.headers or {}).get("event_id"))
                metrics.EVENTS_GIVEN_UP.labels(self.container.service_name, self.method_name).inc()
            self._settle(self.queue_consumer.ack_message, given_up)
            failed = [m for m in failed if m not in given_up]
            if failed:  # back to the queue after a pause, while the batches after this one go on
                eventlet.spawn_after(REQUEUE_PAUSE_SECONDS, self._settle, self.queue_consumer.requeue_message, failed)
            kept = [pair for pair, ack in zip(batch, acks) if ack is None]
            if kept:  # the database was away: the same messages again after the pause
                eventlet.spawn_after(REQUEUE_PAUSE_SECONDS, self._retry, kept)
        finally:
            done.send(None)
        return result, exc_info

    def _retry(self, pairs) -> None:
        for body, message in pairs:
            self.handle_message(body, message)

    def _settle(self, settle, messages) -> None:
        for message in messages:
            try:
                settle(message)
            except BROKER_ERRORS as exc:  # the broker went away; it redelivers what was not acked
                logs.get().warning("event_ack_lost", error=repr(exc), entrypoint=self.method_name)
                return


def delivery_count(message) -> int:
    """How many times the broker delivered `message` before (a quorum queue's x-delivery-count)."""
    return int((message.headers or {}).get("x-delivery-count") or 0)


def parse(payloads: list, source: str, event_name: str) -> list[Envelope | None]:
    out = []
    for payload in payloads:
        try:
            out.append(Envelope.model_validate(payload))
        except ValidationError as exc:
            logs.get().error("event_malformed", source=source, event_name=event_name, errors=exc.error_count())
            out.append(None)
    return out


def apply(service, payloads: list, fn, *, source: str, event_name: str, one_by_one: bool) -> list[bool]:
    """Apply the events of `payloads` in one transaction; returns, per message, True to ack it, False to
    requeue it (it failed), None to try it again later (the database was away). `fn(service, tx, envelope)` when `one_by_one`, else `fn(service, tx, [envelopes])`."""
    envelopes = parse(payloads, source, event_name)
    valid = [e for e in envelopes if e is not None]
    consumer = f"{service.name}.{fn.__name__}"
    metrics.EVENT_BATCH_SIZE.labels(service.name, fn.__name__).observe(len(payloads))
    if not valid:
        return [True] * len(payloads)
    if len(valid) > 1:
        try:
            _in_one_transaction(service, valid, fn, consumer, one_by_one)
            return [True] * len(payloads)
        except AgoraError:
            pass  # one of them is refused: find which, alone
        except Exception as exc:
            logs.get().info("event_batch_retried_alone", events=len(valid), error=type(exc).__name__)
    acks, requeue_rest = [], False
    for envelope in envelopes:
        if envelope is None:
            acks.append(True)
        elif requeue_rest:
            acks.append(None)
        else:
            ok, database_away = _alone(service, envelope, fn, consumer, one_by_one)
            acks.append(None if database_away else ok)
            requeue_rest = database_away
    return acks


def _in_one_transaction(service, envelopes: list[Envelope], fn, consumer: str, one_by_one: bool) -> None:
    with service.db.transaction() as tx:
        fresh_ids = tx.first_times([e.event_id for e in envelopes], consumer)
        fresh, seen = [], set()
        for envelope in envelopes:
            if envelope.event_id in fresh_ids and envelope.event_id not in seen:
                seen.add(envelope.event_id)
                fresh.append(envelope)
            else:
                metrics.EVENTS_DUPLICATE.labels(service.name, envelope.type).inc()
                logs.get().info("event_duplicate", type=envelope.type, event_id=str(envelope.event_id))
        if one_by_one:
            for envelope in fresh:
                _bind(envelope)
                fn(service, tx, envelope)
        elif fresh:
            fn(service, tx, fresh)
    _observe_lag(service.name, fresh)


def _alone(service, envelope: Envelope, fn, consumer: str, one_by_one: bool) -> tuple[bool, bool]:
    """(acked, database away) for one event in its own transaction."""
    log = logs.get()
    _bind(envelope)
    try:
        _in_one_transaction(service, [envelope], fn, consumer, one_by_one)
        return True, False
    except AgoraError as exc:
        log.warning("event_rejected", type=envelope.type, code=exc.code, reason=exc.message)
        return True, False
    except Exception as exc:
        log.exception("event_failed_will_retry", type=envelope.type)
        return False, unavailable(exc)


def _bind(envelope: Envelope) -> None:
    logs.bind(event_id=str(envelope.event_id), city_id=str(envelope.city_id) if envelope.city_id else None)


def _observe_lag(service_name: str, envelopes: list[Envelope]) -> None:
    now = datetime.now(timezone.utc)
    for envelope in envelopes:
        lag = (now - envelope.occurred_at).total_seconds()
        metrics.EVENT_LAG_SECONDS.labels(service_name, envelope.type).observe(max(lag, 0.0))

