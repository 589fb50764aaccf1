"""Voting's use cases: cast, change and withdraw votes; polls; the facts kept of other services.

Plain functions called with their dependencies: `db` (a use case that may span several transactions,
when a fact has to be asked of a peer first) or `tx`, `now` (the clock), `peers` (`peers.ask(...)`).
"""
from __future__ import annotations

import uuid
from datetime import datetime

from services.common import auth, pagination
from services.common.errors import AgoraError, Conflict, NotFound, Unauthorized, Unavailable, ValidationFailed, validate
from services.voting import polls, readmodels, rules, schemas, store

TARGET_TYPES = ("idea", "comment")
MAX_BATCH = 500


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def _signed_in(principal, city_id, what: str = "This needs a bearer token."):
    me = auth.principal_of(principal)
    if me is None:
        raise Unauthorized(what)
    return me.require_city(city_id)


def _target_id(target_type: str, target_id) -> uuid.UUID:
    tid = _uuid(target_id)
    if target_type not in TARGET_TYPES or tid is None:
        raise NotFound(f"No such {target_type}.")
    return tid


# -- votes -----------------------------------------------------------------------------------------
def cast_votes(db, now: datetime, peers, items: list) -> list:
    """The answer to each item (a `schemas.CastVote` dict), or the AgoraError refusing it.

    A round is one transaction: the facts of every target (one statement), the rules for each vote,
    the accepted votes and their totals (one statement), their events (the outbox). When a fact is
    not known yet, the round rolls back (nothing was written), the ideas service is asked once per
    target and the round runs again. Two votes of one voter on one target go to successive rounds."""
    if not isinstance(items, list) or not 0 < len(items) <= MAX_BATCH:
        raise ValidationFailed("Not a batch of votes.", [{"field": "items", "issue": f"1 to {MAX_BATCH} votes"}])
    answers: list = [None] * len(items)
    waiting: dict[int, store.Request] = {}
    for n, item in enumerate(items):
        try:
            waiting[n] = _request(item)
        except AgoraError as exc:
            answers[n] = exc
    learnt: set = set()
    while waiting:
        this_round, later = _one_per_voter_and_target(waiting)
        try:
            with db.transaction() as tx:
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
                    _emit(tx, request.city_id, request.voter_id, facts[request.target].target, outcome)
                    answers[n] = _vote_answer(outcome)
        except _NotKnownYet as not_yet:
            for key in not_yet.keys:
                try:
                    learn_target(db, now, peers, key[0], key[1], uuid.UUID(key[2]))
                except AgoraError as exc:
                    for n, request in this_round.items():
                        if request.target == key:
                            answers[n] = exc
                learnt.add(key)
            waiting = {n: r for n, r in waiting.items() if answers[n] is None}
            continue
        waiting = later
    return answers


def _request(item) -> store.Request:
    if not isinstance(item, dict):
        raise ValidationFailed("Not a vote.", [{"field": "item", "issue": "{principal, city_id, target_type, target_id, body}"}])
    vote = validate(schemas.CastVote, item)
    me = _signed_in(vote.principal, vote.city_id, "Voting needs a bearer token.")
    value = _vote_value(vote.body)
    tid = _target_id(vote.target_type, vote.target_id)
    return store.Request(str(me.city_id), str(me.user_id), vote.target_type, str(tid), value)


def withdraw_vote(db, now: datetime, peers, principal, city_id: str, target_type: str, target_id) -> dict:
    me = _signed_in(principal, city_id, "Voting needs a bearer token.")
    target, project, _ = _resolve(db, now, peers, city_id, target_type, target_id)
    rules.check_withdraw(project)
    with db.transaction() as tx:
        outcome = store.withdraw(tx, city_id, me.user_id, target_type, target.target_id)
        _emit(tx, city_id, me.user_id, target, outcome)
    return _vote_answer(outcome)


def get_vote(db, now: datetime, peers, principal, city_id: str, target_type: str, target_id) -> dict:
    """The target's totals, and the caller's own vote when signed in."""
    me = auth.principal_of(principal)
    if me is not None:
        me.require_city(city_id)
    tid = _target_id(target_type, target_id)
    with db.read() as s:
        known = readmodels.get_target(s, city_id, target_type, tid)
        up, down, version = store.counts(s, city_id, target_type, tid)
        mine = store.vote_of(s, city_id, me.user_id, target_type, tid) if me else None
    if known is None and version == 0:
        _resolve(db, now, peers, city_id, target_type, target_id)  # 404 when the ideas service knows it not
    return {"value": mine.value if mine else None, "up_votes": up, "down_votes": down}


def own_votes(session, principal, city_id: str, query: schemas.OwnVotesQuery) -> dict:
    """The caller's votes on those of the given targets voted on, in the order of the ids asked."""
    me = _signed_in(principal, city_id)
    values = dict(store.values_of(session, city_id, me.user_id, query.target_type, query.ids))
    order = dict.fromkeys(str(i) for i in query.ids)
    return {"items": [{"target_id": t, "value": values[t]} for t in order if t in values]}


