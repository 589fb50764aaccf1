"""Votes, totals and poll responses in the database: the statements that keep them right under concurrency.

- One vote per (city, voter, target) is a unique constraint; a PUT is one INSERT ... ON CONFLICT DO
  UPDATE that changes the row only when the value differs, so concurrent PUTs of one user leave one
  vote and each real change is seen by exactly one transaction.
- A target's totals are one row changed with `up_votes = up_votes + :d ... RETURNING` in the vote's
  transaction: the row lock serialises concurrent voters (no lost update) and the returned totals and
  version are those this change produced.
- Votes are cast a batch at a time: one statement reads the facts the rules need for every target of
  the batch, one writes the accepted votes and their targets' totals (`_CAST_MANY`), one adds their
  events to the outbox: a transaction of three statements however many votes it holds (four when some
  changed nothing).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, literal, literal_column, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert

from services.voting import rules
from services.voting.models import poll_choices, poll_options, poll_questions, poll_responses, vote_counts, votes


@dataclass(frozen=True)
class Outcome:
    vote_id: str | None
    value: str | None  # the voter's value after the operation
    previous: str | None
    change: rules.Change
    up_votes: int
    down_votes: int
    version: int


def _apply(tx, city_id, target_type, target_id, change: rules.Change):
    return tx.execute(
        text(
            "UPDATE voting.vote_counts SET up_votes = up_votes + :up, down_votes = down_votes + :down, "
            "version = version + 1 WHERE city_id = :c AND target_type = :t AND target_id = :id "
            "RETURNING up_votes, down_votes, version"
        ),
        {"up": change.up, "down": change.down, "c": city_id, "t": target_type, "id": target_id},
    ).one()


def counts(session, city_id, target_type, target_id) -> tuple[int, int, int]:
    row = session.execute(
        select(vote_counts.c.up_votes, vote_counts.c.down_votes, vote_counts.c.version).where(
            vote_counts.c.city_id == city_id, vote_counts.c.target_type == target_type,
            vote_counts.c.target_id == target_id,
        )
    ).first()
    return tuple(row) if row else (0, 0, 0)


def vote_of(session, city_id, voter_id, target_type, target_id):
    return session.execute(
        select(votes.c.id, votes.c.value).where(
            votes.c.city_id == city_id, votes.c.voter_id == voter_id,
            votes.c.target_type == target_type, votes.c.target_id == target_id,
        )
    ).first()


def values_of(session, city_id, voter_id, target_type, target_ids) -> list[tuple[str, str]]:
    """The voter's `(target_id, value)` on those of the targets voted on."""
    rows = session.execute(
        select(votes.c.target_id, votes.c.value).where(
            votes.c.city_id == city_id, votes.c.voter_id == voter_id, votes.c.target_type == target_type,
            votes.c.target_id.in_(target_ids),
        )
    ).all()
    return [(str(r.target_id), r.value) for r in rows]


# -- casting votes, a batch at a time ------------------------------------------------------------------
@dataclass(frozen=True)
class Facts:
    """What the rules need to know of a vote's target: the target, its project and, for a comment, its idea."""

    target: rules.Target | None
    project: rules.Project | None
    idea: rules.Target | None


_FACTS = text(
    """
    SELECT k.city, k.kind, k.tid, t.target_id IS NOT NULL AS known, t.idea_id, t.project_id, t.author_id,
           t.deleted, t.hidden, p.status, p.allow_down_votes, p.method,
           i.target_id IS NOT NULL AS idea_known, i.deleted AS idea_deleted, i.hidden AS idea_hidden,
           i.project_id AS idea_project_id, i.author_id AS idea_author_id
    FROM unnest(CAST(:cs AS uuid[]), CAST(:ts AS text[]), CAST(:tids AS uuid[])) AS k(city, kind, tid)
    LEFT JOIN voting.targets t ON t.city_id = k.city AND t.target_type = k.kind AND t.target_id = k.tid
    LEFT JOIN voting.projects p ON p.city_id = k.city AND p.project_id = t.project_id
    LEFT JOIN voting.targets i ON k.kind = 'comment' AND i.city_id = k.city AND i.target_type = 'idea'
                               AND i.target_id = t.idea_id
    """
)


