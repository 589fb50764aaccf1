"""Asking another service a question over RPC, from inside a service.

A service declares `peers = Peers()`; a worker asks `self.peers.ask("ideas", "vote_target", city_id, ...)`
and hands `self.peers` to its handlers. The request carries the worker's call-id headers on (nameko's
context data), so a chain of calls is traced as one.
"""
from __future__ import annotations

import eventlet
from nameko.exceptions import RemoteError, UnknownService
from nameko.extensions import DependencyProvider
from nameko.rpc import ReplyListener, ServiceProxy

from services.common import logs
from services.common.errors import AgoraError, Unavailable

PEER_TIMEOUT_SECONDS = 3.0  # well within the gateway's own RPC timeout


def ask(proxy, service: str, method: str, *args, timeout: float = PEER_TIMEOUT_SECONDS):
    """Call `service.method(*args)` on a nameko service proxy; its domain errors pass through, and
    Unavailable when it is down, slow, or fails unexpectedly (the caller's own caller then gets a 503,
    not a hang or a 500)."""
    try:
        with eventlet.Timeout(timeout):
            return getattr(proxy, method).call_async(*args).result()
    except AgoraError:
        raise
    except eventlet.Timeout:
        raise Unavailable(f"The {service} service did not answer in time.") from None
    except UnknownService:
        raise Unavailable(f"The {service} service is not available.") from None
    except RemoteError as exc:
        logs.get().warning("peer_call_failed", service=service, method=method, exc_type=exc.exc_type)
        raise Unavailable(f"The {service} service could not answer.", [{"exc_type": exc.exc_type}]) from None


class Peers(DependencyProvider):
    """Nameko dependency: `peers = Peers()` on the service class gives each worker an `Asker`."""

    rpc_reply_listener = ReplyListener()

    def __init__(self, timeout: float = PEER_TIMEOUT_SECONDS):
        self.timeout = timeout

    def get_dependency(self, worker_ctx) -> "Asker":
        return Asker(worker_ctx, self.rpc_reply_listener, self.timeout)


class Asker:
    """What a worker (and the handlers it calls) sees: `ask(service, method, *args)`."""

    def __init__(self, worker_ctx, reply_listener, timeout: float):
        self._worker_ctx, self._reply_listener, self.timeout = worker_ctx, reply_listener, timeout

    def ask(self, service: str, method: str, *args):
        proxy = ServiceProxy(self._worker_ctx, service, self._reply_listener)
        return ask(proxy, service, method, *args, timeout=self.timeout)
