"""Ideas: projects (consultations), ideas, comments, topics, statuses with official feedback, and flags.

Keeps two read models fed by events: the users of the accounts service (to show authors) and the vote
totals of the voting service (to sort lists without asking anyone).
"""
from __future__ import annotations

from services.common.config import settings
from services.common.db import Database
from services.common.entrypoints import on_event, on_events, rpc
from services.common.errors import NotFound, validate
from services.common.observability import Observability
from services.common.outbox import OutboxRelay
from services.common.peers import Peers
from services.ideas import handlers, schemas
from services.ideas.models import metadata

PROFILE_LOOKUP_SECONDS = 2.0


def _with_locales(model, payload: dict):
    """The city's locales (the payload's `city_locales`, given by the gateway) and the validated rest."""
    payload = dict(payload or {})
    locales = payload.pop("city_locales", None) or []
    return list(locales), validate(model, payload)


class IdeasService:
    name = "ideas"

    db = Database(metadata)
    outbox = OutboxRelay(metadata)
    obs = Observability()
    peers = Peers(timeout=PROFILE_LOOKUP_SECONDS)

    # -- projects -------------------------------------------------------------------------------
    @rpc
    def create_project(self, principal: dict, city_id: str, payload: dict) -> dict:
        locales, data = _with_locales(schemas.NewProject, payload)
        with self.db.transaction() as tx:
            return handlers.create_project(tx, principal, city_id, locales, data)

    @rpc
    def update_project(self, principal: dict, city_id: str, project_id: str, payload: dict) -> dict:
        locales, data = _with_locales(schemas.ProjectPatch, payload)
        with self.db.transaction() as tx:
            return handlers.update_project(tx, principal, city_id, locales, project_id, data)

    @rpc
    def get_project(self, principal, city_id: str, project_id: str) -> dict:
        with self.db.read() as s:
            return handlers.get_project(s, principal, city_id, project_id)

    @rpc
    def list_projects(self, principal, city_id: str, query: dict) -> dict:
        q = validate(schemas.ProjectQuery, query or {})
        with self.db.read() as s:
            return handlers.list_projects(s, principal, city_id, q)

    # -- ideas ----------------------------------------------------------------------------------
    @rpc
    def create_idea(self, principal: dict, city_id: str, project_id: str, payload: dict) -> dict:
        locales, data = _with_locales(schemas.NewIdea, payload)
        me = handlers.caller(principal, city_id, "citizen")
        author = handlers.author(self.db, self.peers, city_id, me.user_id)
        with self.db.transaction() as tx:
            return handlers.create_idea(tx, principal, city_id, locales, project_id, data, author)

    @rpc
    def get_idea(self, principal, city_id: str, idea_id: str) -> dict:
        with self.db.read() as s:
            return handlers.get_idea(s, principal, city_id, idea_id)

    @rpc
    def list_ideas(self, principal, city_id: str, project_id: str, query: dict) -> dict:
        q = validate(schemas.IdeaQuery, query or {})
        with self.db.read() as s:
            return handlers.list_ideas(s, principal, city_id, project_id, q)

    @rpc
    def update_idea(self, principal: dict, city_id: str, idea_id: str, payload: dict) -> dict:
        locales, data = _with_locales(schemas.IdeaPatch, payload)
        with self.db.transaction() as tx:
            return handlers.update_idea(tx, principal, city_id, locales, idea_id, data)

    @rpc
    def delete_idea(self, principal: dict, city_id: str, idea_id: str) -> None:
        with self.db.transaction() as tx:
            handlers.delete_idea(tx, principal, city_id, idea_id)

    @rpc
    def change_status(self, principal: dict, city_id: str, idea_id: str, payload: dict) -> dict:
        locales, data = _with_locales(schemas.StatusChange, payload)
        with self.db.transaction() as tx:
            return handlers.change_status(tx, principal, city_id, locales, idea_id, data)

    # -- comments -------------------------------------------------------------------------------
    @rpc
    def create_comment(self, principal: dict, city_id: str, idea_id: str, payload: dict) -> dict:
        data = validate(schemas.NewComment, payload)
        me = handlers.caller(principal, city_id, "citizen")
        handlers.author(self.db, self.peers, city_id, me.user_id)
        with self.db.transaction() as tx:
            return handlers.create_comment(tx, principal, city_id, idea_id, data)

    @rpc
    def list_comments(self, principal, city_id: str, idea_id: str, query: dict) -> dict:
        q = validate(schemas.FlagQuery, query or {})
        with self.db.read() as s:
            return handlers.list_comments(s, principal, city_id, idea_id, q)

    @rpc
    def list_own(self, principal: dict, city_id: str, target_type: str, query: dict) -> dict:
        """The caller's own ideas or comments (`target_type` idea|comment), newest first."""
        if target_type not in ("idea", "comment"):
            raise NotFound(f"Nothing of type {target_type!r}.")
        q = validate(schemas.OwnQuery, query or {})
        with self.db.read() as s:
            return handlers.list_own(s, principal, city_id, target_type, q)

    @rpc
    def get_comment(self, principal, city_id: str, comment_id: str) -> dict:
        with self.db.read() as s:
            return handlers.get_comment(s, principal, city_id, comment_id)

    @rpc
    def update_comment(self, principal: dict, city_id: str, comment_id: str, payload: dict) -> dict:
        data = validate(schemas.CommentPatch, payload)
        with self.db.transaction() as tx:
            return handlers.update_comment(tx, principal, city_id, comment_id, data)

    @rpc
    def delete_comment(self, principal: dict, city_id: str, comment_id: str) -> None:
        with self.db.transaction() as tx:
            handlers.delete_comment(tx, principal, city_id, comment_id)

    # -- flags and moderation -------------------------------------------------------------------
    @rpc
    def flag(self, principal: dict, city_id: str, target_type: str, target_id: str, payload: dict) -> dict:
        data = validate(schemas.NewFlag, payload)
        with self.db.transaction() as tx:
            return handlers.flag(tx, principal, city_id, target_type, target_id, data, settings().flag_threshold)

    @rpc
    def list_flags(self, principal: dict, city_id: str, query: dict) -> dict:
        q = validate(schemas.FlagQuery, query or {})
        with self.db.read() as s:
            return handlers.list_flags(s, principal, city_id, q)

    @rpc
    def moderate(self, principal: dict, city_id: str, target_type: str, target_id: str, payload: dict) -> dict:
        data = validate(schemas.ModerationDecision, payload)
        with self.db.transaction() as tx:
            return handlers.moderate(tx, principal, city_id, target_type, target_id, data)

    # -- for other services ---------------------------------------------------------------------
    @rpc
    def vote_target(self, city_id: str, target_type: str, target_id: str) -> dict:
        with self.db.read() as s:
            return handlers.vote_target(s, city_id, target_type, target_id)

    # -- read model: users ----------------------------------------------------------------------
    @on_event("accounts", "user_registered")
    def on_user_registered(self, tx, event):
        handlers.apply_profile(tx, validate(schemas.ProfileEvent, event.data), event.occurred_at)

    @on_event("accounts", "user_updated")
    def on_user_updated(self, tx, event):
        handlers.apply_profile(tx, validate(schemas.ProfileEvent, event.data), event.occurred_at)

    # -- read model: votes (in batches: a vote stream is this service's busiest input) -------------
    @on_events("voting", "vote_cast")
    def on_vote_cast(self, tx, events):
        handlers.apply_votes(tx, events)

    @on_events("voting", "vote_changed")
    def on_vote_changed(self, tx, events):
        handlers.apply_votes(tx, events)

    @on_events("voting", "vote_withdrawn")
    def on_vote_withdrawn(self, tx, events):
        handlers.apply_votes(tx, events)