def facts_of(tx, keys) -> dict[tuple[str, str, str], Facts]:
    """The facts of each `(city_id, target_type, target_id)`, from voting's read model, in one statement."""
    keys = sorted({(str(c), t, str(tid)) for c, t, tid in keys})
    rows = tx.execute(_FACTS, {"cs": [k[0] for k in keys], "ts": [k[1] for k in keys],
                               "tids": [k[2] for k in keys]}).all()
    out = {}
    for row in rows:
        target = project = idea = None
        if row.known:
            target = rules.Target(
                target_type=row.kind, target_id=str(row.tid), idea_id=_str(row.idea_id),
                project_id=_str(row.project_id), author_id=_str(row.author_id), deleted=row.deleted,
                hidden=row.hidden,
            )
        if row.status is not None:
            project = rules.Project(status=row.status, allow_down_votes=row.allow_down_votes, method=row.method)
        if row.idea_known:
            idea = rules.Target(
                target_type="idea", target_id=_str(row.idea_id), idea_id=_str(row.idea_id),
                project_id=_str(row.idea_project_id), author_id=_str(row.idea_author_id),
                deleted=row.idea_deleted, hidden=row.idea_hidden,
            )
        out[(str(row.city), row.kind, str(row.tid))] = Facts(target, project, idea)
    return out


@dataclass(frozen=True)
class Request:
    """One voter's vote to cast or change."""

    city_id: str
    voter_id: str
    target_type: str
    target_id: str
    value: str

    @property
    def target(self) -> tuple[str, str, str]:
        return (self.city_id, self.target_type, self.target_id)


# The votes of a batch in one statement: the vote rows are upserted in (target, voter) order and each
# target's totals row is created or changed once, in target order, by the sum of its votes' deltas and
# its version by their number. Every transaction takes its row locks in that one order, so batches
# running side by side wait for each other but never deadlock. An upsert whose value is unchanged
# returns no row (the conflicting row is locked all the same).
_CAST_MANY = text(
    """
    WITH input AS (
        SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:cs AS uuid[]), CAST(:ts AS text[]),
                             CAST(:tids AS uuid[]), CAST(:voters AS uuid[]), CAST(:vals AS text[]))
                 AS x(id, c, t, tid, voter, value)
    ), v AS (
        INSERT INTO voting.votes (id, city_id, target_type, target_id, voter_id, value)
        SELECT id, c, t, tid, voter, value FROM input ORDER BY c, t, tid, voter
        ON CONFLICT ON CONSTRAINT uq_votes_one_per_voter
        DO UPDATE SET value = EXCLUDED.value, updated_at = now()
        WHERE voting.votes.value <> EXCLUDED.value
        RETURNING id, city_id, target_type, target_id, voter_id, (xmax = 0) AS inserted
    ), d AS (
        SELECT v.city_id, v.target_type, v.target_id,
               sum(CASE WHEN i.value = 'up' THEN 1 WHEN v.inserted THEN 0 ELSE -1 END) AS up,
               sum(CASE WHEN i.value = 'down' THEN 1 WHEN v.inserted THEN 0 ELSE -1 END) AS down,
               count(*) AS changes
        FROM v JOIN input i ON i.c = v.city_id AND i.t = v.target_type AND i.tid = v.target_id
                           AND i.voter = v.voter_id
        GROUP BY 1, 2, 3
    ), n AS (
        INSERT INTO voting.vote_counts AS vc (city_id, target_type, target_id, up_votes, down_votes, version)
        SELECT city_id, target_type, target_id, up, down, changes FROM d ORDER BY 1, 2, 3
        ON CONFLICT (city_id, target_type, target_id) DO UPDATE
        SET up_votes = vc.up_votes + EXCLUDED.up_votes, down_votes = vc.down_votes + EXCLUDED.down_votes,
            version = vc.version + EXCLUDED.version
        RETURNING city_id, target_type, target_id, up_votes, down_votes, version
    )
    SELECT v.city_id, v.target_type, v.target_id, v.voter_id, v.id, v.inserted,
           n.up_votes, n.down_votes, n.version
    FROM v JOIN n ON n.city_id = v.city_id AND n.target_type = v.target_type AND n.target_id = v.target_id
    """
)

