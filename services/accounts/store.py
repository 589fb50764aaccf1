"""Every SQL statement of accounts: cities and users."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, insert, literal, or_, select, tuple_, update

from services.accounts.models import cities, users


def insert_city(tx, city_id, *, slug: str, name: str, locales: list[str]):
    return tx.execute(
        insert(cities).values(id=city_id, slug=slug, name=name, locales=locales).returning(cities)
    ).one()


def city_by_slug(tx, slug: str):
    return tx.execute(select(cities).where(cities.c.slug == slug)).first()


def insert_user(tx, city_id, *, email: str, password_hash: str, display_name: str, birth_year, gender, district,
                locale, role: str):
    return tx.execute(
        insert(users).values(
            id=uuid.uuid4(), city_id=city_id, email=email, password_hash=password_hash, display_name=display_name,
            birth_year=birth_year, gender=gender, district=district, locale=locale, role=role,
        ).returning(users)
    ).one()


def user_by_email(tx, city_id, email: str):
    """The user with this e-mail in the city, with the city's slug (for the token)."""
    return tx.execute(
        select(users, cities.c.slug).join(cities, cities.c.id == users.c.city_id)
        .where(users.c.city_id == city_id, users.c.email == email)
    ).first()


def user(tx, city_id, user_id):
    return tx.execute(select(users).where(users.c.id == user_id, users.c.city_id == city_id)).first()


def update_user(tx, city_id, user_id, values: dict):
    """Set `values` on the user; the row as it is now, or None when there is no such user."""
    return tx.execute(
        update(users).where(users.c.id == user_id, users.c.city_id == city_id)
        .values(**values, updated_at=func.now()).returning(users)
    ).first()


def users_by_ids(tx, city_id, user_ids: list) -> list:
    return tx.execute(select(users).where(users.c.city_id == city_id, users.c.id.in_(user_ids))).all()


def contacts(tx, city_id, user_ids: list) -> list:
    return tx.execute(
        select(users.c.id, users.c.email, users.c.display_name, users.c.locale)
        .where(users.c.city_id == city_id, users.c.id.in_(user_ids))
    ).all()


def list_users(tx, city_id, *, role: str | None, q: str | None, after: tuple[datetime, uuid.UUID] | None,
               limit: int) -> list:
    """Up to `limit` users of the city, oldest first, after the (created_at, id) given."""
    stmt = select(users.c.id, users.c.display_name, users.c.email, users.c.role, users.c.created_at).where(
        users.c.city_id == city_id)
    if role:
        stmt = stmt.where(users.c.role == role)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(users.c.display_name.ilike(pattern, escape="\\"), users.c.email.ilike(pattern, escape="\\")))
    if after is not None:
        stmt = stmt.where(tuple_(users.c.created_at, users.c.id) > tuple_(
            literal(after[0], users.c.created_at.type), literal(after[1], users.c.id.type)))
    return tx.execute(stmt.order_by(users.c.created_at, users.c.id).limit(limit)).all()