def _emit(tx, city_id, voter_id, target: rules.Target, outcome: store.Outcome) -> None:
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


def _resolve(db, now, peers, city_id, target_type: str, target_id):
    """The target, its project and (for a comment) its idea, from the read model or asked once."""
    tid = _target_id(target_type, target_id)
    with db.read() as s:
        target = readmodels.get_target(s, city_id, target_type, tid)
        project = readmodels.get_project(s, city_id, target.project_id) if target and target.project_id else None
    if target is not None and target.deleted:
        raise Conflict(f"This {target_type} was deleted; it takes no votes.")
    if target is None or project is None or target.author_id is None:
        learn_target(db, now, peers, city_id, target_type, tid)
        with db.read() as s:
            target = readmodels.get_target(s, city_id, target_type, tid)
            project = readmodels.get_project(s, city_id, target.project_id) if target.project_id else None
        if project is None:
            raise Unavailable("The project of this content is not known yet; try again.")
    idea = None
    if target_type == "comment" and target.idea_id:
        with db.read() as s:
            idea = readmodels.get_target(s, city_id, "idea", target.idea_id)
    return target, project, idea


def learn_target(db, now: datetime, peers, city_id, target_type: str, tid: uuid.UUID) -> None:
    """Ask ideas for a target its events have not told yet, and keep the answer."""
    try:
        answer = peers.ask("ideas", "vote_target", str(city_id), target_type, str(tid))
    except NotFound:
        raise NotFound(f"No such {target_type}.") from None
    fact = validate(schemas.VoteTarget, answer)
    if fact.target_id != tid or fact.target_type != target_type:
        raise NotFound(f"No such {target_type}.")
    with db.transaction() as tx:
        readmodels.targets.upsert(
            tx, at=now, city_id=city_id, target_type=target_type, target_id=tid,
            idea_id=fact.idea_id or (tid if target_type == "idea" else None),
            project_id=fact.project_id, author_id=fact.author_id, hidden=not fact.visible,
        )
        if fact.project_id and fact.project_status:
            readmodels.projects.upsert(tx, at=now, city_id=city_id, project_id=fact.project_id,
                                       status=fact.project_status, allow_down_votes=fact.allow_down_votes,
                                       method=None)


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


# -- polls -----------------------------------------------------------------------------------------
def create_question(db, now: datetime, peers, principal, city_id: str, project_id, data: schemas.QuestionRequest) -> dict:
    me = _signed_in(principal, city_id)
    me.require("admin")
    pid, project = _poll_project(db, now, peers, city_id, project_id, principal)
    polls.check_poll_project(project.method, project.status, answering=False)
    options = [o.text for o in data.options]
    max_choices = polls.normalize_question(data.kind, data.text, [{"text": t} for t in options],
                                           data.max_choices, data.city_locales)
    with db.transaction() as tx:
        return store.insert_question(tx, city_id, pid, text_=data.text, kind=data.kind, max_choices=max_choices,
                                     options=options, created_by=me.user_id)


def list_questions(db, now: datetime, peers, principal, city_id: str, project_id, query: schemas.QuestionQuery) -> dict:
    """The poll's questions, oldest first; a project of another city (or none) is 404."""
    me = auth.principal_of(principal)
    if me is not None:
        me.require_city(city_id)
    pid, _ = _poll_project(db, now, peers, city_id, project_id, principal)
    after = pagination.decode(query.cursor)
    if after is not None:
        try:
            after = [datetime.fromisoformat(after[0]), uuid.UUID(after[1])]
        except (ValueError, TypeError, IndexError):
            raise ValidationFailed(
                "The cursor is not valid.", [{"field": "cursor", "issue": "not a cursor of this list"}]
            ) from None
    with db.read() as s:
        items = store.questions_of(s, city_id, pid, after=after, limit=query.limit + 1)
    return pagination.page(items, query.limit, lambda q: [q["created_at"], q["id"]])


def answer_poll(db, now: datetime, peers, principal, city_id: str, project_id, data: schemas.PollAnswers) -> dict:
    me = _signed_in(principal, city_id, "Answering needs a bearer token.")
    pid, project = _poll_project(db, now, peers, city_id, project_id, principal)
    polls.check_poll_project(project.method, project.status, answering=True)
    with db.read() as s:
        questions = _questions(store.questions_of(s, city_id, pid))
    answers = polls.check_answers(data.answers, {q.id: q for q in questions})
    learn_profiles(db, now, peers, city_id, [str(me.user_id)], quiet=True)
    with db.transaction() as tx:
        replaced = store.save_response(tx, city_id, pid, me.user_id, answers)
        tx.emit("voting.poll_answered", city_id=city_id, actor_id=me.user_id,
                data={"project_id": pid, "user_id": me.user_id, "answers": answers, "replaced": replaced})
    return {"project_id": str(pid), "answers": answers, "replaced": replaced}


def get_response(session, principal, city_id: str, project_id) -> dict:
    me = _signed_in(principal, city_id)
    pid = _uuid(project_id)
    row = store.response_of(session, city_id, pid, me.user_id) if pid else None
    if row is None:
        raise NotFound("You have not answered this poll.")
    return {"project_id": str(pid), "answers": row.answers, "updated_at": row.updated_at.isoformat()}


