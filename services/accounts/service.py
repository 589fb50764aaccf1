"""Accounts: cities (tenants), users with demographics, roles, passwords and tokens."""
from __future__ import annotations

import uuid

from eventlet import tpool
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from services.accounts import passwords, schemas
from services.accounts.models import cities, metadata, users
from services.common import auth
from services.common.config import settings
from services.common.db import Database
from services.common.entrypoints import rpc
from services.common.errors import Conflict, NotFound, Unauthorized, ValidationFailed, validate
from services.common.observability import Observability
from services.common.outbox import OutboxRelay

# Verifying against this when an e-mail is unknown keeps the answer time the same as for a wrong password.
_DUMMY_HASH = auth.hash_password("not-a-real-password")


def _city(row) -> dict:
    return {
        "id": str(row.id),
        "slug": row.slug,
        "name": row.name,
        "locales": list(row.locales),
        "created_at": row.created_at.isoformat(),
    }


def _profile(row) -> dict:
    return schemas.Profile(
        user_id=row.id, city_id=row.city_id, display_name=row.display_name, birth_year=row.birth_year,
        gender=row.gender, district=row.district, locale=row.locale, role=row.role,
    ).model_dump(mode="json")


def _me(row) -> dict:
    """The user's own view: the public profile plus e-mail."""
    profile = _profile(row)
    return {
        "id": profile.pop("user_id"),
        "email": row.email,
        **profile,
        "created_at": row.created_at.isoformat(),
    }


