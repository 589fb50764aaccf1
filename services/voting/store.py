"""Votes, totals and poll responses in the database: the statements that keep them right under concurrency.

- One vote per (city, voter, target) is a unique constraint; a PUT is one INSERT ... ON CONFLICT DO
  UPDATE that changes the row only when the value differs, so concurrent PUTs of one user leave one
  vote and each real change is seen by exactly one transaction.
- A target's totals are one row changed with `up_votes = up_votes + :d ... RETURNING` in the vote's
  transaction: the row lock serialises concurrent voters (no lost update) and the returned totals and
  version are those this change produced.
- Casting a vote is one statement (`_CAST`): it reads the facts the rules need and writes the vote and
  the totals; the service checks the facts and rolls back when the rules refuse. With the outbox row,
  a vote is one transaction of two statements (three when the vote changed nothing).
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


# One statement for a vote: the facts the rules need (target, its project and, for a comment, its
# idea), the vote's upsert and the change of the target's totals. Data-modifying CTEs run once, the
# vote row first (its lock), then the totals row (`INSERT ... ON CONFLICT DO UPDATE`: created at the
# first vote, else changed under its row lock). The deltas are given by `rules.transition` for the two
# possible outcomes (a new vote, or a vote switched from the opposite value); the statement picks by
# whether the vote row was inserted. The caller checks the facts and rolls back when the rules refuse.
_CAST = text(
    """
    WITH v AS (
        INSERT INTO voting.votes (id, city_id, target_type, target_id, voter_id, value)
        VALUES (:id, :c, :t, :tid, :voter, :value)
        ON CONFLICT ON CONSTRAINT uq_votes_one_per_voter
        DO UPDATE SET value = EXCLUDED.value, updated_at = now()
        WHERE voting.votes.value <> EXCLUDED.value
        RETURNING id, value, (xmax = 0) AS inserted
    ), n AS (
        INSERT INTO voting.vote_counts AS vc (city_id, target_type, target_id, up_votes, down_votes, version)
        SELECT :c, :t, :tid,
               CASE WHEN v.inserted THEN :new_up ELSE :switch_up END,
               CASE WHEN v.inserted THEN :new_down ELSE :switch_down END, 1
        FROM v
        ON CONFLICT (city_id, target_type, target_id) DO UPDATE
        SET up_votes = vc.up_votes + EXCLUDED.up_votes, down_votes = vc.down_votes + EXCLUDED.down_votes,
            version = vc.version + 1
        RETURNING up_votes, down_votes, version
    )
    SELECT t.target_id IS NOT NULL AS known, t.idea_id, t.project_id, t.author_id, t.deleted, t.hidden,
           p.status, p.allow_down_votes, p.method,
           i.target_id IS NOT NULL AS idea_known, i.deleted AS idea_deleted, i.hidden AS idea_hidden,
           i.project_id AS idea_project_id, i.author_id AS idea_author_id,
           v.id AS vote_id, v.inserted, n.up_votes, n.down_votes, n.version
    FROM (SELECT 1) AS one
    LEFT JOIN voting.targets t ON t.city_id = :c AND t.target_type = :t AND t.target_id = :tid
    LEFT JOIN voting.projects p ON p.city_id = :c AND p.project_id = t.project_id
    LEFT JOIN voting.targets i ON :t = 'comment' AND i.city_id = :c AND i.target_type = 'idea'
                               AND i.target_id = t.idea_id
    LEFT JOIN v ON true
    LEFT JOIN n ON true
    """
)

# A vote that changed nothing: its id and the totals, read by a new statement (a new snapshot), so a
# concurrent PUT of the same voter that committed first is seen.
_UNCHANGED = text(
    """
    SELECT v.id, COALESCE(c.up_votes, 0) AS up_votes, COALESCE(c.down_votes, 0) AS down_votes,
           COALESCE(c.version, 0) AS version
    FROM voting.votes v
    LEFT JOIN voting.vote_counts c ON c.city_id = v.city_id AND c.target_type = v.target_type
                                   AND c.target_id = v.target_id
    WHERE v.city_id = :c AND v.voter_id = :voter AND v.target_type = :t AND v.target_id = :tid
    """
)


@dataclass(frozen=True)
class Cast:
    """What the vote statement saw and did: the facts for the rules, and the outcome."""

    target: rules.Target | None
    project: rules.Project | None
    idea: rules.Target | None
    outcome: Outcome


def cast(tx, city_id, voter_id, target_type, target_id, value: str) -> Cast:
    """Cast or change the voter's vote (nothing changes when it already has this value), reading the
    target's facts in the same statement. The caller applies the rules to the facts and rolls the
    transaction back when they refuse the vote (or when a fact is missing)."""
    new, switch = rules.transition(None, value), rules.transition(rules.opposite(value), value)
    row = tx.execute(_CAST, {
        "id": uuid.uuid4(), "c": city_id, "t": target_type, "tid": target_id, "voter": voter_id, "value": value,
        "new_up": new.up, "new_down": new.down, "switch_up": switch.up, "switch_down": switch.down,
    }).one()
    target = project = idea = None
    if row.known:
        target = rules.Target(
            target_type=target_type, target_id=str(target_id), idea_id=_str(row.idea_id),
            project_id=_str(row.project_id), author_id=_str(row.author_id), deleted=row.deleted, hidden=row.hidden,
        )
    if row.status is not None:
        project = rules.Project(status=row.status, allow_down_votes=row.allow_down_votes, method=row.method)
    if row.idea_known:
        idea = rules.Target(
            target_type="idea", target_id=_str(row.idea_id), idea_id=_str(row.idea_id),
            project_id=_str(row.idea_project_id), author_id=_str(row.idea_author_id),
            deleted=row.idea_deleted, hidden=row.idea_hidden,
        )
    if row.vote_id is None:  # the same value was there already (the conflicting row is now locked by us)
        same = tx.execute(_UNCHANGED, {"c": city_id, "voter": voter_id, "t": target_type, "tid": target_id}).one()
        outcome = Outcome(str(same.id), value, value, rules.NOTHING, same.up_votes, same.down_votes, same.version)
    else:
        change = new if row.inserted else switch
        outcome = Outcome(str(row.vote_id), value, None if row.inserted else rules.opposite(value), change,
                          row.up_votes, row.down_votes, row.version)
    return Cast(target, project, idea, outcome)


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
