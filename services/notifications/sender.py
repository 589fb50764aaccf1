"""Webhook deliveries: a feed consuming every service's events, and a sender posting them.

`WebhookFeed` is a Nameko entrypoint on one durable queue, `notifications-webhooks`, bound with `#` to
every `<service>.events` exchange; its worker records a delivery row per matching subscription and the
message is acked only after that commit.

`WebhookSender` runs beside the workers: it leases due delivery rows (FOR UPDATE SKIP LOCKED) and posts
them from a green pool, each attempt bounded by a timeout, so a slow or dead receiver holds one pool
slot (at most WEBHOOK_PER_SUBSCRIPTION per subscription) and never a worker, a queue or another city.
"""
from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import timedelta
from urllib.parse import urlsplit

import eventlet
import urllib3
from eventlet.event import Event
from eventlet.greenpool import GreenPool
from kombu import Queue, binding
from nameko.extensions import DependencyProvider
from nameko.messaging import Consumer
from nameko.standalone.events import get_event_exchange
from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import sessionmaker

from services.common import logs
from services.common.config import settings
from services.common.db import Db, engine
from services.notifications import webhooks
from services.notifications.models import (
    metadata, webhook_attempts, webhook_deliveries, webhook_events, webhook_subscriptions,
)

FEED_QUEUE = "notifications-webhooks"
POLL_SECONDS = 1.0
LEASE_MARGIN_SECONDS = 30
_wakers: list[Event] = []


def wake() -> None:
    """New deliveries were committed in this process: look now rather than at the next poll."""
    for event in list(_wakers):
        if not event.ready():
            event.send(True)


class WebhookFeed(Consumer):
    """`@webhook_feed` — every event of every service, on one durable queue, acked after the handler commits."""

    def __init__(self, services=webhooks.SOURCE_SERVICES, queue_name: str = FEED_QUEUE, **kwargs):
        self.services = tuple(services)
        self.queue_name = queue_name
        super().__init__(queue=None, requeue_on_error=True, **kwargs)

    def setup(self):
        config = self.container.config
        self.queue = Queue(
            self.queue_name,
            bindings=[binding(get_event_exchange(s, config), routing_key="#") for s in self.services],
            durable=True,
        )
        super().setup()


webhook_feed = WebhookFeed.decorator


def pinned_post(url: str, address: str, body: bytes, headers: dict, timeout: float):
    """POST to `url` over a connection to `address`, the address that was checked: the name is not
    resolved again (a second answer could be private), while the Host header, the TLS server name and
    the certificate check still use the URL's host. Redirects are not followed."""
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    pool_timeout = urllib3.Timeout(connect=timeout, read=timeout)
    if https:
        pool = urllib3.HTTPSConnectionPool(address, port, timeout=pool_timeout, retries=False, maxsize=1,
                                           cert_reqs="CERT_REQUIRED", server_hostname=parts.hostname,
                                           assert_hostname=parts.hostname)
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=pool_timeout, retries=False, maxsize=1)
    try:
        response = pool.urlopen("POST", path, body=body, headers={**headers, "Host": parts.netloc},
                                redirect=False, retries=False, preload_content=False, assert_same_host=False)
        response.release_conn()
        return response
    finally:
        pool.close()


def fan_out(tx, envelope: dict, event_type: str, city_id, event_id) -> int:
    """Record one delivery per active subscription of the city that asked for this event type."""
    subs = tx.execute(select(webhook_subscriptions.c.id, webhook_subscriptions.c.events).where(
        webhook_subscriptions.c.city_id == city_id, webhook_subscriptions.c.deleted_at.is_(None))).all()
    targets = [s.id for s in subs if webhooks.matches(s.events, event_type)]
    if not targets:
        return 0
    tx.execute(pg_insert(webhook_events).values(event_id=event_id, city_id=city_id, type=event_type,
                                                body=webhooks.body_of(envelope)).on_conflict_do_nothing())
    created = tx.execute(pg_insert(webhook_deliveries).values([
        {"id": uuid.uuid4(), "city_id": city_id, "subscription_id": sub_id, "event_id": event_id,
         "event_type": event_type} for sub_id in targets
    ]).on_conflict_do_nothing().returning(webhook_deliveries.c.id)).all()
    return len(created)


