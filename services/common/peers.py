"""Asking another service a question over RPC, from inside a service."""
from __future__ import annotations

import eventlet
from nameko.exceptions import RemoteError, UnknownService

from services.common import logs
from services.common.errors import AgoraError, Unavailable

PEER_TIMEOUT_SECONDS = 3.0  # well within the gateway's own RPC timeout


def ask(proxy, service: str, method: str, *args, timeout: float = PEER_TIMEOUT_SECONDS):
    """Call `service.method(*args)`; its domain errors pass through, and Unavailable when it is down,
    slow, or fails unexpectedly (the caller's own caller then gets a 503, not a hang or a 500)."""
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
