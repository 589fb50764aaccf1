"""The process-wide SQLAlchemy engines, one per database URL.

psycopg2 is made cooperative with eventlet (psycogreen), so a slow query blocks only its own worker.
"""
from __future__ import annotations

import threading
import time

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Engine

from services.common.config import settings

_engines: dict[str, Engine] = {}
PING_AFTER_IDLE_SECONDS = 5.0
CONNECT_ARGS = {"connect_timeout": 3, "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
                "keepalives_count": 3}
_lock = threading.Lock()


def sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def make_green() -> None:
    """Let psycopg2 yield to the eventlet hub while it waits on the network."""
    import eventlet.patcher

    if eventlet.patcher.is_monkey_patched("socket"):
        from psycogreen.eventlet import patch_psycopg

        patch_psycopg()


def engine(url: str | None = None, pool_size: int = 20) -> Engine:
    """The process-wide engine for a database URL."""
    url = sqlalchemy_url(url or settings().database_url)
    with _lock:
        if url not in _engines:
            make_green()
            eng = create_engine(
                # a small overflow: several processes share the server's max_connections
                url, pool_size=pool_size, max_overflow=5, pool_recycle=1800,
                # fail fast when the server is away, and notice a peer that vanished without a word
                connect_args=CONNECT_ARGS,
            )
            ping_idle_connections(eng)
            _engines[url] = eng
        return _engines[url]


def ping_idle_connections(eng: Engine, idle_seconds: float = PING_AFTER_IDLE_SECONDS) -> None:
    """Check a pooled connection before use when it has been idle for a while.

    `pool_pre_ping` would cost a round trip on every checkout, i.e. on every unit of work. A connection
    in steady use proves itself; one that sat idle (across a database restart, say) is pinged, and a
    dead one is replaced before the caller sees it. A connection that dies while in use raises, and
    SQLAlchemy then invalidates the whole pool, so one failure renews every stale connection.
    """
    @event.listens_for(eng, "checkin")
    def _checked_in(dbapi_connection, record):
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(eng, "checkout")
    def _checked_out(dbapi_connection, record, proxy):
        last = record.info.get("checked_in_at")
        if last is None or time.monotonic() - last < idle_seconds:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
        except Exception as e:  # the pool drops it and connects anew (up to three times)
            raise exc.DisconnectionError(str(e)) from e
