"""Budgeting: participatory budgets of `budgeting` projects — items, ballots, outcomes by rule, pabulib files."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import eventlet

from services.budgeting import handlers, schemas
from services.budgeting.models import metadata
from services.common import auth
from services.common.db import Database
from services.common.entrypoints import on_event, rpc
from services.common.errors import NotFound, Unauthorized, validate
from services.common.observability import Observability
from services.common.outbox import OutboxRelay
from services.common.peers import Peers


class BudgetingService:
    name = "budgeting"

    db = Database(metadata)
    outbox = OutboxRelay(metadata)
    obs = Observability()
    peers = Peers()

    # -- the budget --------------------------------------------------------------------------------
    @rpc
    def configure_budget(self, principal: dict, city_id: str, project_id: str, payload: dict) -> dict:
        me = _admin(principal, city_id)
        data = validate(schemas.BudgetBody, payload)
        return handlers.configure_budget(self.db, me, _pid(project_id), data, peers=self.peers, now=_now(),
                                         principal=principal)

    @rpc
    def get_budget(self, principal: dict | None, city_id: str, project_id: str) -> dict:
        pid = _pid(project_id)
        with self.db.read() as s:
            return handlers.get_budget(s, city_id, pid)

    # -- items -------------------------------------------------------------------------------------
    @rpc
    def add_item(self, principal: dict, city_id: str, project_id: str, payload: dict) -> dict:
        me = _admin(principal, city_id)
        data = validate(schemas.CityItem, payload)
        return handlers.add_item(self.db, me, _pid(project_id), data, peers=self.peers, principal=principal)

    @rpc
    def delete_item(self, principal: dict, city_id: str, project_id: str, item_id: str) -> dict:
        me = _admin(principal, city_id)
        pid = _pid(project_id)
        with self.db.transaction() as tx:
            return handlers.delete_item(tx, me, pid, handlers.uuid_or_none(item_id))

    @rpc
    def list_items(self, principal: dict | None, city_id: str, project_id: str, query: dict | None = None) -> dict:
        pid = _pid(project_id)
        q = validate(schemas.ItemsQuery, query or {})
        with self.db.read() as s:
            return handlers.list_items(s, city_id, pid, q)

    # -- ballots -----------------------------------------------------------------------------------
    @rpc
    def save_ballot(self, principal: dict, city_id: str, project_id: str, payload: dict) -> dict:
        me = _user(principal, city_id)
        data = validate(schemas.BallotBody, payload)
        pid = _pid(project_id)
        with self.db.transaction() as tx:
            return handlers.save_ballot(tx, me, pid, data)

    @rpc
    def get_ballot(self, principal: dict, city_id: str, project_id: str) -> dict:
        me = _user(principal, city_id)
        pid = _pid(project_id)
        with self.db.read() as s:
            return handlers.get_ballot(s, me, pid)

    @rpc
    def submit_ballot(self, principal: dict, city_id: str, project_id: str, payload: dict | None = None) -> dict:
        me = _user(principal, city_id)
        data = validate(schemas.BallotBody, payload or {})
        pid = _pid(project_id)
        with self.db.transaction() as tx:
            return handlers.submit_ballot(tx, me, pid, data)

    # -- results -----------------------------------------------------------------------------------
    @rpc
    def results(self, principal: dict | None, city_id: str, project_id: str, query: dict | None = None) -> dict:
        me = auth.principal_of(principal)
        q = validate(schemas.ResultsQuery, query or {})
        return handlers.results(self.db, me, city_id, _pid(project_id), q, peers=self.peers, now=_now())

    # -- pabulib -----------------------------------------------------------------------------------
    @rpc
    def import_pabulib(self, principal: dict, city_id: str, project_id: str, payload: dict) -> dict:
        me = _admin(principal, city_id)
        pid = _pid(project_id)
        data = validate(schemas.PabulibImport, payload)
        return handlers.import_pabulib(self.db, me, pid, data, peers=self.peers, now=_now(), principal=principal,
                                       pause=_pause)

    @rpc
    def export_pabulib(self, principal: dict, city_id: str, project_id: str) -> str:
        me = _admin(principal, city_id)
        pid = _pid(project_id)
        with self.db.read() as s:
            return handlers.export_pabulib(s, me, pid)

    # -- read models from events -------------------------------------------------------------------
    @on_event("ideas", "project_created")
    def on_project_created(self, tx, event):
        handlers.project_fact(tx, event)

    @on_event("ideas", "project_updated")
    def on_project_updated(self, tx, event):
        handlers.project_fact(tx, event)

    @on_event("accounts", "user_registered")
    def on_user_registered(self, tx, event):
        handlers.profile_fact(tx, event)

    @on_event("accounts", "user_updated")
    def on_user_updated(self, tx, event):
        handlers.profile_fact(tx, event)


def _pause() -> None:
    """Let the other green threads of the process run (a long parse calls it every few rows)."""
    handlers.collect_young()
    eventlet.sleep(0)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _pid(project_id) -> uuid.UUID:
    pid = handlers.uuid_or_none(project_id)
    if pid is None:
        raise NotFound("No such project.")
    return pid


def _signed_in(principal) -> auth.Principal:
    me = auth.principal_of(principal)
    if me is None:
        raise Unauthorized("This needs a bearer token.")
    return me


def _user(principal, city_id) -> auth.Principal:
    return _signed_in(principal).require_city(city_id)


def _admin(principal, city_id) -> auth.Principal:
    return _signed_in(principal).require("admin").require_city(city_id)
