"""Calling services over RPC: nameko's wire format on one broker connection per process.

Nameko's RpcProxy publishes each request as a persistent message with a publisher confirm (a broker
round trip per call, to notice a service without a queue), through a producer taken from a pool. For
the gateway, which makes one or more calls for every HTTP request, that is most of its work. Here:

- one connection and channel per process: requests are published on it (a lock keeps one publish's
  frames together), and the replies arrive on it, in a reply queue of the process's own, unacked;
- requests are transient and expire in the queue when the caller stops waiting (`RPC_TIMEOUT`): a
  request lost with the broker is a 503 and a retry, like a reply lost with the broker;
- a request no queue is bound for comes back from the broker (mandatory flag) and fails at once with
  `UnknownService`: the same answer as nameko's confirm, without waiting for a confirm on every call;
- when the connection drops, every call waiting for a reply fails at once (the reply queue went with
  it) and the connection is made again in the background.

The server side is nameko's RPC entrypoint (services/common/entrypoints.py), so every service keeps
answering nameko's own RpcProxy too.
"""
from __future__ import annotations

import socket
import time
import uuid

import eventlet
import greenlet
from amqp import Message
from eventlet.event import Event
from eventlet.semaphore import Semaphore
from kombu import Connection, Queue
from kombu.utils.json import dumps, loads
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.exceptions import UnknownService, deserialize
from nameko.extensions import DependencyProvider
from nameko.rpc import RPC_REPLY_QUEUE_TEMPLATE, RPC_REPLY_QUEUE_TTL, get_rpc_exchange

from services.common import logs, metrics
from services.common.config import settings

HEARTBEAT_SECONDS = 30
RECONNECT_MAX_SECONDS = 5.0
CONNECT_WAIT_SECONDS = 1.0
BATCHES_IN_FLIGHT = 2
BATCH_MAX_ITEMS = 200


class BrokerAway(ConnectionError):
    """The broker cannot be reached: the call was not sent, or its reply cannot arrive."""


class RpcClient(DependencyProvider):
    """`self.rpc.call(service, method, *args, timeout=...)` from any worker of the declaring service."""

    def setup(self):
        config = self.container.config
        self.amqp_uri = config.get(AMQP_URI_CONFIG_KEY) or settings().amqp_uri
        self.exchange = get_rpc_exchange(config).name
        self.reply_to = str(uuid.uuid4())
        self.queue = Queue(
            RPC_REPLY_QUEUE_TEMPLATE.format(self.container.service_name, self.reply_to),
            exchange=get_rpc_exchange(config), routing_key=self.reply_to,
            queue_arguments={"x-expires": RPC_REPLY_QUEUE_TTL},
        )
        self.waiting: dict[str, Event] = {}
        self._batches: dict[tuple[str, str], _Batches] = {}
        self.channel = None
        self.lock = Semaphore()

    def start(self):
        self.running = True
        self.connected = Event()
        self.thread = self.container.spawn_managed_thread(self._run, identifier="rpc_client")
        self._wait_connected(10)

    def _wait_connected(self, seconds: float):
        if self.channel is None:
            with eventlet.Timeout(seconds, False):
                self.connected.wait()
        return self.channel

    def stop(self):
        self.running = False
        self._fail_waiting("the gateway is stopping")
        self.thread.kill()

    kill = stop

    def batches(self, service: str, method: str) -> _Batches:
        key = (service, method)
        if key not in self._batches:
            config = self.container.config
            self._batches[key] = _Batches(self, service, method,
                                          in_flight=int(config.get("RPC_BATCHES_IN_FLIGHT", BATCHES_IN_FLIGHT)),
                                          max_items=int(config.get("RPC_BATCH_MAX_ITEMS", BATCH_MAX_ITEMS)))
        return self._batches[key]

    def get_dependency(self, worker_ctx):
        headers = {f"nameko.{k}": v for k, v in worker_ctx.context_data.items() if v is not None}
        return _Caller(self, headers)

    # -- the connection ----------------------------------------------------------------------------
    def _run(self):
        backoff = 0.25
        while self.running:
            connection = None
            try:
                connection = Connection(self.amqp_uri, heartbeat=HEARTBEAT_SECONDS, connect_timeout=3)
                connection.ensure_connection(max_retries=1)
                channel = connection.channel()
                channel.events["basic_return"].add(self._returned)
                self.queue(channel).declare()
                channel.basic_consume(self.queue.name, no_ack=True, callback=self._reply)
                self.channel = channel
                logs.get().info("rpc_connected", reply_queue=self.queue.name)
                self.connected.send(True)
                backoff, checked = 0.25, time.monotonic()
                while self.running:
                    try:
                        connection.drain_events(timeout=1)
                    except socket.timeout:
                        pass
                    if time.monotonic() - checked >= 1:
                        with self.lock:  # a heartbeat is a write too
                            connection.heartbeat_check()
                        checked = time.monotonic()
            except greenlet.GreenletExit:
                raise
            except BaseException as exc:  # the broker went away (or anything else): fail what waits, connect again
                if self.running:
                    logs.get().warning("rpc_connection_lost", error=repr(exc), retry_in=backoff)
            finally:
                self.channel = None
                if self.connected.ready():
                    self.connected.reset()
                self._fail_waiting("the connection to the message bus was lost")
                if connection is not None:
                    try:
                        connection.release()
                    except Exception:
                        pass
            if self.running:
                eventlet.sleep(backoff)
                backoff = min(backoff * 2, RECONNECT_MAX_SECONDS)

    def _reply(self, message):
        event = self.waiting.pop(message.properties.get("correlation_id"), None)
        if event is not None:
            event.send(loads(message.body))

    def _returned(self, exc, exchange, routing_key, message):
        event = self.waiting.pop(message.properties.get("correlation_id"), None)
        if event is not None:
            event.send_exception(UnknownService(routing_key.split(".", 1)[0]))

    def _fail_waiting(self, why: str) -> None:
        waiting, self.waiting = self.waiting, {}
        for event in waiting.values():
            event.send_exception(BrokerAway(why))

    # -- a call ------------------------------------------------------------------------------------
    def call(self, service: str, method: str, args: tuple, headers: dict, timeout: float):
        channel = self.channel or self._wait_connected(CONNECT_WAIT_SECONDS)  # a reconnection under way
        if channel is None:
            raise BrokerAway("the message bus is not reachable")
        correlation_id = str(uuid.uuid4())
        reply = self.waiting[correlation_id] = Event()
        message = Message(
            dumps({"args": args, "kwargs": {}}), content_type="application/json", content_encoding="utf-8",
            reply_to=self.reply_to, correlation_id=correlation_id, expiration=str(int(timeout * 1000)),
            delivery_mode=1, application_headers=headers,
        )
        try:
            with self.lock:
                channel.basic_publish(message, exchange=self.exchange, routing_key=f"{service}.{method}",
                                      mandatory=True)
        except Exception as exc:
            self.waiting.pop(correlation_id, None)
            raise BrokerAway(f"the request could not be sent: {exc!r}") from None
        try:
            with eventlet.Timeout(timeout):
                body = reply.wait()
        finally:
            self.waiting.pop(correlation_id, None)
        if body.get("error"):
            raise deserialize(body["error"])
        return body["result"]


