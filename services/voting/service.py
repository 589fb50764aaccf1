"""Voting: up and down votes on ideas and comments, and project polls with results by demographic group."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from nameko.exceptions import serialize
from nameko.rpc import RpcProxy

from services.common import auth, pagination, peers
from services.common.db import Database
from services.common.entrypoints import on_event, rpc
from services.common.errors import (
    AgoraError, Conflict, NotFound, Unauthorized, Unavailable, ValidationFailed, validate,
)
from services.common.observability import Observability
from services.common.outbox import OutboxRelay
from services.voting import polls, readmodels, rules, schemas, store
from services.voting.models import metadata

TARGET_TYPES = ("idea", "comment")
MAX_BATCH = 500


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def _now() -> datetime:
    return datetime.now(timezone.utc)


class VotingService:
    name = "voting"

    db = Database(metadata)
    outbox = OutboxRelay(metadata)
    obs = Observability()

    ideas = RpcProxy("ideas")
    accounts = RpcProxy("accounts")

    # -- votes -----------------------------------------------------------------------------------
    @rpc
    def cast_vote(self, principal: dict, target_type: str, target_id: str, payload: dict) -> dict:
        answer = self._cast([[principal, target_type, target_id, payload]])[0]
        if isinstance(answer, AgoraError):
            raise answer
        return answer

    @rpc
    def cast_votes(self, items: list) -> list[dict]:
        """The votes of several callers at once (the gateway sends the votes that arrive together),
        each item `[principal, target_type, target_id, payload]` as for `cast_vote`; each answer is
        `{"result": ..., "error": null}` or `{"result": null, "error": ...}`, as an RPC reply carries."""
        if not isinstance(items, list) or not 0 < len(items) <= MAX_BATCH:
            raise ValidationFailed("Not a batch of votes.", [{"field": "items", "issue": f"1 to {MAX_BATCH} votes"}])
        return [{"result": None, "error": serialize(a)} if isinstance(a, AgoraError) else {"result": a, "error": None}
                for a in self._cast(items)]

    def _cast(self, items: list) -> list:
        """The answer to each item, or the AgoraError refusing it.

        A round is one transaction: the facts of every target (one statement), the rules for each vote,
        the accepted votes and their totals (one statement), their events (the outbox). When a fact is
        not known yet, the round rolls back (nothing was written), the ideas service is asked once per
        target and the round runs again. Two votes of one voter on one target go to successive rounds."""
        answers: list = [None] * len(items)
        waiting: dict[int, store.Request] = {}
        for n, item in enumerate(items):
            try:
                waiting[n] = self._request(item)
            except AgoraError as exc:
                answers[n] = exc
        learnt: set = set()
        while waiting:
            this_round, later = _one_per_voter_and_target(waiting)
            try:
                with self.db.transaction() as tx:
                    facts = store.facts_of(tx, {r.target for r in this_round.values()})
                    missing = {k for k, f in facts.items() if k not in learnt and _incomplete(f)}
                    if missing:
                        raise _NotKnownYet(missing)
                    accepted = {}
                    for n, request in this_round.items():
                        try:
                            _check(request, facts[request.target])
                            accepted[n] = request
                        except AgoraError as exc:
                            answers[n] = exc
                    outcomes = store.cast_many(tx, list(accepted.values()))
                    for (n, request), outcome in zip(accepted.items(), outcomes):
                        self._emit(tx, request.city_id, request.voter_id, facts[request.target].target, outcome)
                        answers[n] = _vote_answer(outcome)
            except _NotKnownYet as not_yet:
                for key in not_yet.keys:
                    try:
                        self._learn_target(key[0], key[1], uuid.UUID(key[2]))
                    except AgoraError as exc:
                        for n, request in this_round.items():
                            if request.target == key:
                                answers[n] = exc
                    learnt.add(key)
                waiting = {n: r for n, r in waiting.items() if answers[n] is None}
                continue
            waiting = later
        return answers

    def _request(self, item) -> store.Request:
        try:
            principal, target_type, target_id, payload = item
        except (TypeError, ValueError):
            raise ValidationFailed("Not a vote.", [{"field": "item", "issue": "[principal, type, id, body]"}]) from None
        me = auth.principal_of(principal)
        if me is None:
            raise Unauthorized("Voting needs a bearer token.")
        value = _vote_value(payload)
        tid = self._target_id(target_type, target_id)
        return store.Request(str(me.city_id), str(me.user_id), target_type, str(tid), value)

    @rpc
    def withdraw_vote(self, principal: dict, target_type: str, target_id: str) -> dict:
        me = auth.principal_of(principal)
        if me is None:
            raise Unauthorized("Voting needs a bearer token.")
        target, project, _ = self._resolve(me.city_id, target_type, target_id)
        rules.check_withdraw(project)
        with self.db.transaction() as tx:
            outcome = store.withdraw(tx, me.city_id, me.user_id, target_type, target.target_id)
            self._emit(tx, me.city_id, me.user_id, target, outcome)
        return _vote_answer(outcome)

    @rpc
    def get_vote(self, city_id: str, principal: dict | None, target_type: str, target_id: str) -> dict:
        """The target's totals, and the caller's own vote when signed in."""
        me = auth.principal_of(principal)
        if me is not None:
            me.require_city(city_id)
        tid = self._target_id(target_type, target_id)
        with self.db.read() as s:
            known = readmodels.get_target(s, city_id, target_type, tid)
            up, down, version = store.counts(s, city_id, target_type, tid)
            mine = store.vote_of(s, city_id, me.user_id, target_type, tid) if me else None
        if known is None and version == 0:
            self._resolve(city_id, target_type, target_id)  # 404 when the ideas service knows it not
        return {"value": mine.value if mine else None, "up_votes": up, "down_votes": down}

    @rpc
    def own_votes(self, principal: dict, city_id: str, query: dict) -> dict:
        """The caller's votes on those of the given targets voted on, in the order of the ids asked."""
        me = auth.principal_of(principal)
        if me is None:
            raise Unauthorized("This needs a bearer token.")
        me.require_city(city_id)
        q = validate(schemas.OwnVotesQuery, query)
        with self.db.read() as s:
            values = dict(store.values_of(s, city_id, me.user_id, q.target_type, q.ids))
        order = dict.fromkeys(str(i) for i in q.ids)
        return {"items": [{"target_id": t, "value": values[t]} for t in order if t in values]}

    def _emit(self, tx, city_id, voter_id, target: rules.Target, outcome: store.Outcome) -> None:
        if outcome.change.event is None:
            return
        tx.emit(
            outcome.change.event, city_id=city_id, actor_id=voter_id,
            data={
                "vote_id": outcome.vote_id, "target_type": target.target_type, "target_id": target.target_id,
                "idea_id": target.idea_id or target.target_id, "project_id": target.project_id,
                "voter_id": voter_id, "author_id": target.author_id,
                "value": outcome.value or outcome.previous, "previous_value": outcome.previous,
                "up_votes": outcome.up_votes, "down_votes": outcome.down_votes, "target_version": outcome.version,
            },
        )

    def _target_id(self, target_type: str, target_id) -> uuid.UUID:
        tid = _uuid(target_id)
        if target_type not in TARGET_TYPES or tid is None:
            raise NotFound(f"No such {target_type}.")
        return tid

    def _resolve(self, city_id, target_type: str, target_id):
        """The target, its project and (for a comment) its idea, from the read model or asked once."""
        tid = self._target_id(target_type, target_id)
        with self.db.read() as s:
            target = readmodels.get_target(s, city_id, target_type, tid)
            project = readmodels.get_project(s, city_id, target.project_id) if target and target.project_id else None
        if target is not None and target.deleted:
            raise Conflict(f"This {target_type} was deleted; it takes no votes.")
        if target is None or project is None or target.author_id is None:
            self._learn_target(city_id, target_type, tid)
            with self.db.read() as s:
                target = readmodels.get_target(s, city_id, target_type, tid)
                project = readmodels.get_project(s, city_id, target.project_id) if target.project_id else None
            if project is None:
                raise Unavailable("The project of this content is not known yet; try again.")
        idea = None
        if target_type == "comment" and target.idea_id:
            with self.db.read() as s:
                idea = readmodels.get_target(s, city_id, "idea", target.idea_id)
        return target, project, idea

    def _learn_target(self, city_id, target_type: str, tid: uuid.UUID) -> None:
        asked_at = _now()
        try:
            answer = self._ask(self.ideas, "ideas", "vote_target", str(city_id), target_type, str(tid))
        except NotFound:
            raise NotFound(f"No such {target_type}.") from None
        fact = validate(schemas.VoteTarget, answer)
        if fact.target_id != tid or fact.target_type != target_type:
            raise NotFound(f"No such {target_type}.")
        with self.db.transaction() as tx:
            readmodels.upsert_target(
                tx, city_id, target_type, tid, idea_id=fact.idea_id or (tid if target_type == "idea" else None),
                project_id=fact.project_id, author_id=fact.author_id, hidden=not fact.visible, at=asked_at,
            )
            if fact.project_id and fact.project_status:
                readmodels.upsert_project(
                    tx, city_id, fact.project_id, status=fact.project_status,
                    allow_down_votes=fact.allow_down_votes, method=None, at=asked_at,
                )

    def _ask(self, proxy, service: str, method: str, *args):
        return peers.ask(proxy, service, method, *args)

    # -- polls -----------------------------------------------------------------------------------
    @rpc
    def create_question(self, principal: dict, city: dict, project_id: str, payload: dict) -> dict:
        me = auth.principal_of(principal)
        if me is None:
            raise Unauthorized("This needs a bearer token.")
        me.require("admin").require_city(city["id"])
        data = validate(schemas.NewQuestion, payload)
        pid, project = self._poll_project(me.city_id, project_id, principal)
        polls.check_poll_project(project.method, project.status, answering=False)
        options = [o.text for o in data.options]
        max_choices = polls.normalize_question(data.kind, data.text, [{"text": t} for t in options],
                                               data.max_choices, city.get("locales") or [])
        with self.db.transaction() as tx:
            return store.insert_question(
                tx, me.city_id, pid, text_=data.text, kind=data.kind, max_choices=max_choices,
                options=options, created_by=me.user_id,
            )

    @rpc
    def list_questions(self, city_id: str, project_id: str, limit=None, cursor=None) -> dict:
        pid = _uuid(project_id)
        if pid is None:
            raise NotFound("No such project.")
        limit = pagination.limit_of(limit)
        after = pagination.decode(cursor)
        if after is not None:
            try:
                after = [datetime.fromisoformat(after[0]), uuid.UUID(after[1])]
            except (ValueError, TypeError, IndexError):
                raise ValidationFailed(
                    "The cursor is not valid.", [{"field": "cursor", "issue": "not a cursor of this list"}]
                ) from None
        with self.db.read() as s:
            items = store.questions_of(s, city_id, pid, after=after, limit=limit + 1)
        return pagination.page(items, limit, lambda q: [q["created_at"], q["id"]])

    @rpc
    def answer_poll(self, principal: dict, project_id: str, payload: dict) -> dict:
        me = auth.principal_of(principal)
        if me is None:
            raise Unauthorized("Answering needs a bearer token.")
        data = validate(schemas.PollAnswers, payload)
        pid, project = self._poll_project(me.city_id, project_id, principal)
        polls.check_poll_project(project.method, project.status, answering=True)
        with self.db.read() as s:
            questions = _questions(store.questions_of(s, me.city_id, pid))
        answers = polls.check_answers(data.answers, {q.id: q for q in questions})
        self._learn_profiles(me.city_id, [str(me.user_id)], quiet=True)
        with self.db.transaction() as tx:
            replaced = store.save_response(tx, me.city_id, pid, me.user_id, answers)
            tx.emit("voting.poll_answered", city_id=me.city_id, actor_id=me.user_id,
                    data={"project_id": pid, "user_id": me.user_id, "answers": answers, "replaced": replaced})
        return {"project_id": str(pid), "answers": answers, "replaced": replaced}

    @rpc
    def get_response(self, principal: dict, project_id: str) -> dict:
        me = auth.principal_of(principal)
        if me is None:
            raise Unauthorized("This needs a bearer token.")
        pid = _uuid(project_id)
        with self.db.read() as s:
            row = store.response_of(s, me.city_id, pid, me.user_id) if pid else None
        if row is None:
            raise NotFound("You have not answered this poll.")
        return {"project_id": str(pid), "answers": row.answers, "updated_at": row.updated_at.isoformat()}

    @rpc
    def poll_results(self, city_id: str, project_id: str, by: str | None = None) -> dict:
        pid = _uuid(project_id)
        if pid is None:
            raise NotFound("No such project.")
        with self.db.read() as s:
            questions = _questions(store.questions_of(s, city_id, pid))
            choices = store.choices_of(s, city_id, pid)
        if not questions:
            with self.db.read() as s:
                if readmodels.get_project(s, city_id, pid) is None:
                    raise NotFound("No such poll.")
        profiles = {}
        if by:
            users = sorted({c[0] for c in choices})
            with self.db.read() as s:
                profiles = readmodels.get_profiles(s, city_id, users)
            missing = [u for u in users if u not in profiles]
            if missing and self._learn_profiles(city_id, missing, quiet=True):
                with self.db.read() as s:
                    profiles = readmodels.get_profiles(s, city_id, users)
        return {"project_id": str(pid), **polls.results(questions, choices, profiles, by)}

    def _poll_project(self, city_id, project_id, principal):
        pid = _uuid(project_id)
        if pid is None:
            raise NotFound("No such project.")
        with self.db.read() as s:
            project = readmodels.get_project(s, city_id, pid)
        if project is None:
            project = self._learn_project(city_id, pid, principal)
        return pid, project

    def _learn_project(self, city_id, pid: uuid.UUID, principal) -> rules.Project:
        """Ask ideas for a project its events have not told yet: `get_project(principal, city_id, project_id)`,
        on behalf of the caller (drafts are visible to admins only)."""
        asked_at = _now()
        try:
            answer = self._ask(self.ideas, "ideas", "get_project", principal, str(city_id), str(pid))
        except NotFound:
            raise NotFound("No such project.") from None
        except Unavailable as exc:
            if exc.details and exc.details[0].get("exc_type") in ("MethodNotFound", "IncorrectSignature"):
                raise NotFound("No such project (not known to voting yet).") from None
            raise
        status, method = answer.get("status"), answer.get("method")
        if not status:
            raise NotFound("No such project.")
        with self.db.transaction() as tx:
            readmodels.upsert_project(tx, city_id, pid, status=status, method=method,
                                      allow_down_votes=bool(answer.get("allow_down_votes", True)), at=asked_at)
        with self.db.read() as s:
            return readmodels.get_project(s, city_id, pid)

    def _learn_profiles(self, city_id, user_ids: list[str], quiet: bool = False) -> bool:
        """Fetch the demographics of users voting has not heard of (once per user); True when stored."""
        with self.db.read() as s:
            known = readmodels.get_profiles(s, city_id, user_ids)
        missing = [u for u in user_ids if u not in known]
        if not missing:
            return False
        asked_at = _now()
        try:
            found = self._ask(self.accounts, "accounts", "get_profiles", str(city_id), missing)
        except AgoraError:
            if quiet:
                return False
            raise
        with self.db.transaction() as tx:
            for p in found:
                readmodels.upsert_profile(tx, city_id, p["user_id"], birth_year=p.get("birth_year"),
                                          gender=p.get("gender"), district=p.get("district"), at=asked_at)
        return bool(found)

    # -- read models from events -----------------------------------------------------------------
    @on_event("ideas", "project_created")
    def on_project_created(self, tx, event):
        self._project_fact(tx, event)

    @on_event("ideas", "project_updated")
    def on_project_updated(self, tx, event):
        self._project_fact(tx, event)

    def _project_fact(self, tx, event):
        d = event.data
        readmodels.upsert_project(
            tx, event.city_id, d["project_id"], status=d["status"], method=d.get("method"),
            allow_down_votes=bool(d.get("allow_down_votes", True)), at=event.occurred_at,
        )

    @on_event("ideas", "idea_created")
    def on_idea_created(self, tx, event):
        self._idea_fact(tx, event)

    @on_event("ideas", "idea_updated")
    def on_idea_updated(self, tx, event):
        self._idea_fact(tx, event)

    def _idea_fact(self, tx, event, deleted: bool = False):
        d = event.data
        readmodels.upsert_target(tx, event.city_id, "idea", d["idea_id"], idea_id=d["idea_id"],
                                 project_id=d.get("project_id"), author_id=d.get("author_id"), deleted=deleted)

    @on_event("ideas", "idea_deleted")
    def on_idea_deleted(self, tx, event):
        self._idea_fact(tx, event, deleted=True)

    @on_event("ideas", "comment_created")
    def on_comment_created(self, tx, event):
        self._comment_fact(tx, event)

    @on_event("ideas", "comment_deleted")
    def on_comment_deleted(self, tx, event):
        self._comment_fact(tx, event, deleted=True)

    def _comment_fact(self, tx, event, deleted: bool = False):
        d = event.data
        readmodels.upsert_target(tx, event.city_id, "comment", d["comment_id"], idea_id=d.get("idea_id"),
                                 project_id=d.get("project_id"), author_id=d.get("author_id"), deleted=deleted)

    @on_event("ideas", "content_hidden")
    def on_content_hidden(self, tx, event):
        self._visibility(tx, event, hidden=True)

    @on_event("ideas", "content_restored")
    def on_content_restored(self, tx, event):
        self._visibility(tx, event, hidden=False)

    def _visibility(self, tx, event, hidden: bool):
        d = event.data
        if d.get("target_type") not in TARGET_TYPES:
            return
        idea_id = d.get("idea_id") or (d["target_id"] if d["target_type"] == "idea" else None)
        readmodels.upsert_target(tx, event.city_id, d["target_type"], d["target_id"], idea_id=idea_id,
                                 project_id=d.get("project_id"), author_id=d.get("author_id"),
                                 hidden=hidden, at=event.occurred_at)

    @on_event("accounts", "user_registered")
    def on_user_registered(self, tx, event):
        self._profile_fact(tx, event)

    @on_event("accounts", "user_updated")
    def on_user_updated(self, tx, event):
        self._profile_fact(tx, event)

    def _profile_fact(self, tx, event):
        d = event.data
        readmodels.upsert_profile(tx, d.get("city_id") or event.city_id, d["user_id"], birth_year=d.get("birth_year"),
                                  gender=d.get("gender"), district=d.get("district"), at=event.occurred_at)