# The votes that changed nothing: their ids and their targets' totals, read by a new statement (a new
# snapshot), so a concurrent PUT of the same voter that committed first is seen.
_UNCHANGED = text(
    """
    SELECT k.city, k.voter, k.kind, k.tid, v.id, COALESCE(c.up_votes, 0) AS up_votes,
           COALESCE(c.down_votes, 0) AS down_votes, COALESCE(c.version, 0) AS version
    FROM unnest(CAST(:cs AS uuid[]), CAST(:voters AS uuid[]), CAST(:ts AS text[]), CAST(:tids AS uuid[]))
         AS k(city, voter, kind, tid)
    JOIN voting.votes v ON v.city_id = k.city AND v.voter_id = k.voter AND v.target_type = k.kind
                        AND v.target_id = k.tid
    LEFT JOIN voting.vote_counts c ON c.city_id = v.city_id AND c.target_type = v.target_type
                                   AND c.target_id = v.target_id
    """
)


def cast_many(tx, requests: list[Request]) -> list[Outcome]:
    """Cast or change each voter's vote (a voter at most once per target in one call); nothing changes
    where the voter already has that value. The outcomes, in the order of `requests`, carry the
    target's totals and version just after each vote, as if the votes had been cast one by one."""
    if not requests:
        return []
    key = lambda c, voter, t, tid: (str(c), str(voter), t, str(tid))  # noqa: E731
    cols = {"cs": [r.city_id for r in requests], "ts": [r.target_type for r in requests],
            "tids": [r.target_id for r in requests], "voters": [r.voter_id for r in requests]}
    rows = tx.execute(_CAST_MANY, {**cols, "ids": [str(uuid.uuid4()) for _ in requests],
                                   "vals": [r.value for r in requests]}).all()
    changed = {key(r.city_id, r.voter_id, r.target_type, r.target_id): r for r in rows}
    unchanged_requests = [r for r in requests if key(r.city_id, r.voter_id, r.target_type, r.target_id)
                          not in changed]
    unchanged = {}
    if unchanged_requests:
        for r in tx.execute(_UNCHANGED, {
            "cs": [q.city_id for q in unchanged_requests], "voters": [q.voter_id for q in unchanged_requests],
            "ts": [q.target_type for q in unchanged_requests], "tids": [q.target_id for q in unchanged_requests],
        }):
            unchanged[key(r.city, r.voter, r.kind, r.tid)] = r
    changes = {}
    for request in requests:
        row = changed.get(key(request.city_id, request.voter_id, request.target_type, request.target_id))
        if row is not None:
            previous = None if row.inserted else rules.opposite(request.value)
            changes[request] = (row, previous, rules.transition(previous, request.value))
    states = rules.totals_after_each(
        [(request.target, (row.up_votes, row.down_votes, row.version), change)
         for request, (row, _, change) in changes.items()]
    )
    out = []
    for request in requests:
        if request in changes:
            row, previous, change = changes[request]
            up, down, version = states[request.target].pop(0)
            out.append(Outcome(str(row.id), request.value, previous, change, up, down, version))
        else:
            same = unchanged[key(request.city_id, request.voter_id, request.target_type, request.target_id)]
            out.append(Outcome(str(same.id), request.value, request.value, rules.NOTHING, same.up_votes,
                               same.down_votes, same.version))
    return out


def _str(value) -> str | None:
    return str(value) if value is not None else None


def withdraw(tx, city_id, voter_id, target_type, target_id) -> Outcome:
    """Remove the voter's vote, if there is one."""
    row = tx.execute(
        delete(votes)
        .where(votes.c.city_id == city_id, votes.c.voter_id == voter_id,
               votes.c.target_type == target_type, votes.c.target_id == target_id)
        .returning(votes.c.id, votes.c.value)
    ).first()
    if row is None:
        up, down, version = counts(tx.session, city_id, target_type, target_id)
        return Outcome(None, None, None, rules.NOTHING, up, down, version)
    change = rules.transition(row.value, None)
    up, down, version = _apply(tx, city_id, target_type, target_id, change)
    return Outcome(str(row.id), None, row.value, change, up, down, version)


