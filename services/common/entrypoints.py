"""Entrypoint decorators with the platform's conventions built in.

- `rpc`: domain errors (AgoraError) are expected results, sent to the caller without an error log. When
  the database cannot be reached, the caller receives `Unavailable` (503), not an internal error.
- `on_event`: an event handler that parses the envelope, applies it at most once (the event id is
  recorded in the same transaction as the effect) and acks only after commit. A handler failing on a
  transient fault (database away) is requeued after a pause; a malformed event is logged and dropped.

The broker may vanish between a worker's work and its answer (a restart, a network cut). Nameko would
then let the failed ack or reply kill the whole service container; here it is logged instead: the
unacknowledged message comes back when the consumer has reconnected, and applying it again changes
nothing (events are recorded by id; a repeated vote is a no-op; an RPC request the caller gave up on
expires in its queue).
"""
from __future__ import annotations

import functools
from datetime import datetime, timezone

import eventlet
from amqp.exceptions import AMQPError
from kombu.exceptions import KombuError
from nameko.events import EventHandler as NamekoEventHandler
from nameko.rpc import Rpc as NamekoRpc
from pydantic import ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from services.common import logs, metrics
from services.common.db import unavailable
from services.common.errors import AgoraError, Unavailable
from services.common.events import Envelope

REQUEUE_PAUSE_SECONDS = 1.0
BROKER_ERRORS = (OSError, AMQPError, KombuError)


class Rpc(NamekoRpc):
    """Nameko's RPC entrypoint, answering `Unavailable` when the database is away (the request may be
    retried: its transaction did not commit)."""

    def handle_result(self, message, worker_ctx, result, exc_info):
        if exc_info is not None and unavailable(exc_info[1]):
            exc = Unavailable("The service cannot reach its database; try again shortly.")
            exc_info = (Unavailable, exc, exc_info[2])
        try:
            return super().handle_result(message, worker_ctx, result, exc_info)
        except BROKER_ERRORS as exc:
            logs.get().warning("rpc_reply_lost", error=repr(exc), entrypoint=self.method_name)
            return result, exc_info


class EventHandler(NamekoEventHandler):
    """Nameko's event handler, surviving a broker that went away before the message was acked."""

    def handle_result(self, message, worker_ctx, result=None, exc_info=None):
        try:
            return super().handle_result(message, worker_ctx, result, exc_info)
        except BROKER_ERRORS as exc:
            logs.get().warning("event_ack_lost", error=repr(exc), entrypoint=self.method_name)
            return result, exc_info


def rpc(fn=None, **kwargs):
    # database outages are expected too: logged as warnings, not as a traceback per request
    kwargs.setdefault("expected_exceptions", (AgoraError, OperationalError, InterfaceError, PoolTimeout))
    if fn is None:
        return Rpc.decorator(**kwargs)
    return Rpc.decorator(**kwargs)(fn)


def on_event(source_service: str, event_name: str):
    """Handle `<source_service>.<event_name>` once per event: `fn(self, tx, envelope)`."""

    def decorate(fn):
        @functools.wraps(fn)
        def handler(self, payload):
            log = logs.get()
            try:
                envelope = Envelope.model_validate(payload)
            except ValidationError as exc:
                log.error("event_malformed", source=source_service, event_name=event_name, errors=exc.error_count())
                return None
            logs.bind(event_id=str(envelope.event_id), city_id=str(envelope.city_id) if envelope.city_id else None)
            consumer = f"{self.name}.{fn.__name__}"
            try:
                with self.db.transaction() as tx:
                    if not tx.first_time(envelope.event_id, consumer):
                        metrics.EVENTS_DUPLICATE.labels(self.name, envelope.type).inc()
                        log.info("event_duplicate", type=envelope.type)
                        return None
                    result = fn(self, tx, envelope)
            except AgoraError as exc:
                log.warning("event_rejected", type=envelope.type, code=exc.code, reason=exc.message)
                return None
            except Exception:
                log.exception("event_failed_will_retry", type=envelope.type)
                eventlet.sleep(REQUEUE_PAUSE_SECONDS)
                raise
            lag = (datetime.now(timezone.utc) - envelope.occurred_at).total_seconds()
            metrics.EVENT_LAG_SECONDS.labels(self.name, envelope.type).observe(max(lag, 0.0))
            return result

        return EventHandler.decorator(source_service, event_name, requeue_on_error=True)(handler)

    return decorate
