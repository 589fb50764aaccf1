"""Accounts: cities (tenants), users with demographics, roles, passwords and tokens."""
from __future__ import annotations

from services.accounts import handlers, schemas
from services.accounts.models import metadata
from services.common import auth
from services.common.config import settings
from services.common.db import Database
from services.common.entrypoints import rpc
from services.common.errors import validate
from services.common.observability import Observability
from services.common.outbox import OutboxRelay


class AccountsService:
    name = "accounts"

    db = Database(metadata)
    outbox = OutboxRelay(metadata)
    obs = Observability()

    # -- cities (the platform operator) -----------------------------------------------------------
    @rpc
    def create_city(self, principal: dict | None, payload: dict) -> dict:
        data = validate(schemas.NewCity, payload)
        with self.db.transaction() as tx:
            return handlers.create_city(tx, data)

    @rpc
    def get_city(self, slug: str) -> dict:
        with self.db.transaction() as tx:
            return handlers.get_city(tx, str(slug))

    # -- users ------------------------------------------------------------------------------------
    @rpc
    def register(self, principal: dict | None, city_id: str, payload: dict) -> dict:
        data = validate(schemas.NewUser, payload)
        with self.db.transaction() as tx:
            return handlers.register(tx, city_id, data)

    @rpc
    def issue_token(self, principal: dict | None, city_id: str, payload: dict) -> dict:
        data = validate(schemas.Credentials, payload)
        cfg = settings()
        with self.db.transaction() as tx:
            return handlers.issue_token(tx, city_id, data, secret=cfg.jwt_secret, ttl=cfg.jwt_ttl_seconds)

    @rpc
    def get_me(self, principal: dict, city_id: str) -> dict:
        me = auth.principal_of(principal).require_city(city_id)
        with self.db.transaction() as tx:
            return handlers.get_me(tx, me)

    @rpc
    def update_me(self, principal: dict, city_id: str, payload: dict) -> dict:
        me = auth.principal_of(principal).require_city(city_id)
        patch = validate(schemas.ProfilePatch, payload)
        with self.db.transaction() as tx:
            return handlers.update_me(tx, me, patch)

    @rpc
    def set_role(self, principal: dict, city_id: str, user_id: str, payload: dict) -> dict:
        me = auth.principal_of(principal).require("admin").require_city(city_id)
        change = validate(schemas.RoleChange, payload)
        with self.db.transaction() as tx:
            return handlers.set_role(tx, me, user_id, change)

    @rpc
    def list_users(self, principal: dict, city_id: str, query: dict) -> dict:
        auth.principal_of(principal).require("admin").require_city(city_id)
        data = validate(schemas.UserQuery, query)
        with self.db.transaction() as tx:
            return handlers.list_users(tx, city_id, data)

    # -- for other services -----------------------------------------------------------------------
    @rpc
    def get_profiles(self, city_id: str, user_ids: list) -> list[dict]:
        with self.db.transaction() as tx:
            return handlers.get_profiles(tx, city_id, user_ids)

    @rpc
    def get_contacts(self, city_id: str, user_ids: list) -> list[dict]:
        with self.db.transaction() as tx:
            return handlers.get_contacts(tx, city_id, user_ids)
