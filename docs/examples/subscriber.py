"""A back-office subscriber with plain kombu: no Nameko, just AMQP.

It binds a durable queue of its own to a service's event exchange and prints every envelope:

    AMQP_URI=amqp://guest:guest@127.0.0.1:5672/ python docs/examples/subscriber.py ideas.events '#'
    python docs/examples/subscriber.py ideas.events idea_created --queue backoffice-new-ideas

The queue is durable and survives restarts of the subscriber, so events published while it is away
wait for it. Delivery is at least once: deduplicate by `event_id`. A message is acknowledged only after
the handler returned, so a crash redelivers it.
"""
from __future__ import annotations

import argparse
import json
import os
import socket

from kombu import Connection, Exchange, Queue


def subscribe(amqp_uri: str, exchange: str = "ideas.events", routing_key: str = "#",
              queue: str = "backoffice-ideas", handle=None, limit: int | None = None,
              timeout: float | None = None, ready=None) -> int:
    """Consume envelopes from `exchange` (matching `routing_key`) into the durable `queue`.

    `handle(envelope)` is called for each (default: print it as one JSON line). Stops after `limit`
    messages, or when nothing arrived for `timeout` seconds; runs forever when both are None.
    `ready()` is called once the queue is bound. Returns the number of messages handled.
    """
    handle = handle or (lambda envelope: print(json.dumps(envelope), flush=True))
    events = Exchange(exchange, type="topic", durable=True)
    bound = Queue(queue, exchange=events, routing_key=routing_key, durable=True)
    handled = 0
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        bound(channel).declare()  # declares the exchange too (the same way the platform declares it)
        if ready:
            ready()

        def on_message(body, message):
            nonlocal handled
            envelope = body if isinstance(body, dict) else json.loads(body)
            handle(envelope)
            message.ack()
            handled += 1

        with conn.Consumer(bound, callbacks=[on_message], accept=["json"]):
            while limit is None or handled < limit:
                try:
                    conn.drain_events(timeout=timeout)
                except socket.timeout:
                    break
    return handled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exchange", nargs="?", default="ideas.events", help="e.g. ideas.events, voting.events")
    parser.add_argument("routing_key", nargs="?", default="#", help="an event name such as idea_created, or #")
    parser.add_argument("--queue", default="backoffice-ideas", help="the durable queue of this subscriber")
    args = parser.parse_args()
    uri = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
    subscribe(uri, args.exchange, args.routing_key, args.queue)


if __name__ == "__main__":
    main()
