"""Entrypoint decorators with the platform's conventions built in.

- `rpc`: domain errors (AgoraError) are expected results, sent to the caller without an error log. When
  the database cannot be reached, the caller receives `Unavailable` (503), not an internal error.
- `on_event` / `on_events`: an event handler that parses the envelope, applies it at most once (the
  event id is recorded in the same transaction as the effect) and acks only after commit; the events
  waiting in its queue are applied as one batch. A handler failing on a transient fault (database
  away) is requeued after a pause; a malformed event is logged and dropped.

The broker may vanish between a worker's work and its answer (a restart, a network cut). Nameko would
then let the failed ack or reply kill the whole service container; here it is logged instead: the
unacknowledged message comes back when the consumer has reconnected, and applying it again changes
nothing (events are recorded by id; a repeated vote is a no-op; an RPC request the caller gave up on
expires in its queue).
"""
from __future__ import annotations

import functools
import sys

from amqp import Message
from eventlet.semaphore import Semaphore
from kombu import Connection
from kombu.utils.json import dumps
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.exceptions import UnserializableValueError, serialize
from nameko.extensions import SharedExtension
from nameko.rpc import RPC_QUEUE_TEMPLATE
from nameko.rpc import Rpc as NamekoRpc
from nameko.rpc import RpcConsumer as NamekoRpcConsumer
from nameko.rpc import get_rpc_exchange
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from services.common import event_batches, logs, queues
from services.common.db import unavailable
from services.common.errors import AgoraError, Unavailable
from services.common.event_batches import BROKER_ERRORS


class Replies(SharedExtension):
    """The replies of a service's RPC entrypoints, on one connection of their own.

    Nameko's responder takes a producer from a pool and waits for a publisher confirm for every reply.
    A reply is only useful to a caller that is still waiting on its connection, so here it is sent
    transient and unconfirmed: one write, no broker round trip. A reply lost with the broker is a
    timeout for the caller, which may retry (the work is committed or rolled back, never half-done).
    """

    def setup(self):
        self.amqp_uri = self.container.config[AMQP_URI_CONFIG_KEY]
        self.exchange = get_rpc_exchange(self.container.config).name
        self.lock = Semaphore()
        self.connection = self.channel = None

    def send(self, message, result, exc_info) -> tuple:
        error = serialize(exc_info[1]) if exc_info is not None else None
        try:
            body = dumps({"result": result, "error": error})
        except Exception:
            exc_info = sys.exc_info()
            body = dumps({"result": None, "error": serialize(UnserializableValueError(result))})
        reply = Message(body, content_type="application/json", content_encoding="utf-8", delivery_mode=1,
                        correlation_id=message.properties.get("correlation_id"))
        with self.lock:
            for attempt in (1, 2):  # a connection the broker closed since the last reply is made anew
                try:
                    if self.channel is None:
                        self.connection = Connection(self.amqp_uri, connect_timeout=3)
                        self.channel = self.connection.channel()
                    self.channel.basic_publish(reply, exchange=self.exchange,
                                               routing_key=message.properties["reply_to"])
                    break
                except BROKER_ERRORS:
                    self._close()
                    if attempt == 2:
                        raise
        return result, exc_info

    def _close(self):
        connection, self.connection, self.channel = self.connection, None, None
        if connection is not None:
            try:
                connection.release()
            except Exception:
                pass

    def stop(self):
        with self.lock:
            self._close()

    kill = stop


class RpcConsumer(NamekoRpcConsumer):
    """Nameko's consumer of `rpc-<service>`, on a quorum queue (services/common/queues.py)."""

    def setup(self):
        if self.queue is None:
            service_name = self.container.service_name
            self.queue = queues.durable_queue(RPC_QUEUE_TEMPLATE.format(service_name),
                                              exchange=get_rpc_exchange(self.container.config),
                                              routing_key=f"{service_name}.*")
            queues.ensure_quorum(self.container.config[AMQP_URI_CONFIG_KEY], self.queue)
            self.queue_consumer.register_provider(self)
            self._registered = True


class Rpc(NamekoRpc):
    """Nameko's RPC entrypoint, answering `Unavailable` when the database is away (the request may be
    retried: its transaction did not commit), its replies sent by `Replies`."""

    rpc_consumer = RpcConsumer()
    replies = Replies()

    def handle_result(self, message, worker_ctx, result, exc_info):
        if exc_info is not None and unavailable(exc_info[1]):
            exc = Unavailable("The service cannot reach its database; try again shortly.")
            exc_info = (Unavailable, exc, exc_info[2])
        try:
            result, exc_info = self.replies.send(message, result, exc_info)
            self.rpc_consumer.queue_consumer.ack_message(message)
        except BROKER_ERRORS as exc:
            logs.get().warning("rpc_reply_lost", error=repr(exc), entrypoint=self.method_name)
        return result, exc_info


def rpc(fn=None, **kwargs):
    # database outages are expected too: logged as warnings, not as a traceback per request
    kwargs.setdefault("expected_exceptions", (AgoraError, OperationalError, InterfaceError, PoolTimeout))
    if fn is None:
        return Rpc.decorator(**kwargs)
    return Rpc.decorator(**kwargs)(fn)


def on_event(source_service: str, event_name: str):
    """Handle `<source_service>.<event_name>` once per event: `fn(self, tx, envelope)`. The events that
    arrive together are applied one after the other in one transaction (services/common/event_batches.py)."""
    return _batched(source_service, event_name, one_by_one=True)


def on_events(source_service: str, event_name: str):
    """Like `on_event`, for set-based handlers: `fn(self, tx, envelopes)` receives the new events of a
    batch together, in the order they arrived (at least one)."""
    return _batched(source_service, event_name, one_by_one=False)


def _batched(source_service: str, event_name: str, one_by_one: bool):
    def decorate(fn):
        @functools.wraps(fn)
        def handler(self, payloads):
            return event_batches.apply(self, payloads, fn, source=source_service, event_name=event_name,
                                       one_by_one=one_by_one)

        return event_batches.BatchEventHandler.decorator(source_service, event_name)(handler)

    return decorate
