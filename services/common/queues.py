"""The durable queues of the platform: quorum queues, so a RabbitMQ cluster can lose a node.

Every service's RPC queue (`rpc-<service>`) and every event handler's queue (`evt-...`) is declared
durable with `x-queue-type: quorum` (replicated on the cluster's nodes, a leader elected again when its
node goes) and `x-delivery-limit` (`QUEUE_DELIVERY_LIMIT`, 20 by default): a message returned to its
queue that many times is dropped by the broker, so a poison message cannot loop for ever. The event
handlers give up on an event themselves one delivery before, with an error log naming it
(`event_given_up`), so the broker's drop is never silent.

Reply queues are transient (`reply_queue`: not durable, deleted with their last consumer): a durable
queue whose node is lost cannot be declared again until that node returns (NOT_FOUND, "home node ...
is down"), so a caller whose reply queue lived there would never hear an answer again. Nameko's own
reply listener (behind `RpcProxy`) declares a durable one; the platform's container swaps it for
`ReplyListener` below (services/common/container.py).

Upgrading a deployment whose queues are classic: RabbitMQ refuses to declare a queue again with another
type (PRECONDITION_FAILED), so before a consumer declares its queue, `ensure_quorum` checks it and, if a
classic queue of that name is there, moves it over: a quorum queue beside it (`<name>.upgrade`) takes the
same bindings and the waiting messages, the classic queue is deleted once empty, the quorum queue of the
name is declared, and the messages move back. An event published meanwhile reaches the side queue, or
both (consumers ignore an event they already applied), never neither. See docs/operations.md.
"""
from __future__ import annotations

import uuid

from amqp.exceptions import PreconditionFailed
from kombu import Connection, Queue
from nameko.rpc import RPC_REPLY_QUEUE_TEMPLATE, RPC_REPLY_QUEUE_TTL, get_rpc_exchange
from nameko.rpc import ReplyListener as NamekoReplyListener

from services.common import logs
from services.common.config import settings

MAX_MOVE_ROUNDS = 20


def arguments() -> dict:
    return {"x-queue-type": "quorum", "x-delivery-limit": settings().queue_delivery_limit}


def durable_queue(name: str, **kwargs) -> Queue:
    """A quorum queue named `name` (kwargs as for kombu's Queue: exchange, routing_key, bindings)."""
    return Queue(name, durable=True, auto_delete=False, exclusive=False, queue_arguments=arguments(), **kwargs)


def reply_queue(name: str, **kwargs) -> Queue:
    """A transient queue for RPC replies, gone with its consumer or its node."""
    return Queue(name, durable=False, auto_delete=True, queue_arguments={"x-expires": RPC_REPLY_QUEUE_TTL},
                 **kwargs)


class ReplyListener(NamekoReplyListener):
    """Nameko's reply listener with a transient reply queue (`reply_queue`)."""

    def setup(self):
        reply_queue_uuid = uuid.uuid4()
        self.routing_key = str(reply_queue_uuid)
        self.queue = reply_queue(RPC_REPLY_QUEUE_TEMPLATE.format(self.container.service_name, reply_queue_uuid),
                                 exchange=get_rpc_exchange(self.container.config), routing_key=self.routing_key)
        self.queue_consumer.register_provider(self)


def ensure_quorum(amqp_uri: str, queue: Queue) -> bool:
    """Declare `queue` (a `durable_queue`); if a classic queue has its name, move it over first.
    Returns True when a classic queue was replaced."""
    with Connection(amqp_uri, connect_timeout=5) as conn:
        try:
            queue(conn.channel()).declare()
            return False
        except PreconditionFailed:
            pass
        log = logs.get(component="queues")
        log.warning("queue_upgrade_to_quorum", queue=queue.name)
        side = Queue(f"{queue.name}.upgrade", exchange=queue.exchange, routing_key=queue.routing_key,
                     bindings=queue.bindings, durable=True, queue_arguments=arguments())
        channel = conn.channel()
        side(channel).declare()  # bound like the old queue: what is published from now on waits there
        classic = Queue(queue.name, channel=channel, no_declare=True)
        for _ in range(MAX_MOVE_ROUNDS):
            _move(conn, queue.name, side.name)
            try:
                classic.delete(if_empty=True)
                break
            except PreconditionFailed:  # a message arrived since: move it too
                channel = conn.channel()
                classic = Queue(queue.name, channel=channel, no_declare=True)
        else:
            raise RuntimeError(f"the classic queue {queue.name} never emptied; stop its publishers and retry")
        channel = conn.channel()
        queue(channel).declare()
        bound = side(channel)
        if side.bindings:
            for b in side.bindings:
                bound.unbind_from(b.exchange, routing_key=b.routing_key)
        elif side.exchange is not None and side.exchange.name:
            bound.unbind_from(side.exchange, routing_key=side.routing_key)
        moved = _move(conn, side.name, queue.name)
        bound.delete()
        log.warning("queue_upgraded_to_quorum", queue=queue.name, messages_moved_back=moved)
        return True


def _move(conn, source: str, target: str) -> int:
    """Every message of `source` to `target`, each acked only once the broker confirmed its copy."""
    channel = conn.channel()
    channel.confirm_select()
    moved = 0
    while True:
        message = channel.basic_get(source, no_ack=False)
        if message is None:
            return moved
        channel.basic_publish_confirm(message, exchange="", routing_key=target)
        channel.basic_ack(message.delivery_tag)
        moved += 1
