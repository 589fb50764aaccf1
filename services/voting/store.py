"""Votes, totals and poll responses in the database: the statements that keep them right under concurrency.

- One vote per (city, voter, target) is a unique constraint; a PUT is one INSERT ... ON CONFLICT DO
  UPDATE that changes the row only when the value differs, so concurrent PUTs of one user leave one
  vote and each real change is seen by exactly one transaction.
- A target's totals are one row changed with `UPDATE ... SET up_votes = up_votes + :d ... RETURNING`
  in the vote's transaction: the row lock serialises concurrent voters (no lost update) and the
  returned totals and version are those this change produced.
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


_UPSERT_VOTE = text(
    """
    INSERT INTO voting.votes (id, city_id, target_type, target_id, voter_id, value)
    VALUES (:id, :city_id, :target_type, :target_id, :voter_id, :value)
    ON CONFLICT ON CONSTRAINT uq_votes_one_per_voter
    DO UPDATE SET value = EXCLUDED.value, updated_at = now()
    WHERE voting.votes.value <> EXCLUDED.value
    RETURNING id, value, (xmax = 0) AS inserted
    """
)


def _ensure_counts(tx, city_id, target_type, target_id) -> None:
    tx.execute(
        insert(vote_counts)
        .values(city_id=city_id, target_type=target_type, target_id=target_id)
        .on_conflict_do_nothing()
    )


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


def cast(tx, city_id, voter_id, target_type, target_id, value: str) -> Outcome:
    """Cast or change the voter's vote; nothing changes when it already has this value."""
    _ensure_counts(tx, city_id, target_type, target_id)
    row = tx.execute(
        _UPSERT_VOTE,
        {"id": uuid.uuid4(), "city_id": city_id, "target_type": target_type, "target_id": target_id,
         "voter_id": voter_id, "value": value},
    ).first()
    if row is None:  # the same value was there already (the conflicting row is now locked by us)
        existing = vote_of(tx.session, city_id, voter_id, target_type, target_id)
        up, down, version = counts(tx.session, city_id, target_type, target_id)
        return Outcome(str(existing.id), value, value, rules.NOTHING, up, down, version)
    previous = None if row.inserted else rules.opposite(value)
    change = rules.transition(previous, value)
    up, down, version = _apply(tx, city_id, target_type, target_id, change)
    return Outcome(str(row.id), value, previous, change, up, down, version)


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
