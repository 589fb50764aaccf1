"""Bounded bookkeeping tables: published outbox rows and processed event ids are deleted once older than
a window (`PRUNE_AFTER_HOURS`, 168 h by default), and the row counts are exported as a gauge.

The window must be longer than any redelivery: an event id forgotten while its message can still come
back would be applied twice. Messages are redelivered within seconds (a requeue, a consumer restarted);
the window covers a consumer that stays down for days with its queue filling up. Unpublished outbox rows
are never pruned, whatever their age.

Each service process runs `Pruner` beside its outbox relay (services/common/outbox.py), every
`PRUNE_INTERVAL_SECONDS`. Rows go in batches of `PRUNE_BATCH`, each batch its own short transaction that
skips rows another transaction holds (`FOR UPDATE SKIP LOCKED`: the relay's claim, a replica pruning at
the same time), with a pause between batches, so writers are never queued behind a long delete.
"""
from __future__ import annotations

import functools

import eventlet
from eventlet.event import Event
from sqlalchemy import text

from services.common import logs, metrics
from services.common.config import settings

PAUSE_BETWEEN_BATCHES_SECONDS = 0.05
FIRST_PASS_AFTER_SECONDS = 60.0


@functools.lru_cache(maxsize=None)
def _statements(schema: str) -> dict:
    s = f'"{schema}"'
    return {
        "outbox": text(
            f"DELETE FROM {s}.outbox WHERE id IN (SELECT id FROM {s}.outbox "
            "WHERE published_at < now() - make_interval(secs => :age) ORDER BY id LIMIT :n FOR UPDATE SKIP LOCKED)"),
        "processed_events": text(
            f"DELETE FROM {s}.processed_events WHERE (consumer, event_id) IN (SELECT consumer, event_id "
            f"FROM {s}.processed_events WHERE processed_at < now() - make_interval(secs => :age) "
            "LIMIT :n FOR UPDATE SKIP LOCKED)"),
    }


def prune(engine, schema: str, *, older_than_seconds: float, batch: int, should_go_on=lambda: True) -> dict:
    """Delete what is older than the window in `schema`'s outbox (published rows) and processed events;
    returns the rows deleted per table."""
    deleted = {}
    for table, statement in _statements(schema).items():
        deleted[table] = 0
        while should_go_on():
            with engine.begin() as conn:
                n = conn.execute(statement, {"age": older_than_seconds, "n": batch}).rowcount
            deleted[table] += n
            if n < batch:
                break
            eventlet.sleep(PAUSE_BETWEEN_BATCHES_SECONDS)
    return deleted


def table_rows(engine, schema: str) -> dict:
    """Rows in the service's bookkeeping tables, also set on the `agora_table_rows` gauge."""
    with engine.connect() as conn:
        rows = {t: conn.execute(text(f'SELECT count(*) FROM "{schema}".{t}')).scalar() for t in _statements(schema)}
    for table, n in rows.items():
        metrics.TABLE_ROWS.labels(schema, table).set(n)
    return rows


class Pruner:
    """The schedule: a pass a minute after start (not while the process starts, when every pool is
    filling), then every interval, until `stop()`."""

    def __init__(self, engine, schema: str, service_name: str):
        self.engine, self.schema = engine, schema
        self.log = logs.get(service=service_name, component="pruning")
        self._running = True
        self._wake = Event()

    def run(self) -> None:
        cfg = settings()
        pause = min(cfg.prune_interval_seconds, FIRST_PASS_AFTER_SECONDS)
        while self._running:
            with eventlet.Timeout(pause, False):
                self._wake.wait()
            if not self._running:
                return
            pause = cfg.prune_interval_seconds
            try:
                deleted = prune(self.engine, self.schema, older_than_seconds=cfg.prune_after_hours * 3600,
                                batch=cfg.prune_batch, should_go_on=lambda: self._running)
                rows = table_rows(self.engine, self.schema)
                if any(deleted.values()):
                    self.log.info("tables_pruned", deleted=deleted, rows=rows)
            except Exception as exc:  # the database away: next time
                self.log.warning("tables_prune_failed", error=str(exc))

    def stop(self) -> None:
        self._running = False
        if not self._wake.ready():
            self._wake.send(None)