class _NotKnownYet(Exception):
    """Targets or projects of a round are not in voting's read model yet (rolls the round back)."""

    def __init__(self, keys):
        super().__init__(keys)
        self.keys = keys


def _incomplete(facts: store.Facts) -> bool:
    target = facts.target
    if target is not None and target.deleted:
        return False  # a tombstone is all there is to know
    return target is None or facts.project is None or target.author_id is None


def _check(request: store.Request, facts: store.Facts) -> None:
    target, project = facts.target, facts.project
    if target is None:
        raise NotFound(f"No such {request.target_type}.")
    if target.deleted:
        raise Conflict(f"This {request.target_type} was deleted; it takes no votes.")
    if project is None:
        raise Unavailable("The project of this content is not known yet; try again.")
    rules.check_vote(target, project, request.voter_id, request.value, facts.idea)


def _one_per_voter_and_target(waiting: dict) -> tuple[dict, dict]:
    """The first vote of each voter on each target, and the rest (for the next round)."""
    this_round, later, seen = {}, {}, set()
    for n, request in waiting.items():
        key = (request.voter_id, request.target)
        (later if key in seen else this_round)[n] = request
        seen.add(key)
    return this_round, later


_VALUES = {"up": "up", "down": "down"}


def _vote_value(payload) -> str:
    """The body's value: the common exact bodies without building a model, anything else validated."""
    if type(payload) is dict and len(payload) == 1:
        value = _VALUES.get(payload.get("value")) if type(payload.get("value")) is str else None
        if value is not None:
            return value
    return validate(schemas.VoteBody, payload).value


def _vote_answer(outcome: store.Outcome) -> dict:
    return {"value": outcome.value, "up_votes": outcome.up_votes, "down_votes": outcome.down_votes}


def _questions(items: list[dict]) -> list[polls.Question]:
    return [
        polls.Question(id=q["id"], kind=q["kind"], max_choices=q["max_choices"],
                       option_ids=tuple(o["id"] for o in q["options"]), text=q["text"],
                       options=tuple(q["options"]))
        for q in items
    ]