class AccountsService:
    name = "accounts"

    db = Database(metadata)
    outbox = OutboxRelay(metadata)
    obs = Observability()

    # -- cities -------------------------------------------------------------------------------
    @rpc
    def create_city(self, payload: dict) -> dict:
        data = validate(schemas.NewCity, payload)
        city_id, admin_id = uuid.uuid4(), uuid.uuid4()
        password_hash = tpool.execute(auth.hash_password, data.admin.password)
        try:
            with self.db.transaction() as tx:
                row = tx.execute(
                    insert(cities)
                    .values(id=city_id, slug=data.slug, name=data.name, locales=data.locales)
                    .returning(cities)
                ).one()
                admin = self._insert_user(tx, city_id, data.admin, password_hash, role="admin")
                tx.emit(
                    "accounts.city_created",
                    city_id=city_id,
                    data={"city_id": city_id, "slug": data.slug, "name": data.name, "locales": data.locales},
                )
                tx.emit("accounts.user_registered", city_id=city_id, actor_id=admin_id, data=_profile(admin))
        except IntegrityError:
            raise Conflict(f"A city with slug {data.slug!r} exists already.") from None
        return {**_city(row), "admin": _me(admin)}

    @rpc
    def get_city(self, slug: str) -> dict:
        with self.db.read() as s:
            row = s.execute(select(cities).where(cities.c.slug == str(slug))).first()
        if row is None:
            raise NotFound(f"No city {slug!r}.")
        return _city(row)

    # -- users --------------------------------------------------------------------------------
    def _insert_user(self, tx, city_id, data: schemas.NewUser, password_hash: str, role: str = "citizen"):
        return tx.execute(
            insert(users)
            .values(
                id=uuid.uuid4(), city_id=city_id, email=data.email.lower(), password_hash=password_hash,
                display_name=data.display_name, birth_year=data.birth_year, gender=data.gender,
                district=data.district, locale=data.locale, role=role,
            )
            .returning(users)
        ).one()

    @rpc
    def register(self, city_id: str, payload: dict) -> dict:
        data = validate(schemas.NewUser, payload)
        password_hash = tpool.execute(auth.hash_password, data.password)
        try:
            with self.db.transaction() as tx:
                row = self._insert_user(tx, city_id, data, password_hash)
                tx.emit("accounts.user_registered", city_id=city_id, actor_id=row.id, data=_profile(row))
        except IntegrityError:
            raise Conflict("An account with this e-mail exists already in this city.") from None
        return _me(row)

    @rpc
    def issue_token(self, city_id: str, payload: dict) -> dict:
        data = validate(schemas.Credentials, payload)
        with self.db.read() as s:
            row = s.execute(
                select(users, cities.c.slug)
                .join(cities, cities.c.id == users.c.city_id)
                .where(users.c.city_id == city_id, users.c.email == data.email.lower())
            ).first()
        ok = tpool.execute(auth.verify_password, row.password_hash if row else _DUMMY_HASH, data.password)
        if row is None or not ok:
            raise Unauthorized("Wrong e-mail or password.")
        cfg = settings()
        token = auth.issue_token(
            user_id=row.id, city_id=row.city_id, city_slug=row.slug, role=row.role,
            secret=cfg.jwt_secret, ttl=cfg.jwt_ttl_seconds,
        )
        return {"access_token": token, "token_type": "bearer", "expires_in": cfg.jwt_ttl_seconds}

    @rpc
    def get_me(self, principal: dict) -> dict:
        me = auth.principal_of(principal)
        with self.db.read() as s:
            row = s.execute(select(users).where(users.c.id == me.user_id, users.c.city_id == me.city_id)).first()
        if row is None:
            raise NotFound("No such user.")
        return _me(row)

    @rpc
    def update_me(self, principal: dict, payload: dict) -> dict:
        me = auth.principal_of(principal)
        patch = validate(schemas.ProfilePatch, payload).model_dump(exclude_unset=True)
        if "display_name" in patch and patch["display_name"] is None:
            del patch["display_name"]
        password = patch.pop("password", None)
        with self.db.transaction() as tx:
            if password:
                current = tx.execute(select(users.c.email, users.c.display_name)
                                     .where(users.c.id == me.user_id, users.c.city_id == me.city_id)).first()
                if current is not None:
                    _check_password(password, current.email, patch.get("display_name") or current.display_name)
                patch["password_hash"] = tpool.execute(auth.hash_password, password)
            row = tx.execute(
                update(users)
                .where(users.c.id == me.user_id, users.c.city_id == me.city_id)
                .values(**patch, updated_at=func.now())
                .returning(users)
            ).first()
            if row is None:
                raise NotFound("No such user.")
            if set(patch) - {"password_hash"}:
                tx.emit("accounts.user_updated", city_id=me.city_id, actor_id=me.user_id, data=_profile(row))
        return _me(row)

    @rpc
    def set_role(self, principal: dict, user_id: str, payload: dict) -> dict:
        me = auth.principal_of(principal).require("admin")
        data = validate(schemas.RoleChange, payload)
        user_id = _uuid(user_id)
        with self.db.transaction() as tx:
            row = tx.execute(
                update(users)
                .where(users.c.id == user_id, users.c.city_id == me.city_id)
                .values(role=data.role, updated_at=func.now())
                .returning(users)
            ).first()
            if row is None:
                raise NotFound("No such user in this city.")
            tx.emit(
                "accounts.role_changed", city_id=me.city_id, actor_id=me.user_id,
                data={"user_id": row.id, "city_id": me.city_id, "role": data.role},
            )
        return _profile(row)

    # -- for other services -------------------------------------------------------------------
    @rpc
    def get_principal(self, city_id: str, user_id: str) -> dict | None:
        """The user's principal as it is now (the gateway checks every token against it); None when
        the city has no such user."""
        uid, cid = _uuid(user_id), _uuid(city_id)
        if uid is None or cid is None:
            return None
        with self.db.read() as s:
            row = s.execute(select(users.c.role).where(users.c.id == uid, users.c.city_id == cid)).first()
        return None if row is None else {"user_id": str(uid), "city_id": str(cid), "role": row.role}

    @rpc
    def get_profiles(self, city_id: str, user_ids: list) -> list[dict]:
        """Public profiles (demographics, no e-mail) of the given users of one city."""
        ids = [_uuid(u) for u in user_ids]
        ids = [u for u in ids if u is not None]
        if not ids:
            return []
        with self.db.read() as s:
            rows = s.execute(select(users).where(users.c.city_id == city_id, users.c.id.in_(ids))).all()
        return [_profile(r) for r in rows]

    @rpc
    def get_contacts(self, city_id: str, user_ids: list) -> list[dict]:
        """E-mail addresses for delivering notifications; only the notifications service asks."""
        ids = [u for u in (_uuid(x) for x in user_ids) if u is not None]
        if not ids:
            return []
        with self.db.read() as s:
            rows = s.execute(
                select(users.c.id, users.c.email, users.c.display_name, users.c.locale)
                .where(users.c.city_id == city_id, users.c.id.in_(ids))
            ).all()
        return [
            {"user_id": str(r.id), "email": r.email, "display_name": r.display_name, "locale": r.locale}
            for r in rows
        ]


def _check_password(password: str, email: str, name: str) -> None:
    issue = passwords.weakness(password, email=email, name=name)
    if issue:
        raise ValidationFailed("The request is not valid.", [{"field": "password", "issue": issue}])


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