def poll_results(db, now: datetime, peers, city_id: str, project_id, by: str | None) -> dict:
    pid = _uuid(project_id)
    if pid is None:
        raise NotFound("No such project.")
    with db.read() as s:
        questions = _questions(store.questions_of(s, city_id, pid))
        choices = store.choices_of(s, city_id, pid)
        if not questions and readmodels.get_project(s, city_id, pid) is None:
            raise NotFound("No such poll.")
    profiles = {}
    if by:
        users = sorted({c[0] for c in choices})
        with db.read() as s:
            profiles = readmodels.get_profiles(s, city_id, users)
        missing = [u for u in users if u not in profiles]
        if missing and learn_profiles(db, now, peers, city_id, missing, quiet=True):
            with db.read() as s:
                profiles = readmodels.get_profiles(s, city_id, users)
    return {"project_id": str(pid), **polls.results(questions, choices, profiles, by)}


def _poll_project(db, now, peers, city_id, project_id, principal):
    pid = _uuid(project_id)
    if pid is None:
        raise NotFound("No such project.")
    with db.read() as s:
        project = readmodels.get_project(s, city_id, pid)
    if project is None:
        project = _learn_project(db, now, peers, city_id, pid, principal)
    return pid, project


def _learn_project(db, now, peers, city_id, pid: uuid.UUID, principal) -> rules.Project:
    """Ask ideas for a project its events have not told yet: `get_project(principal, city_id, project_id)`,
    on behalf of the caller (drafts are visible to admins only)."""
    try:
        answer = peers.ask("ideas", "get_project", principal, str(city_id), str(pid))
    except NotFound:
        raise NotFound("No such project.") from None
    status, method = answer.get("status"), answer.get("method")
    if not status:
        raise NotFound("No such project.")
    with db.transaction() as tx:
        readmodels.projects.upsert(tx, at=now, city_id=city_id, project_id=pid, status=status, method=method,
                                   allow_down_votes=bool(answer.get("allow_down_votes", True)))
    with db.read() as s:
        return readmodels.get_project(s, city_id, pid)


def learn_profiles(db, now, peers, city_id, user_ids: list[str], quiet: bool = False) -> bool:
    """Fetch the demographics of users voting has not heard of (once per user); True when stored."""
    with db.read() as s:
        known = readmodels.get_profiles(s, city_id, user_ids)
    missing = [u for u in user_ids if u not in known]
    if not missing:
        return False
    try:
        found = peers.ask("accounts", "get_profiles", str(city_id), missing)
    except AgoraError:
        if quiet:
            return False
        raise
    with db.transaction() as tx:
        for p in found:
            readmodels.upsert_profile(tx, city_id, p["user_id"], birth_year=p.get("birth_year"),
                                      gender=p.get("gender"), district=p.get("district"), at=now)
    return bool(found)


def _questions(items: list[dict]) -> list[polls.Question]:
    return [
        polls.Question(id=q["id"], kind=q["kind"], max_choices=q["max_choices"],
                       option_ids=tuple(o["id"] for o in q["options"]), text=q["text"],
                       options=tuple(q["options"]))
        for q in items
    ]


# -- facts from events -----------------------------------------------------------------------------
def project_fact(tx, event) -> None:
    d = event.data
    readmodels.projects.upsert(tx, at=event.occurred_at, city_id=event.city_id, project_id=d["project_id"],
                               status=d["status"], method=d.get("method"),
                               allow_down_votes=bool(d.get("allow_down_votes", True)))


def idea_fact(tx, event, deleted: bool = False) -> None:
    d = event.data
    readmodels.targets.upsert(tx, at=None, city_id=event.city_id, target_type="idea", target_id=d["idea_id"],
                              idea_id=d["idea_id"], project_id=d.get("project_id"), author_id=d.get("author_id"),
                              deleted=deleted)


def comment_fact(tx, event, deleted: bool = False) -> None:
    d = event.data
    readmodels.targets.upsert(tx, at=None, city_id=event.city_id, target_type="comment",
                              target_id=d["comment_id"], idea_id=d.get("idea_id"), project_id=d.get("project_id"),
                              author_id=d.get("author_id"), deleted=deleted)


def visibility_fact(tx, event, hidden: bool) -> None:
    d = event.data
    if d.get("target_type") not in TARGET_TYPES:
        return
    idea_id = d.get("idea_id") or (d["target_id"] if d["target_type"] == "idea" else None)
    readmodels.targets.upsert(tx, at=event.occurred_at, city_id=event.city_id, target_type=d["target_type"],
                              target_id=d["target_id"], idea_id=idea_id, project_id=d.get("project_id"),
                              author_id=d.get("author_id"), hidden=hidden)


def profile_fact(tx, event) -> None:
    d = event.data
    readmodels.upsert_profile(tx, d.get("city_id") or event.city_id, d["user_id"], birth_year=d.get("birth_year"),
                              gender=d.get("gender"), district=d.get("district"), at=event.occurred_at)
