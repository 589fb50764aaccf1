"""Sending notification e-mails: instant ones as they fall due, daily ones as one digest per user.

Both work from the notifications table: a row's `email_status` says what is still to send, rows are
claimed with FOR UPDATE SKIP LOCKED (several replicas share the work), and a claimed row carries a lease,
so a process dying mid-send only means the row is sent again after the lease (at least once; the
Message-ID is the notification's id, so a receiving system can drop the copy).
"""
from __future__ import annotations

import smtplib
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.notifications import mailer, render, store, unsubscribe
from services.notifications.models import cities, digest_runs, notifications
from services.notifications.webhooks import retry_delay

LEASE_SECONDS = 120
BATCH = 50
RETRY_BASE_SECONDS, RETRY_MAX_SECONDS = 30.0, 3600.0
DIGEST_LOCK = "notifications:daily-digest"


def _city_info(session, city_ids) -> dict:
    rows = session.execute(select(cities).where(cities.c.city_id.in_(list(city_ids)))).all()
    return {r.city_id: r for r in rows}


def _links(cfg, city, user_id, city_id) -> str:
    token = unsubscribe.issue(user_id, city_id, cfg.jwt_secret)
    return unsubscribe.link(cfg.public_url, city.slug if city else None, token)


def claim_due(tx, max_attempts: int, batch: int = BATCH) -> list:
    """Lease the instant e-mails that are due; those out of attempts are marked failed."""
    due = (notifications.c.email_status.in_(("pending", "sending")), notifications.c.email_next_at <= func.now())
    tx.execute(update(notifications).where(*due, notifications.c.email_attempts >= max_attempts)
               .values(email_status="failed"))
    ids = tx.execute(select(notifications.c.id).where(*due).order_by(notifications.c.email_next_at)
                     .limit(batch).with_for_update(skip_locked=True)).scalars().all()
    if not ids:
        return []
    return tx.execute(
        update(notifications).where(notifications.c.id.in_(ids)).values(
            email_status="sending", email_attempts=notifications.c.email_attempts + 1,
            email_next_at=func.now() + timedelta(seconds=LEASE_SECONDS),
        ).returning(notifications.c.id, notifications.c.city_id, notifications.c.user_id, notifications.c.kind,
                    notifications.c.data, notifications.c.email_attempts)
    ).all()


def _finish(db, row, status: str, error: str | None = None, retry_in: float | None = None) -> None:
    values = {"email_status": status, "email_error": error}
    if status == "sent":
        values["emailed_at"] = func.now()
    if retry_in is not None:
        values["email_next_at"] = func.now() + timedelta(seconds=retry_in)
    with db.transaction() as tx:
        tx.execute(update(notifications).where(notifications.c.city_id == row.city_id, notifications.c.id == row.id,
                                               notifications.c.email_status == "sending").values(**values))


def send_due(db, contacts_of, smtp: mailer.Smtp, cfg, max_attempts: int, log) -> int:
    """Send every instant e-mail that is due. `contacts_of(city_id, user_ids)` is accounts.get_contacts."""
    with db.transaction() as tx:
        rows = claim_due(tx, max_attempts)
    if not rows:
        return 0
    by_city = defaultdict(list)
    for row in rows:
        by_city[row.city_id].append(row)
    with db.read() as s:
        city_info = _city_info(s, by_city)
    sent = 0
    with smtp:
        for city_id, group in by_city.items():
            try:
                contacts = {c["user_id"]: c for c in contacts_of(str(city_id), sorted({str(r.user_id) for r in group}))}
            except Exception as exc:  # accounts away: try again later
                log.warning("email_contacts_unavailable", city_id=str(city_id), error=repr(exc))
                for row in group:
                    _finish(db, row, "pending", f"contacts unavailable: {exc!r}"[:500],
                            retry_delay(row.email_attempts, RETRY_BASE_SECONDS, RETRY_MAX_SECONDS))
                continue
            city = city_info.get(city_id)
            for row in group:
                contact = contacts.get(str(row.user_id))
                if not contact or not contact.get("email"):
                    _finish(db, row, "skipped", "no e-mail address")
                    continue
                link = _links(cfg, city, row.user_id, city_id)
                try:
                    email = render.notification_email(
                        row.kind, row.data, locale=contact.get("locale") or (city.locales[0] if city and city.locales else None),
                        name=contact.get("display_name") or "", city_name=city.name if city else "Agora", unsubscribe_url=link,
                    )
                    msg = mailer.message(email, sender=cfg.mail_from, to=contact["email"], to_name=contact.get("display_name"),
                                         unsubscribe_url=link, message_id=f"<{row.id}@agora.notifications>")
                except ValueError as exc:  # a message that cannot be written: it never will be, the others go on
                    log.error("email_unwritable", notification_id=str(row.id), error=repr(exc))
                    _finish(db, row, "failed", repr(exc)[:500])
                    continue
                try:
                    smtp.send(msg)
                except (smtplib.SMTPException, OSError) as exc:
                    smtp.close()
                    log.warning("email_send_failed", notification_id=str(row.id), error=repr(exc))
                    _finish(db, row, "pending", repr(exc)[:500],
                            retry_delay(row.email_attempts, RETRY_BASE_SECONDS, RETRY_MAX_SECONDS))
                    continue
                _finish(db, row, "sent")
                sent += 1
    if sent:
        log.info("emails_sent", count=sent)
    return sent