class _Batches:
    """The calls of many workers to one batch method, sent together: `method(items)` answers a list of
    `{"result", "error"}`, one per item, in order.

    A call is sent at once when fewer than `in_flight` batches are on their way; otherwise it waits for
    the next batch, which takes every call that queued up meanwhile (up to `max_items`). Idle, a call
    goes alone and waits for nothing; under load, one message, one worker and one transaction serve
    many calls, and no call waits for a batch to fill."""

    def __init__(self, client: "RpcClient", service: str, method: str, in_flight: int, max_items: int):
        self.client, self.service, self.method = client, service, method
        self.in_flight, self.max_items = in_flight, max_items
        self.queued: list = []
        self.senders = 0

    def call(self, item, headers: dict, timeout: float):
        answer = Event()
        self.queued.append((item, headers, answer))
        if self.senders < self.in_flight:
            self.senders += 1
            eventlet.spawn(self._send, timeout)
        with eventlet.Timeout(timeout):
            body = answer.wait()
        if body.get("error"):
            raise deserialize(body["error"])
        return body["result"]

    def _send(self, timeout: float):
        try:
            while self.queued:
                batch, self.queued = self.queued[: self.max_items], self.queued[self.max_items:]
                metrics.RPC_BATCH_SIZE.labels(self.service, self.method).observe(len(batch))
                # one message carries one set of call-id headers: the first caller's, so the batch is
                # traced as part of a request that waits for it
                headers = batch[0][1]
                try:
                    answers = self.client.call(self.service, self.method, ([item for item, _, _ in batch],), headers,
                                               timeout)
                except BaseException as exc:  # a timeout too: every call of the batch fails with it
                    for _, _, answer in batch:
                        answer.send_exception(exc)
                    continue
                for (_, _, answer), body in zip(batch, answers):
                    answer.send(body)
        finally:
            self.senders -= 1


class _Caller:
    def __init__(self, client: RpcClient, headers: dict):
        self._client, self._headers = client, headers

    @property
    def connected(self) -> bool:
        """Whether calls can be sent now (false while the connection to the broker is made again)."""
        return self._client.channel is not None

    def call(self, service: str, method: str, *args, timeout: float):
        """The result of `service.method(*args)`; raises the service's error, `eventlet.Timeout` after
        `timeout` seconds, `UnknownService`, or `BrokerAway`."""
        return self._client.call(service, method, args, self._headers, timeout)

    def batched(self, service: str, method: str, item, *, timeout: float):
        """The answer to `item` of `service.method([..., item, ...])`, sent with the calls of other
        workers that wait at the same time; raises as `call`, or the item's own error."""
        return self._client.batches(service, method).call(item, self._headers, timeout)
