"""Reads and writes of the notifications tables, each scoped to one city. Functions of a transaction."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.common import pagination
from services.notifications import render, triggers
from services.notifications.models import (
    cities, idea_voters, ideas, milestones, notifications, participants, preferences, projects, users,
)


def as_uuid(value) -> uuid.UUID | None:
    if value is None:
        return None
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# -- read models -------------------------------------------------------------------------------------
def upsert_city(tx, city_id, slug: str, name: str, locales: list) -> None:
    stmt = pg_insert(cities).values(city_id=city_id, slug=slug, name=name, locales=list(locales or []))
    tx.execute(stmt.on_conflict_do_update(index_elements=[cities.c.city_id],
                                          set_={"slug": slug, "name": name, "locales": list(locales or [])}))


def upsert_user(tx, city_id, user_id, display_name: str, locale: str | None) -> None:
    stmt = pg_insert(users).values(user_id=user_id, city_id=city_id, display_name=display_name, locale=locale)
    tx.execute(stmt.on_conflict_do_update(index_elements=[users.c.user_id],
                                          set_={"display_name": display_name, "locale": locale},
                                          where=users.c.city_id == city_id))


def upsert_project(tx, city_id, project_id, title: dict) -> None:
    stmt = pg_insert(projects).values(project_id=project_id, city_id=city_id, title=title or {})
    tx.execute(stmt.on_conflict_do_update(index_elements=[projects.c.project_id], set_={"title": title or {}},
                                          where=projects.c.city_id == city_id))


def upsert_idea(tx, city_id, data: dict) -> None:
    values = {"project_id": as_uuid(data.get("project_id")), "author_id": as_uuid(data.get("author_id")),
              "title": data.get("title")}
    stmt = pg_insert(ideas).values(idea_id=as_uuid(data["idea_id"]), city_id=city_id, **values)
    tx.execute(stmt.on_conflict_do_update(index_elements=[ideas.c.idea_id], set_=values,
                                          where=ideas.c.city_id == city_id))


def add_participant(tx, city_id, project_id, user_id) -> None:
    project_id, user_id = as_uuid(project_id), as_uuid(user_id)
    if project_id and user_id:
        tx.execute(pg_insert(participants).values(project_id=project_id, user_id=user_id, city_id=city_id)
                   .on_conflict_do_nothing())


def record_vote(tx, city_id, data: dict, withdrawn: bool) -> None:
    """Keep the newest vote of a voter on an idea (by target_version); a withdrawal leaves a tombstone."""
    if data.get("target_type") != "idea":
        return
    idea_id, voter = as_uuid(data.get("target_id") or data.get("idea_id")), as_uuid(data.get("voter_id"))
    if not idea_id or not voter:
        return
    version = int(data.get("target_version") or 0)
    value = None if withdrawn else data.get("value")
    stmt = pg_insert(idea_voters).values(idea_id=idea_id, user_id=voter, city_id=city_id, value=value, version=version)
    tx.execute(stmt.on_conflict_do_update(
        index_elements=[idea_voters.c.idea_id, idea_voters.c.user_id],
        set_={"value": value, "version": version},
        where=and_(idea_voters.c.version < version, idea_voters.c.city_id == city_id),
    ))


def voters_of(tx, city_id, idea_id) -> list[str]:
    rows = tx.execute(select(idea_voters.c.user_id).where(
        idea_voters.c.city_id == city_id, idea_voters.c.idea_id == as_uuid(idea_id), idea_voters.c.value.is_not(None),
    )).scalars().all()
    return [str(r) for r in rows]


def participants_of(tx, city_id, project_id) -> list[str]:
    rows = tx.execute(select(participants.c.user_id).where(
        participants.c.city_id == city_id, participants.c.project_id == as_uuid(project_id),
    )).scalars().all()
    return [str(r) for r in rows]


def idea_title(tx, city_id, idea_id) -> str | None:
    return tx.execute(select(ideas.c.title).where(ideas.c.city_id == city_id, ideas.c.idea_id == as_uuid(idea_id))
                      ).scalar()


def project_title(tx, city_id, project_id) -> dict | None:
    return tx.execute(select(projects.c.title).where(projects.c.city_id == city_id,
                                                     projects.c.project_id == as_uuid(project_id))).scalar()


def display_name(tx, city_id, user_id) -> str | None:
    return tx.execute(select(users.c.display_name).where(users.c.city_id == city_id,
                                                         users.c.user_id == as_uuid(user_id))).scalar()


def reached_milestones(tx, city_id, idea_id) -> set[int]:
    return set(tx.execute(select(milestones.c.milestone).where(
        milestones.c.city_id == city_id, milestones.c.idea_id == as_uuid(idea_id))).scalars().all())


def record_milestones(tx, city_id, idea_id, reached: list[int]) -> None:
    for m in reached:
        tx.execute(pg_insert(milestones).values(idea_id=as_uuid(idea_id), milestone=m, city_id=city_id)
                   .on_conflict_do_nothing())


# -- preferences -----------------------------------------------------------------------------------------
DEFAULT_PREFERENCES = {"email": "instant", "in_app": True}


def preferences_of(tx, city_id, user_ids) -> dict[str, dict]:
    ids = [as_uuid(u) for u in user_ids]
    rows = tx.execute(select(preferences).where(preferences.c.city_id == city_id, preferences.c.user_id.in_(ids))).all()
    found = {str(r.user_id): {"email": r.email, "in_app": r.in_app} for r in rows}
    return {str(u): found.get(str(u), dict(DEFAULT_PREFERENCES)) for u in ids}


def set_preferences(tx, city_id, user_id, patch: dict) -> dict:
    current = preferences_of(tx, city_id, [user_id])[str(user_id)]
    new = {**current, **{k: v for k, v in patch.items() if v is not None}}
    stmt = pg_insert(preferences).values(user_id=as_uuid(user_id), city_id=city_id, **new)
    tx.execute(stmt.on_conflict_do_update(index_elements=[preferences.c.user_id],
                                          set_={**new, "updated_at": func.now()},
                                          where=preferences.c.city_id == city_id))
    return new


# -- notices ---------------------------------------------------------------------------------------------
def create_notices(tx, city_id, event_id, notices: list[triggers.Notice]) -> int:
    """Store each notice under its recipient's preferences; one per recipient and event at most."""
    if not notices:
        return 0
    prefs = preferences_of(tx, city_id, [n.user_id for n in notices])
    created = 0
    for notice in notices:
        pref = prefs[str(as_uuid(notice.user_id))]
        status = triggers.email_status(pref["email"])
        if not pref["in_app"] and status == "none":
            continue
        row = tx.execute(
            pg_insert(notifications).values(
                id=uuid.uuid4(), city_id=city_id, user_id=as_uuid(notice.user_id), kind=notice.kind,
                data=notice.data, source_event_id=event_id, in_app=pref["in_app"], email_status=status,
            ).on_conflict_do_nothing().returning(notifications.c.id)
        ).first()
        created += row is not None
    return created