# -- polls ---------------------------------------------------------------------------------------
def insert_question(tx, city_id, project_id, *, text_, kind, max_choices, options, created_by) -> dict:
    qid = uuid.uuid4()
    row = tx.execute(
        insert(poll_questions)
        .values(id=qid, city_id=city_id, project_id=project_id, text=text_, kind=kind,
                max_choices=max_choices, created_by=created_by)
        .returning(poll_questions)
    ).one()
    opts = [{"id": uuid.uuid4(), "city_id": city_id, "question_id": qid, "position": i, "text": o}
            for i, o in enumerate(options)]
    tx.execute(insert(poll_options), opts)
    return question_dict(row, [{"id": str(o["id"]), "text": o["text"]} for o in opts])


def question_dict(row, options: list[dict]) -> dict:
    return {
        "id": str(row.id), "project_id": str(row.project_id), "text": row.text, "kind": row.kind,
        "max_choices": row.max_choices, "options": options, "created_at": row.created_at.isoformat(),
    }


def questions_of(session, city_id, project_id, *, after=None, limit: int | None = None) -> list[dict]:
    """The project's questions with their options, oldest first (keyset `after` = [created_at, id])."""
    q = select(poll_questions).where(poll_questions.c.city_id == city_id, poll_questions.c.project_id == project_id)
    if after is not None:
        q = q.where(tuple_(poll_questions.c.created_at, poll_questions.c.id)
                    > tuple_(literal(after[0], poll_questions.c.created_at.type),
                             literal(after[1], poll_questions.c.id.type)))
    q = q.order_by(poll_questions.c.created_at, poll_questions.c.id)
    if limit is not None:
        q = q.limit(limit)
    rows = session.execute(q).all()
    if not rows:
        return []
    opts = session.execute(
        select(poll_options)
        .where(poll_options.c.city_id == city_id, poll_options.c.question_id.in_([r.id for r in rows]))
        .order_by(poll_options.c.question_id, poll_options.c.position)
    ).all()
    by_question: dict = {}
    for o in opts:
        by_question.setdefault(o.question_id, []).append({"id": str(o.id), "text": o.text})
    return [question_dict(r, by_question.get(r.id, [])) for r in rows]


def save_response(tx, city_id, project_id, user_id, answers: dict[str, list[str]]) -> bool:
    """Store the user's response, replacing an earlier one as a whole; True when it replaced one."""
    stmt = insert(poll_responses).values(
        id=uuid.uuid4(), city_id=city_id, project_id=project_id, user_id=user_id, answers=answers,
    )
    stmt = stmt.on_conflict_do_update(
        constraint="uq_poll_responses_one_per_user",
        set_={"answers": stmt.excluded.answers, "updated_at": text("now()")},
    ).returning(poll_responses.c.id, literal_column("(xmax = 0)").label("inserted"))
    row = tx.execute(stmt).one()
    tx.execute(delete(poll_choices).where(poll_choices.c.response_id == row.id))
    rows = [
        {"response_id": row.id, "option_id": oid, "question_id": qid, "city_id": city_id,
         "project_id": project_id, "user_id": user_id}
        for qid, oids in answers.items() for oid in oids
    ]
    tx.execute(insert(poll_choices), rows)
    return not row.inserted


def response_of(session, city_id, project_id, user_id):
    return session.execute(
        select(poll_responses).where(
            poll_responses.c.city_id == city_id, poll_responses.c.project_id == project_id,
            poll_responses.c.user_id == user_id,
        )
    ).first()


def choices_of(session, city_id, project_id) -> list[tuple[str, str, str]]:
    rows = session.execute(
        select(poll_choices.c.user_id, poll_choices.c.question_id, poll_choices.c.option_id).where(
            poll_choices.c.city_id == city_id, poll_choices.c.project_id == project_id
        )
    ).all()
    return [(str(r.user_id), str(r.question_id), str(r.option_id)) for r in rows]
