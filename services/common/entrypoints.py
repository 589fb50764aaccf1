"""Entrypoint decorators with the platform's conventions built in.

- `rpc`: domain errors (AgoraError) are expected results, sent to the caller without an error log.
- `on_event`: an event handler that parses the envelope, applies it at most once (the event id is
  recorded in the same transaction as the effect) and acks only after commit. A handler failing on a
  transient fault (database away) is requeued after a pause; a malformed event is logged and dropped.
"""
from __future__ import annotations

import functools
from datetime import datetime, timezone

import eventlet
from nameko.events import event_handler
from nameko.rpc import rpc as nameko_rpc
from pydantic import ValidationError

from services.common import logs, metrics
from services.common.errors import AgoraError
from services.common.events import Envelope

REQUEUE_PAUSE_SECONDS = 1.0


def rpc(fn=None, **kwargs):
    kwargs.setdefault("expected_exceptions", AgoraError)
    if fn is None:
        return nameko_rpc(**kwargs)
    return nameko_rpc(**kwargs)(fn)


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

        return event_handler(source_service, event_name, requeue_on_error=True)(handler)

    return decorate