def _item(row, locale: str) -> dict:
    title, body = render.text(row.kind, row.data, locale)
    return {
        "id": str(row.id), "kind": row.kind, "title": title, "body": body, "data": row.data,
        "read": row.read_at is not None, "read_at": row.read_at.isoformat() if row.read_at else None,
        "created_at": row.created_at.isoformat(),
    }


def user_locale(tx, city_id, user_id) -> str:
    row = tx.execute(select(users.c.locale, cities.c.locales).select_from(users.outerjoin(
        cities, cities.c.city_id == users.c.city_id)).where(users.c.city_id == city_id,
                                                            users.c.user_id == as_uuid(user_id))).first()
    if row is None:
        return render.locale_of(None)
    return render.locale_of(row.locale, *(row.locales or []))


def _inbox(city_id, user_id):
    return and_(notifications.c.city_id == city_id, notifications.c.user_id == as_uuid(user_id),
                notifications.c.in_app.is_(True))


def unread_count(tx, city_id, user_id) -> int:
    return tx.execute(select(func.count()).select_from(notifications).where(
        _inbox(city_id, user_id), notifications.c.read_at.is_(None))).scalar()


def inbox(tx, city_id, user_id, *, unread_only: bool, limit: int, cursor: str | None) -> dict:
    """Newest first; the cursor is the (created_at, id) of the last item returned."""
    query = select(notifications).where(_inbox(city_id, user_id))
    if unread_only:
        query = query.where(notifications.c.read_at.is_(None))
    key = pagination.decode(cursor)
    if key is not None:
        try:
            at, last_id = datetime.fromisoformat(key[0]), uuid.UUID(str(key[1]))
        except (ValueError, IndexError, TypeError):
            pagination.decode("!")  # raises the standard "cursor is not valid"
        query = query.where(or_(notifications.c.created_at < at,
                                and_(notifications.c.created_at == at, notifications.c.id < last_id)))
    rows = tx.execute(query.order_by(notifications.c.created_at.desc(), notifications.c.id.desc())
                      .limit(limit + 1)).all()
    locale = user_locale(tx, city_id, user_id)
    result = pagination.page(rows, limit, lambda r: [r.created_at.isoformat(), str(r.id)])
    result["items"] = [_item(r, locale) for r in result["items"]]
    result["unread_count"] = unread_count(tx, city_id, user_id)
    return result


def mark_read(tx, city_id, user_id, ids: list | None) -> int:
    stmt = update(notifications).where(_inbox(city_id, user_id), notifications.c.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(notifications.c.id.in_([as_uuid(i) for i in ids]))
    return tx.execute(stmt.values(read_at=func.now())).rowcount

