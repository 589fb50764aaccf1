"""Voting: up and down votes on ideas and comments, and project polls with results by demographic group."""
from __future__ import annotations

from datetime import datetime, timezone

from nameko.exceptions import serialize

from services.common.db import Database
from services.common.entrypoints import on_event, rpc
from services.common.errors import AgoraError, validate
from services.common.observability import Observability
from services.common.outbox import OutboxRelay
from services.common.peers import Peers
from services.voting import handlers, schemas
from services.voting.models import metadata


def _now() -> datetime:
    return datetime.now(timezone.utc)


class VotingService:
    name = "voting"

    db = Database(metadata)
    outbox = OutboxRelay(metadata)
    obs = Observability()
    peers = Peers()

    # -- votes -----------------------------------------------------------------------------------
    @rpc
    def cast_votes(self, items: list) -> list[dict]:
        """The votes of several callers at once (the gateway sends the votes that arrive together),
        each item a `schemas.CastVote` dict; each answer is `{"result": ..., "error": null}` or
        `{"result": null, "error": ...}`, as an RPC reply carries."""
        answers = handlers.cast_votes(self.db, _now(), self.peers, items)
        return [{"result": None, "error": serialize(a)} if isinstance(a, AgoraError) else {"result": a, "error": None}
                for a in answers]

    @rpc
    def withdraw_vote(self, principal: dict, city_id: str, target_type: str, target_id: str) -> dict:
        return handlers.withdraw_vote(self.db, _now(), self.peers, principal, city_id, target_type, target_id)

    @rpc
    def get_vote(self, principal: dict | None, city_id: str, target_type: str, target_id: str) -> dict:
        return handlers.get_vote(self.db, _now(), self.peers, principal, city_id, target_type, target_id)

    @rpc
    def own_votes(self, principal: dict, city_id: str, query: dict) -> dict:
        q = validate(schemas.OwnVotesQuery, query)
        with self.db.read() as s:
            return handlers.own_votes(s, principal, city_id, q)

    # -- polls -----------------------------------------------------------------------------------
    @rpc
    def create_question(self, principal: dict, city_id: str, project_id: str, payload: dict) -> dict:
        data = validate(schemas.QuestionRequest, payload)
        return handlers.create_question(self.db, _now(), self.peers, principal, city_id, project_id, data)

    @rpc
    def list_questions(self, principal: dict | None, city_id: str, project_id: str, query: dict) -> dict:
        q = validate(schemas.QuestionQuery, query or {})
        return handlers.list_questions(self.db, _now(), self.peers, principal, city_id, project_id, q)

    @rpc
    def answer_poll(self, principal: dict, city_id: str, project_id: str, payload: dict) -> dict:
        data = validate(schemas.PollAnswers, payload)
        return handlers.answer_poll(self.db, _now(), self.peers, principal, city_id, project_id, data)

    @rpc
    def get_response(self, principal: dict, city_id: str, project_id: str) -> dict:
        with self.db.read() as s:
            return handlers.get_response(s, principal, city_id, project_id)

    @rpc
    def poll_results(self, principal: dict | None, city_id: str, project_id: str, query: dict) -> dict:
        q = validate(schemas.ResultsQuery, query or {})
        return handlers.poll_results(self.db, _now(), self.peers, city_id, project_id, q.by)

    # -- read models from events -----------------------------------------------------------------
    @on_event("ideas", "project_created")
    def on_project_created(self, tx, event):
        handlers.project_fact(tx, event)

    @on_event("ideas", "project_updated")
    def on_project_updated(self, tx, event):
        handlers.project_fact(tx, event)

    @on_event("ideas", "idea_created")
    def on_idea_created(self, tx, event):
        handlers.idea_fact(tx, event)

    @on_event("ideas", "idea_updated")
    def on_idea_updated(self, tx, event):
        handlers.idea_fact(tx, event)

    @on_event("ideas", "idea_deleted")
    def on_idea_deleted(self, tx, event):
        handlers.idea_fact(tx, event, deleted=True)

    @on_event("ideas", "comment_created")
    def on_comment_created(self, tx, event):
        handlers.comment_fact(tx, event)

    @on_event("ideas", "comment_deleted")
    def on_comment_deleted(self, tx, event):
        handlers.comment_fact(tx, event, deleted=True)

    @on_event("ideas", "content_hidden")
    def on_content_hidden(self, tx, event):
        handlers.visibility_fact(tx, event, hidden=True)

    @on_event("ideas", "content_restored")
    def on_content_restored(self, tx, event):
        handlers.visibility_fact(tx, event, hidden=False)

    @on_event("accounts", "user_registered")
    def on_user_registered(self, tx, event):
        handlers.profile_fact(tx, event)

    @on_event("accounts", "user_updated")
    def on_user_updated(self, tx, event):
        handlers.profile_fact(tx, event)