class WebhookSender(DependencyProvider):
    def setup(self):
        self.opts = settings()
        self.db = Db(sessionmaker(bind=engine(), expire_on_commit=False), metadata.schema)
        self.log = logs.get(service=self.container.service_name, component="webhook_sender")
        self.pool = GreenPool(self.opts.webhook_concurrency)
        self.busy: Counter = Counter()
        self._running = False
        self._thread = None

    def start(self):
        self._running = True
        self._event = Event()
        _wakers.append(self._event)
        self._thread = self.container.spawn_managed_thread(self._run)

    def stop(self):
        self._running = False
        if self._event in _wakers:
            _wakers.remove(self._event)
        if not self._event.ready():
            self._event.send(False)
        if self._thread is not None:
            with eventlet.Timeout(self.opts.webhook_timeout_seconds + 5, False):
                self._thread.wait()
                self.pool.waitall()
            self._thread.kill()

    def kill(self):
        self._running = False
        if self._thread is not None:
            self._thread.kill()

    # -- the loop ------------------------------------------------------------------------------------
    def _run(self):
        backoff = 0.5
        while self._running:
            try:
                for row in self.claim(self.pool.free()):
                    self.busy[row.subscription_id] += 1
                    self.pool.spawn_n(self._deliver, row)
                backoff = 0.5
            except Exception as exc:  # database away: keep going
                self.log.warning("webhook_claim_failed", error=repr(exc), retry_in=backoff)
                eventlet.sleep(backoff)
                backoff = min(backoff * 2, 10)
                continue
            with eventlet.Timeout(POLL_SECONDS, False):
                self._event.wait()
            if self._event.ready():
                self._event.reset()

    def claim(self, free: int) -> list:
        """Lease due deliveries, at most `free`, and at most WEBHOOK_PER_SUBSCRIPTION in flight per subscription."""
        if free <= 0:
            return []
        cap = self.opts.webhook_per_subscription
        full = [s for s, n in self.busy.items() if n >= cap]
        d = webhook_deliveries
        with self.db.transaction() as tx:
            query = select(d.c.id, d.c.subscription_id).where(d.c.status == "pending", d.c.next_attempt_at <= func.now())
            if full:
                query = query.where(d.c.subscription_id.not_in(full))
            candidates = tx.execute(query.order_by(d.c.next_attempt_at).limit(free * 2)
                                    .with_for_update(skip_locked=True)).all()
            chosen, taken = [], Counter()
            for row in candidates:
                if len(chosen) >= free or self.busy[row.subscription_id] + taken[row.subscription_id] >= cap:
                    continue
                taken[row.subscription_id] += 1
                chosen.append(row.id)
            if not chosen:
                return []
            lease = timedelta(seconds=self.opts.webhook_timeout_seconds + LEASE_MARGIN_SECONDS)
            s, e = webhook_subscriptions, webhook_events
            return tx.execute(
                update(d).where(d.c.id.in_(chosen), d.c.subscription_id == s.c.id, d.c.event_id == e.c.event_id)
                .values(attempts=d.c.attempts + 1, next_attempt_at=func.now() + lease)
                .returning(d.c.id, d.c.city_id, d.c.subscription_id, d.c.event_id, d.c.event_type, d.c.attempts,
                           s.c.url, s.c.secret, e.c.body)
            ).all()

    def _deliver(self, row):
        try:
            status_code, error, retryable, duration = self.post(row)
            self.record(row, status_code, error, retryable, duration)
        except Exception as exc:  # the lease expires and the delivery is tried again
            self.log.exception("webhook_delivery_crashed", delivery_id=str(row.id), error=repr(exc))
        finally:
            self.busy[row.subscription_id] -= 1
            if self.busy[row.subscription_id] <= 0:
                del self.busy[row.subscription_id]

    def post(self, row) -> tuple[int | None, str | None, bool, int]:
        """One attempt: (status code, error, worth retrying, milliseconds)."""
        timeout = self.opts.webhook_timeout_seconds
        started = time.monotonic()
        status_code, error, retryable = None, None, True
        deadline = eventlet.Timeout(timeout)
        try:
            address = webhooks.check_target(row.url, self.opts.webhook_allow_private,
                                            allowed_ports=self.opts.webhook_allowed_ports)[0]
            timestamp = int(time.time())
            headers = webhooks.headers(
                event_id=str(row.event_id), event_type=row.event_type, delivery_id=str(row.id), timestamp=timestamp,
                signature=webhooks.sign(row.secret, timestamp, row.body),
            )
            response = pinned_post(row.url, address, row.body.encode("utf-8"), headers, timeout)
            status_code = response.status
            if 300 <= status_code < 400:
                error = f"redirect to {response.headers.get('Location', '?')!r} not followed"
            elif not webhooks.succeeded(status_code):
                error = f"HTTP {status_code}"
        except webhooks.RefusedTarget as exc:
            error, retryable = f"refused target: {exc}", False
        except eventlet.Timeout as exc:
            if exc is not deadline:
                raise
            error = f"no answer within {timeout:g}s"
        except urllib3.exceptions.TimeoutError:
            error = f"no answer within {timeout:g}s"
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            # The exception's text names the address connected to: the subscriber sees only its kind.
            error = f"could not deliver ({type(exc).__name__})"
        finally:
            deadline.cancel()
        return status_code, error, retryable, int((time.monotonic() - started) * 1000)

    def record(self, row, status_code, error, retryable, duration_ms) -> str:
        opts = self.opts
        state, delay = webhooks.next_state(row.attempts, status_code, opts.webhook_max_attempts,
                                           opts.webhook_retry_base_seconds, opts.webhook_retry_max_seconds, retryable)
        d = webhook_deliveries
        values = {"status": state, "last_status_code": status_code, "last_error": error}
        if state == "delivered":
            values["delivered_at"] = func.now()
        if delay is not None:
            values["next_attempt_at"] = func.now() + timedelta(seconds=delay)
        with self.db.transaction() as tx:
            tx.execute(insert(webhook_attempts).values(
                delivery_id=row.id, city_id=row.city_id, attempt=row.attempts, status_code=status_code, error=error,
                duration_ms=duration_ms))
            tx.execute(update(d).where(d.c.city_id == row.city_id, d.c.id == row.id, d.c.status == "pending")
                       .values(**values))
            if state == "failed" and not row.event_type.startswith("notifications."):
                tx.emit("notifications.webhook_delivery_failed", city_id=row.city_id, data={
                    "subscription_id": row.subscription_id, "delivery_id": row.id, "event_id": row.event_id,
                    "event_type": row.event_type, "url": row.url, "attempts": row.attempts,
                    "last_status_code": status_code, "last_error": error,
                })
        log = self.log.info if state == "delivered" else self.log.warning
        log("webhook_attempt", delivery_id=str(row.id), city_id=str(row.city_id), event_id=str(row.event_id),
            attempt=row.attempts, status_code=status_code, error=error, outcome=state, retry_in=delay)
        return state
