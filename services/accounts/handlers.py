"""The use cases of accounts: create a city, sign up, log in, read and change a profile, set a role,
list a city's users, and the facts other services ask for."""
from __future__ import annotations

import uuid
from datetime import datetime

from eventlet import tpool
from sqlalchemy.exc import IntegrityError

from services.accounts import schemas, store
from services.common import auth, pagination
from services.common.errors import Conflict, NotFound, Unauthorized, ValidationFailed

# Verifying against this when an e-mail is unknown keeps the answer time the same as for a wrong password.
_DUMMY_HASH = auth.hash_password("not-a-real-password")


def hash_password(password: str) -> str:
    """bcrypt in a thread of its own: it takes long enough to stall every other worker of the process."""
    return tpool.execute(auth.hash_password, password)


# -- cities ----------------------------------------------------------------------------------------
def create_city(tx, data: schemas.NewCity) -> dict:
    city_id = uuid.uuid4()
    password_hash = hash_password(data.admin.password)
    try:
        row = store.insert_city(tx, city_id, slug=data.slug, name=data.name, locales=data.locales)
    except IntegrityError:
        raise Conflict(f"A city with slug {data.slug!r} exists already.") from None
    admin = _insert_user(tx, city_id, data.admin, password_hash, role="admin")
    tx.emit("accounts.city_created", city_id=city_id,
            data={"city_id": city_id, "slug": data.slug, "name": data.name, "locales": data.locales})
    tx.emit("accounts.user_registered", city_id=city_id, actor_id=admin.id, data=profile_of(admin))
    return {**city_of(row), "admin": me_of(admin)}


def get_city(tx, slug: str) -> dict:
    row = store.city_by_slug(tx, slug)
    if row is None:
        raise NotFound(f"No city {slug!r}.")
    return city_of(row)


# -- users -----------------------------------------------------------------------------------------
def register(tx, city_id: str, data: schemas.NewUser) -> dict:
    row = _insert_user(tx, city_id, data, hash_password(data.password))
    tx.emit("accounts.user_registered", city_id=city_id, actor_id=row.id, data=profile_of(row))
    return me_of(row)


def _insert_user(tx, city_id, data: schemas.NewUser, password_hash: str, role: str = "citizen"):
    try:
        return store.insert_user(
            tx, city_id, email=data.email.lower(), password_hash=password_hash, display_name=data.display_name,
            birth_year=data.birth_year, gender=data.gender, district=data.district, locale=data.locale, role=role,
        )
    except IntegrityError:
        raise Conflict("An account with this e-mail exists already in this city.") from None


def issue_token(tx, city_id: str, data: schemas.Credentials, *, secret: str, ttl: int) -> dict:
    row = store.user_by_email(tx, city_id, data.email.lower())
    ok = tpool.execute(auth.verify_password, row.password_hash if row else _DUMMY_HASH, data.password)
    if row is None or not ok:
        raise Unauthorized("Wrong e-mail or password.")
    token = auth.issue_token(user_id=row.id, city_id=row.city_id, city_slug=row.slug, role=row.role,
                             secret=secret, ttl=ttl)
    return {"access_token": token, "token_type": "bearer", "expires_in": ttl}


def get_me(tx, me: auth.Principal) -> dict:
    row = store.user(tx, me.city_id, me.user_id)
    if row is None:
        raise NotFound("No such user.")
    return me_of(row)


def update_me(tx, me: auth.Principal, patch: schemas.ProfilePatch) -> dict:
    values = patch.model_dump(exclude_unset=True)
    if "display_name" in values and values["display_name"] is None:
        del values["display_name"]
    password = values.pop("password", None)
    if password:
        values["password_hash"] = hash_password(password)
    row = store.update_user(tx, me.city_id, me.user_id, values)
    if row is None:
        raise NotFound("No such user.")
    if set(values) - {"password_hash"}:
        tx.emit("accounts.user_updated", city_id=me.city_id, actor_id=me.user_id, data=profile_of(row))
    return me_of(row)


def set_role(tx, me: auth.Principal, user_id: str, change: schemas.RoleChange) -> dict:
    uid = as_uuid(user_id)
    row = store.update_user(tx, me.city_id, uid, {"role": change.role}) if uid else None
    if row is None:
        raise NotFound("No such user in this city.")
    tx.emit("accounts.role_changed", city_id=me.city_id, actor_id=me.user_id,
            data={"user_id": row.id, "city_id": me.city_id, "role": change.role})
    return profile_of(row)


def list_users(tx, city_id: str, query: schemas.UserQuery) -> dict:
    """A page of the city's users, oldest first, for its admins."""
    after = _after(pagination.decode(query.cursor))
    rows = store.list_users(tx, city_id, role=query.role, q=query.q, after=after, limit=query.limit + 1)
    page = pagination.page(rows, query.limit, lambda r: [r.created_at.isoformat(), str(r.id)])
    page["items"] = [{"id": str(r.id), "display_name": r.display_name, "email": r.email, "role": r.role,
                      "created_at": r.created_at.isoformat()} for r in page["items"]]
    return page


def _after(key: list | None):
    if key is None:
        return None
    try:
        at, uid = key
        return datetime.fromisoformat(at), uuid.UUID(uid)
    except (TypeError, ValueError):
        raise ValidationFailed("The cursor is not valid.", [{"field": "cursor", "issue": "not a cursor of this list"}])


# -- for other services ----------------------------------------------------------------------------
def get_profiles(tx, city_id: str, user_ids: list) -> list[dict]:
    """Public profiles (demographics, no e-mail) of the given users of one city."""
    ids = _uuids(user_ids)
    return [profile_of(r) for r in store.users_by_ids(tx, city_id, ids)] if ids else []


def get_contacts(tx, city_id: str, user_ids: list) -> list[dict]:
    """E-mail addresses for delivering notifications; only the notifications service asks."""
    ids = _uuids(user_ids)
    return [{"user_id": str(r.id), "email": r.email, "display_name": r.display_name, "locale": r.locale}
            for r in store.contacts(tx, city_id, ids)] if ids else []


# -- views -----------------------------------------------------------------------------------------
def city_of(row) -> dict:
    return {"id": str(row.id), "slug": row.slug, "name": row.name, "locales": list(row.locales),
            "created_at": row.created_at.isoformat()}


def profile_of(row) -> dict:
    return schemas.Profile(
        user_id=row.id, city_id=row.city_id, display_name=row.display_name, birth_year=row.birth_year,
        gender=row.gender, district=row.district, locale=row.locale, role=row.role,
    ).model_dump(mode="json")


def me_of(row) -> dict:
    """The user's own view: the public profile plus e-mail."""
    profile = profile_of(row)
    return {"id": profile.pop("user_id"), "email": row.email, **profile, "created_at": row.created_at.isoformat()}


def as_uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _uuids(values: list) -> list[uuid.UUID]:
    return [u for u in (as_uuid(v) for v in values) if u is not None]