# -- the daily digest -------------------------------------------------------------------------------------
def send_digests(db, contacts_of, smtp: mailer.Smtp, cfg, now: datetime, log, city_id=None,
                 day_of_run=None) -> int | None:
    """One e-mail per user gathering their notifications waiting for the digest up to `now`.

    Guarded by a PostgreSQL advisory lock, so one replica sends while the others skip (None). With
    `day_of_run`, the run is recorded for that day and skipped when it already ran.
    """
    with db.read() as session:
        if not session.execute(text("SELECT pg_try_advisory_lock(hashtext(:k))"), {"k": DIGEST_LOCK}).scalar():
            return None
        try:
            if day_of_run is not None and session.execute(
                    select(digest_runs.c.day).where(digest_runs.c.day == day_of_run)).first():
                return 0
            sent = _digest_all(db, contacts_of, smtp, cfg, now, log, city_id)
            if day_of_run is not None:
                with db.transaction() as tx:
                    tx.execute(pg_insert(digest_runs).values(day=day_of_run, sent=sent).on_conflict_do_nothing())
            return sent
        finally:
            session.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": DIGEST_LOCK})


def digest_due(now: datetime, hour_utc: int) -> bool:
    return now.astimezone(timezone.utc).hour >= hour_utc


def _digest_all(db, contacts_of, smtp, cfg, now, log, only_city) -> int:
    waiting = (notifications.c.email_status == "digest", notifications.c.created_at <= now)
    with db.read() as s:
        query = select(notifications.c.city_id, notifications.c.user_id).where(*waiting).distinct()
        if only_city is not None:
            query = query.where(notifications.c.city_id == store.as_uuid(only_city))
        pairs = s.execute(query).all()
        by_city = defaultdict(list)
        for city_id, user_id in pairs:
            by_city[city_id].append(user_id)
        city_info = _city_info(s, by_city)
    sent = 0
    with smtp:
        for city_id, user_ids in by_city.items():
            try:
                contacts = {c["user_id"]: c for c in contacts_of(str(city_id), sorted(str(u) for u in user_ids))}
            except Exception as exc:
                log.warning("digest_contacts_unavailable", city_id=str(city_id), error=repr(exc))
                continue
            city = city_info.get(city_id)
            for user_id in user_ids:
                try:
                    sent += _digest_one(db, smtp, cfg, now, city_id, city, user_id, contacts.get(str(user_id)))
                except (smtplib.SMTPException, OSError) as exc:
                    smtp.close()
                    log.warning("digest_send_failed", user_id=str(user_id), error=repr(exc))
    if sent:
        log.info("digests_sent", count=sent)
    return sent


def _digest_one(db, smtp, cfg, now, city_id, city, user_id, contact) -> int:
    with db.transaction() as tx:
        rows = tx.execute(
            select(notifications).where(notifications.c.city_id == city_id, notifications.c.user_id == user_id,
                                        notifications.c.email_status == "digest", notifications.c.created_at <= now)
            .order_by(notifications.c.created_at, notifications.c.id).with_for_update(skip_locked=True)
        ).all()
        if not rows:
            return 0
        ids = [r.id for r in rows]
        pref = store.preferences_of(tx, city_id, [user_id])[str(user_id)]
        if pref["email"] == "off" or not contact or not contact.get("email"):
            tx.execute(update(notifications).where(notifications.c.city_id == city_id, notifications.c.id.in_(ids))
                       .values(email_status="skipped"))
            return 0
        link = _links(cfg, city, user_id, city_id)
        email = render.digest_email(
            [(r.kind, r.data) for r in rows],
            locale=contact.get("locale") or (city.locales[0] if city and city.locales else None),
            name=contact.get("display_name") or "", city_name=city.name if city else "Agora", unsubscribe_url=link,
        )
        msg = mailer.message(email, sender=cfg.mail_from, to=contact["email"], to_name=contact.get("display_name"),
                             unsubscribe_url=link,
                             message_id=f"<digest-{now.date().isoformat()}-{user_id}@agora.notifications>")
        smtp.send(msg)  # a failure rolls back: the rows wait for the next run
        tx.execute(update(notifications).where(notifications.c.city_id == city_id, notifications.c.id.in_(ids))
                   .values(email_status="sent", emailed_at=func.now()))
    return 1
