"""Notifications: in-app inboxes, e-mail (instant or a daily digest) and webhooks for back-office systems."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import eventlet
from nameko.timer import timer
from pydantic import ValidationError
from sqlalchemy import func, select, update

from services.common import auth, logs, pagination
from services.common.config import settings
from services.common.db import Database
from services.common.entrypoints import on_event, rpc
from services.common.errors import Conflict, NotFound, ValidationFailed, validate
from services.common.events import Envelope
from services.common.observability import Observability
from services.common.peers import Peers
from services.common.outbox import OutboxRelay
from services.notifications import outgoing, schemas, store, triggers, unsubscribe, webhooks
from services.notifications.mailer import Smtp
from services.notifications.models import (
    metadata, webhook_attempts, webhook_deliveries, webhook_subscriptions,
)
from services.notifications.sender import WebhookSender, fan_out, wake, webhook_feed

MAX_SUBSCRIPTIONS_PER_CITY = 50
FEED_RETRY_PAUSE_SECONDS = 1.0
_known_types: frozenset | None = None


def known_types() -> frozenset:
    global _known_types
    if _known_types is None:
        _known_types = webhooks.known_types()
    return _known_types


def _subscription(row, secret: bool = False) -> dict:
    out = {"id": str(row.id), "url": row.url, "events": list(row.events), "created_at": row.created_at.isoformat()}
    if secret:
        out["secret"] = row.secret
    return out


def _iso(value):
    return value.isoformat() if value else None


class NotificationsService:
    name = "notifications"

    db = Database(metadata)
    outbox = OutboxRelay(metadata)
    obs = Observability()
    peers = Peers(timeout=settings().rpc_timeout)  # timers ask accounts for contacts; no caller waits on them
    webhook_sender = WebhookSender()

    # -- read models -----------------------------------------------------------------------------------
    @on_event("accounts", "city_created")
    def on_city_created(self, tx, event):
        d = event.data
        store.upsert_city(tx, d["city_id"], d["slug"], d["name"], d.get("locales") or [])

    @on_event("accounts", "user_registered")
    def on_user_registered(self, tx, event):
        self._user(tx, event)

    @on_event("accounts", "user_updated")
    def on_user_updated(self, tx, event):
        self._user(tx, event)

    def _user(self, tx, event):
        d = event.data
        store.upsert_user(tx, event.city_id or d["city_id"], store.as_uuid(d["user_id"]), d["display_name"], d.get("locale"))

    @on_event("ideas", "project_created")
    def on_project_created(self, tx, event):
        store.upsert_project(tx, event.city_id, store.as_uuid(event.data["project_id"]), event.data.get("title"))

    @on_event("ideas", "project_updated")
    def on_project_updated(self, tx, event):
        store.upsert_project(tx, event.city_id, store.as_uuid(event.data["project_id"]), event.data.get("title"))

    @on_event("ideas", "idea_created")
    def on_idea_created(self, tx, event):
        store.upsert_idea(tx, event.city_id, event.data)
        store.add_participant(tx, event.city_id, event.data.get("project_id"), event.data.get("author_id"))

    @on_event("ideas", "idea_updated")
    def on_idea_updated(self, tx, event):
        store.upsert_idea(tx, event.city_id, event.data)

    @on_event("voting", "vote_withdrawn")
    def on_vote_withdrawn(self, tx, event):
        store.record_vote(tx, event.city_id, event.data, withdrawn=True)

    @on_event("voting", "poll_answered")
    def on_poll_answered(self, tx, event):
        store.add_participant(tx, event.city_id, event.data.get("project_id"), event.data.get("user_id"))

    @on_event("budgeting", "ballot_submitted")
    def on_ballot_submitted(self, tx, event):
        store.add_participant(tx, event.city_id, event.data.get("project_id"), event.data.get("user_id"))

    # -- triggers ---------------------------------------------------------------------------------------
    def _notify(self, tx, event: Envelope, notices) -> int:
        if event.city_id is None:
            return 0
        return store.create_notices(tx, event.city_id, event.event_id, notices)

    @on_event("ideas", "comment_created")
    def on_comment_created(self, tx, event):
        d, city = event.data, event.city_id
        store.add_participant(tx, city, d.get("project_id"), d.get("author_id"))
        notices = triggers.comment_notices(d, event.actor_id, store.idea_title(tx, city, d.get("idea_id")),
                                           store.display_name(tx, city, d.get("author_id")))
        self._notify(tx, event, notices)

    @on_event("ideas", "idea_status_changed")
    def on_idea_status_changed(self, tx, event):
        d, city = event.data, event.city_id
        notices = triggers.status_notices(d, event.actor_id, store.voters_of(tx, city, d.get("idea_id")),
                                          store.idea_title(tx, city, d.get("idea_id")))
        self._notify(tx, event, notices)

    @on_event("voting", "vote_cast")
    def on_vote_cast(self, tx, event):
        self._vote(tx, event)

    @on_event("voting", "vote_changed")
    def on_vote_changed(self, tx, event):
        self._vote(tx, event)

    def _vote(self, tx, event):
        d, city = event.data, event.city_id
        store.record_vote(tx, city, d, withdrawn=False)
        store.add_participant(tx, city, d.get("project_id"), d.get("voter_id"))
        idea_id = d.get("target_id") if d.get("target_type") == "idea" else None
        if idea_id is None:
            return
        notice, reached = triggers.milestone_notice(d, store.reached_milestones(tx, city, idea_id),
                                                    store.idea_title(tx, city, idea_id))
        store.record_milestones(tx, city, idea_id, reached)
        if notice:
            self._notify(tx, event, [notice])

    @on_event("gamification", "badge_earned")
    def on_badge_earned(self, tx, event):
        self._notify(tx, event, [triggers.badge_notice(event.data)])

    @on_event("gamification", "level_up")
    def on_level_up(self, tx, event):
        self._notify(tx, event, [triggers.level_notice(event.data)])

    @on_event("budgeting", "phase_changed")
    def on_phase_changed(self, tx, event):
        d, city = event.data, event.city_id
        notices = triggers.phase_notices(d, event.actor_id, store.participants_of(tx, city, d.get("project_id")),
                                         store.project_title(tx, city, d.get("project_id")))
        self._notify(tx, event, notices)

    @on_event("budgeting", "results_published")
    def on_results_published(self, tx, event):
        d, city = event.data, event.city_id
        notices = triggers.results_notices(d, event.actor_id, store.participants_of(tx, city, d.get("project_id")),
                                           store.project_title(tx, city, d.get("project_id")))
        self._notify(tx, event, notices)

    # -- e-mail ------------------------------------------------------------------------------------------
    def _contacts(self, city_id: str, user_ids: list) -> list[dict]:
        return self.peers.ask("accounts", "get_contacts", city_id, user_ids)

    @timer(interval=settings().mail_poll_seconds)
    def send_instant_emails(self):
        cfg = settings()
        outgoing.send_due(self.db, self._contacts, Smtp.from_settings(cfg), cfg, settings().mail_max_attempts, logs.get())

    @timer(interval=settings().digest_check_seconds)
    def send_daily_digest(self):
        now = datetime.now(timezone.utc)
        if outgoing.digest_due(now, settings().digest_hour_utc):
            cfg = settings()
            outgoing.send_digests(self.db, self._contacts, Smtp.from_settings(cfg), cfg, now, logs.get(),
                                  day_of_run=now.date())

    @rpc
    def send_digests(self, now: str | None = None, city_id: str | None = None) -> dict:
        """Send the digests due up to `now` (ISO time, default now), for one city or all (operations, tests)."""
        try:
            at = datetime.fromisoformat(now) if now else datetime.now(timezone.utc)
        except (TypeError, ValueError):
            raise ValidationFailed("now is not an ISO time.", [{"field": "now", "issue": "not an ISO 8601 time"}]) from None
        if at.tzinfo is None:
            at = at.replace(tzinfo=timezone.utc)
        cfg = settings()
        sent = outgoing.send_digests(self.db, self._contacts, Smtp.from_settings(cfg), cfg, at, logs.get(),
                                     city_id=store.as_uuid(city_id) if city_id else None)
        if sent is None:
            raise Conflict("A digest run is in progress.")
        return {"sent": sent}

    # -- inbox and preferences ----------------------------------------------------------------------------
    @rpc
    def list_notifications(self, principal: dict, query: dict) -> dict:
        me = auth.principal_of(principal)
        q = validate(schemas.InboxQuery, query or {})
        with self.db.read() as s:
            return store.inbox(s, me.city_id, me.user_id, unread_only=q.unread, limit=q.limit, cursor=q.cursor)

    @rpc
    def unread_count(self, principal: dict) -> dict:
        me = auth.principal_of(principal)
        with self.db.read() as s:
            return {"unread_count": store.unread_count(s, me.city_id, me.user_id)}

    @rpc
    def mark_read(self, principal: dict, payload: dict) -> dict:
        me = auth.principal_of(principal)
        data = validate(schemas.MarkRead, payload)
        with self.db.transaction() as tx:
            updated = store.mark_read(tx, me.city_id, me.user_id, None if data.all else data.ids)
            unread = store.unread_count(tx, me.city_id, me.user_id)
        return {"updated": updated, "unread_count": unread}

    @rpc
    def get_preferences(self, principal: dict) -> dict:
        me = auth.principal_of(principal)
        with self.db.read() as s:
            return store.preferences_of(s, me.city_id, [me.user_id])[str(me.user_id)]

    @rpc
    def set_preferences(self, principal: dict, payload: dict) -> dict:
        me = auth.principal_of(principal)
        data = validate(schemas.Preferences, payload)
        with self.db.transaction() as tx:
            return store.set_preferences(tx, me.city_id, me.user_id, data.model_dump())

    @rpc
    def unsubscribe(self, city_id: str | None, token: str) -> dict:
        """Turn e-mail off for the user an unsubscribe link names (no login: the link is the proof)."""
        user_id, token_city = unsubscribe.read(token, settings().jwt_secret)
        if city_id is not None and str(city_id) != token_city:
            raise ValidationFailed("The unsubscribe link is not valid.", [{"field": "token", "issue": "not for this city"}])
        with self.db.transaction() as tx:
            prefs = store.set_preferences(tx, store.as_uuid(token_city), user_id, {"email": "off"})
        logs.get().info("email_unsubscribed", city_id=token_city, user_id=user_id)
        return prefs

    # -- webhooks ----------------------------------------------------------------------------------------
    @webhook_feed
    def feed_webhooks(self, payload):
        """Every event of every service: record a delivery per matching subscription; acked after commit."""
        try:
            envelope = Envelope.model_validate(payload)
        except ValidationError as exc:
            logs.get().error("webhook_event_malformed", errors=exc.error_count())
            return 0
        if envelope.city_id is None:
            return 0
        logs.bind(event_id=str(envelope.event_id), city_id=str(envelope.city_id))
        try:
            with self.db.transaction() as tx:
                created = fan_out(tx, payload, envelope.type, envelope.city_id, envelope.event_id)
        except Exception:
            logs.get().exception("webhook_fan_out_failed_will_retry", type=envelope.type)
            eventlet.sleep(FEED_RETRY_PAUSE_SECONDS)
            raise
        if created:
            wake()
        return created

    def _admin(self, principal):
        return auth.principal_of(principal).require("admin")

    @rpc
    def create_webhook(self, principal: dict, payload: dict) -> dict:
        me = self._admin(principal)
        data = validate(schemas.NewWebhook, payload)
        patterns, issues = webhooks.normalize_events(data.events, known_types())
        try:
            webhooks.check_target(data.url, settings().webhook_allow_private,
                                  allowed_ports=settings().webhook_allowed_ports)
        except webhooks.RefusedTarget as exc:
            issues.insert(0, {"field": "url", "issue": str(exc)})
        if issues:
            raise ValidationFailed("The webhook is not valid.", issues)
        s = webhook_subscriptions
        with self.db.transaction() as tx:
            tx.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"webhooks:{me.city_id}"))))
            active = tx.execute(select(func.count()).select_from(s).where(
                s.c.city_id == me.city_id, s.c.deleted_at.is_(None))).scalar()
            if active >= MAX_SUBSCRIPTIONS_PER_CITY:
                raise Conflict(f"A city has at most {MAX_SUBSCRIPTIONS_PER_CITY} webhooks.")
            row = tx.execute(s.insert().values(
                id=uuid.uuid4(), city_id=me.city_id, url=data.url, events=patterns, secret=webhooks.new_secret(),
                created_by=me.user_id,
            ).returning(s)).one()
        return _subscription(row, secret=True)

    def _find_webhook(self, session, city_id, webhook_id):
        s, wanted = webhook_subscriptions, store.as_uuid(webhook_id)
        row = None
        if wanted is not None:
            row = session.execute(select(s).where(s.c.city_id == city_id, s.c.id == wanted,
                                                  s.c.deleted_at.is_(None))).first()
        if row is None:
            raise NotFound("No such webhook in this city.")
        return row

    @rpc
    def list_webhooks(self, principal: dict, query: dict | None = None) -> dict:
        me = self._admin(principal)
        q = validate(schemas.PageQuery, query or {})
        s = webhook_subscriptions
        stmt = select(s).where(s.c.city_id == me.city_id, s.c.deleted_at.is_(None))
        key = pagination.decode(q.cursor)
        if key is not None:
            try:
                at, last = datetime.fromisoformat(key[0]), store.as_uuid(key[1])
            except (ValueError, IndexError, TypeError):
                at, last = None, None
            if at is None or last is None:
                pagination.decode("!")
            stmt = stmt.where((s.c.created_at < at) | ((s.c.created_at == at) & (s.c.id < last)))
        with self.db.read() as session:
            rows = session.execute(stmt.order_by(s.c.created_at.desc(), s.c.id.desc()).limit(q.limit + 1)).all()
        out = pagination.page(rows, q.limit, lambda r: [r.created_at.isoformat(), str(r.id)])
        out["items"] = [_subscription(r) for r in out["items"]]
        return out

    @rpc
    def get_webhook(self, principal: dict, webhook_id: str) -> dict:
        me = self._admin(principal)
        with self.db.read() as session:
            return _subscription(self._find_webhook(session, me.city_id, webhook_id))

    @rpc
    def delete_webhook(self, principal: dict, webhook_id: str) -> None:
        me = self._admin(principal)
        s, d = webhook_subscriptions, webhook_deliveries
        with self.db.transaction() as tx:
            row = self._find_webhook(tx, me.city_id, webhook_id)
            tx.execute(update(s).where(s.c.city_id == me.city_id, s.c.id == row.id).values(deleted_at=func.now()))
            tx.execute(update(d).where(d.c.city_id == me.city_id, d.c.subscription_id == row.id, d.c.status == "pending")
                       .values(status="cancelled"))
        return None

    @rpc
    def list_deliveries(self, principal: dict, webhook_id: str, query: dict | None = None) -> dict:
        """The delivery log of a webhook, newest first: status, attempts with their answers, next retry."""
        me = self._admin(principal)
        q = validate(schemas.PageQuery, query or {})
        d, a = webhook_deliveries, webhook_attempts
        with self.db.read() as session:
            sub = self._find_webhook(session, me.city_id, webhook_id)
            stmt = select(d).where(d.c.city_id == me.city_id, d.c.subscription_id == sub.id)
            key = pagination.decode(q.cursor)
            if key is not None:
                try:
                    at, last = datetime.fromisoformat(key[0]), store.as_uuid(key[1])
                except (ValueError, IndexError, TypeError):
                    at, last = None, None
                if at is None or last is None:
                    pagination.decode("!")
                stmt = stmt.where((d.c.created_at < at) | ((d.c.created_at == at) & (d.c.id < last)))
            rows = session.execute(stmt.order_by(d.c.created_at.desc(), d.c.id.desc()).limit(q.limit + 1)).all()
            out = pagination.page(rows, q.limit, lambda r: [r.created_at.isoformat(), str(r.id)])
            ids = [r.id for r in out["items"]]
            log: dict = {}
            if ids:
                for att in session.execute(select(a).where(a.c.city_id == me.city_id, a.c.delivery_id.in_(ids))
                                           .order_by(a.c.delivery_id, a.c.attempt, a.c.id)).all():
                    log.setdefault(att.delivery_id, []).append({
                        "attempt": att.attempt, "at": _iso(att.at), "status_code": att.status_code,
                        "error": att.error, "duration_ms": att.duration_ms,
                    })
        out["items"] = [{
            "id": str(r.id), "event_id": str(r.event_id), "event_type": r.event_type, "status": r.status,
            "attempts": r.attempts, "last_status_code": r.last_status_code, "last_error": r.last_error,
            "next_retry_at": _iso(r.next_attempt_at) if r.status == "pending" else None,
            "created_at": _iso(r.created_at), "delivered_at": _iso(r.delivered_at),
            "attempt_log": log.get(r.id, []),
        } for r in out["items"]]
        return out
