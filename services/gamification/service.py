"""Gamification: a points ledger fed by votes, ideas, comments and ballots; badges; leaderboards."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from services.common import auth
from services.common.db import Database
from services.common.entrypoints import on_event, on_events, rpc
from services.common.errors import NotFound, ValidationFailed, validate
from services.common.observability import Observability
from services.common.outbox import OutboxRelay
from services.common.peers import Peers
from services.gamification import handlers, schemas
from services.gamification.models import metadata


class GamificationService:
    name = "gamification"

    db = Database(metadata)
    outbox = OutboxRelay(metadata)
    obs = Observability()
    peers = Peers()

    # -- votes, in batches (the busiest input) -------------------------------------------------------
    @on_events("voting", "vote_cast")
    def on_vote_cast(self, tx, events):
        handlers.book_votes(tx, _votes(events), "cast")

    @on_events("voting", "vote_changed")
    def on_vote_changed(self, tx, events):
        handlers.book_votes(tx, _votes(events), "changed")

    @on_events("voting", "vote_withdrawn")
    def on_vote_withdrawn(self, tx, events):
        handlers.book_votes(tx, _votes(events), "withdrawn")

    # -- ideas, comments, ballots --------------------------------------------------------------------
    @on_event("ideas", "idea_created")
    def on_idea_created(self, tx, event):
        handlers.idea_created(tx, event, _city(event), validate(schemas.IdeaCreated, event.data))

    @on_event("ideas", "idea_status_changed")
    def on_idea_status_changed(self, tx, event):
        handlers.idea_status_changed(tx, event, _city(event), validate(schemas.IdeaStatusChanged, event.data))

    @on_event("ideas", "comment_created")
    def on_comment_created(self, tx, event):
        handlers.comment_created(tx, event, _city(event), validate(schemas.CommentCreated, event.data))

    @on_event("budgeting", "ballot_submitted")
    def on_ballot_submitted(self, tx, event):
        handlers.ballot_submitted(tx, event, _city(event), validate(schemas.BallotSubmitted, event.data))

    # -- visibility ----------------------------------------------------------------------------------
    @on_event("ideas", "idea_deleted")
    def on_idea_deleted(self, tx, event):
        handlers.idea_deleted(tx, event, _city(event), validate(schemas.IdeaDeleted, event.data))

    @on_event("ideas", "content_hidden")
    def on_content_hidden(self, tx, event):
        handlers.visibility(tx, event, _city(event), validate(schemas.ContentVisibility, event.data), hidden=True)

    @on_event("ideas", "content_restored")
    def on_content_restored(self, tx, event):
        handlers.visibility(tx, event, _city(event), validate(schemas.ContentVisibility, event.data), hidden=False)

    # -- profiles ------------------------------------------------------------------------------------
    @on_event("accounts", "user_registered")
    def on_user_registered(self, tx, event):
        handlers.profile(tx, event, _city(event), validate(schemas.ProfileEvent, event.data))

    @on_event("accounts", "user_updated")
    def on_user_updated(self, tx, event):
        handlers.profile(tx, event, _city(event), validate(schemas.ProfileEvent, event.data))

    # -- the rules -----------------------------------------------------------------------------------
    @rpc
    def get_rules(self, principal: dict | None, city_id: str) -> dict:
        with self.db.read() as s:
            return handlers.get_rules(s, _city_id(city_id))

    @rpc
    def update_rules(self, principal: dict, city_id: str, payload: dict) -> dict:
        me = auth.principal_of(principal).require("admin").require_city(city_id)
        change = validate(schemas.RulesChange, payload)
        with self.db.transaction() as tx:
            return handlers.update_rules(tx, me, change)

    # -- reads ---------------------------------------------------------------------------------------
    @rpc
    def leaderboard(self, principal: dict | None, city_id: str, query: dict | None = None) -> dict:
        q = validate(schemas.LeaderboardQuery, query or {})
        return handlers.leaderboard(self.db, _city_id(city_id), q, now=_now(), peers=self.peers)

    @rpc
    def score(self, principal: dict | None, city_id: str, user_id: str, query: dict | None = None) -> dict:
        q = validate(schemas.ScoreQuery, query or {})
        return handlers.score(self.db, _city_id(city_id), _user_id(user_id), q, now=_now(), peers=self.peers)

    @rpc
    def engaged(self, principal: dict, city_id: str, query: dict | None = None) -> dict:
        me = auth.principal_of(principal).require("admin").require_city(city_id)
        q = validate(schemas.EngagedQuery, query or {})
        return handlers.engaged(self.db, me, q, now=_now(), peers=self.peers)


def _votes(events) -> list[tuple]:
    return [(event, _city(event), validate(schemas.VoteEvent, event.data)) for event in events]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _city(event):
    if event.city_id is None:
        raise ValidationFailed("The event names no city.", [{"field": "city_id", "issue": "required"}])
    return event.city_id


def _city_id(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationFailed("Not a city id.", [{"field": "city_id", "issue": "not a UUID"}]) from None


def _user_id(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound("No such user.") from None
