"""Every SQL statement of the ideas service (the lists' clauses and sort keys are built in listing.py)."""
from __future__ import annotations

import uuid

from sqlalchemy import func, insert, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.ideas import listing, ranking
from services.ideas.vote_counts import VoteRow
from services.ideas.models import TARGETS, comments, flags, ideas, projects, users


# -- projects --------------------------------------------------------------------------------------
def insert_project(tx, city_id, created_by, data) -> object:
    return tx.execute(
        insert(projects).values(
            id=uuid.uuid4(), city_id=city_id, title=data.title, description=data.description, method=data.method,
            status=data.status, topics=data.topics, allow_down_votes=data.allow_down_votes,
            flag_threshold=data.flag_threshold, created_by=created_by,
        ).returning(projects)
    ).one()


def update_project(tx, city_id, project_id, patch: dict):
    """The project after the patch, or None when there is no such project in the city."""
    return tx.execute(
        update(projects).where(projects.c.id == project_id, projects.c.city_id == city_id)
        .values(**patch, updated_at=func.now()).returning(projects)
    ).first()


def project(session, city_id, project_id, lock: bool = False):
    stmt = select(projects).where(projects.c.id == project_id, projects.c.city_id == city_id)
    if lock:
        stmt = stmt.with_for_update(read=True)
    return session.execute(stmt).first()


def list_projects(session, city_id, q, after, include_drafts: bool) -> list:
    stmt = select(projects).where(projects.c.city_id == city_id)
    if not include_drafts:
        stmt = stmt.where(projects.c.status != "draft")
    if q.status:
        stmt = stmt.where(projects.c.status == q.status)
    if q.method:
        stmt = stmt.where(projects.c.method == q.method)
    if after is not None:
        stmt = stmt.where(after)
    return session.execute(stmt.order_by(projects.c.created_at.desc(), projects.c.id.desc()).limit(q.limit + 1)).all()


def project_topics(session, city_id, project_id) -> list[str]:
    return list(session.execute(select(projects.c.topics).where(
        projects.c.id == project_id, projects.c.city_id == city_id)).scalar_one())


def project_flag_threshold(session, city_id, project_id) -> int | None:
    return session.execute(select(projects.c.flag_threshold).where(
        projects.c.id == project_id, projects.c.city_id == city_id)).scalar()


# -- ideas -----------------------------------------------------------------------------------------
def insert_idea(tx, **values):
    return tx.execute(insert(ideas).values(**values).returning(ideas)).one()


def idea(session, city_id, idea_id, lock: bool = False):
    """An idea with its author's name, comment count and open flags (locked for update when asked)."""
    if lock:
        session.execute(select(ideas.c.id).where(ideas.c.id == idea_id, ideas.c.city_id == city_id).with_for_update())
    return session.execute(listing.idea_select().where(ideas.c.id == idea_id, ideas.c.city_id == city_id)).first()


def list_ideas(session, city_id, project_id, q, score, after, is_moderator: bool) -> list:
    stmt = (
        listing.idea_select().add_columns(score.label("sort_score"))
        .where(ideas.c.city_id == city_id, ideas.c.project_id == project_id,
               listing.visible_clause(ideas, is_moderator))
    )
    if q.topic:
        stmt = stmt.where(listing.has_topic(q.topic))
    if q.status:
        stmt = stmt.where(ideas.c.status == q.status)
    if q.q:
        stmt = stmt.where(listing.search_clause(q.q))
    if after is not None:
        stmt = stmt.where(after)
    return session.execute(stmt.order_by(score.desc(), ideas.c.id.desc()).limit(q.limit + 1)).all()


def own_ideas(session, city_id, author_id, after, limit: int, is_moderator: bool) -> list:
    stmt = listing.idea_select().where(
        ideas.c.city_id == city_id, ideas.c.author_id == author_id,
        listing.visible_clause(ideas, is_moderator), listing.in_visible_project(ideas, city_id, is_moderator),
    )
    if after is not None:
        stmt = stmt.where(after)
    return session.execute(stmt.order_by(ideas.c.created_at.desc(), ideas.c.id.desc()).limit(limit + 1)).all()


def update_idea(tx, city_id, idea_id, patch: dict):
    return tx.execute(
        update(ideas).where(ideas.c.id == idea_id, ideas.c.city_id == city_id)
        .values(**patch, updated_at=func.now()).returning(ideas)
    ).one()


def set_status(tx, city_id, idea_id, status: str, feedback) -> None:
    tx.execute(update(ideas).where(ideas.c.id == idea_id, ideas.c.city_id == city_id)
               .values(status=status, feedback=feedback, status_changed_at=func.now()))


# -- comments --------------------------------------------------------------------------------------
def insert_comment(tx, **values):
    return tx.execute(insert(comments).values(**values).returning(comments)).one()


def comment_of_idea(session, city_id, idea_id, comment_id):
    return session.execute(select(comments).where(
        comments.c.id == comment_id, comments.c.city_id == city_id, comments.c.idea_id == idea_id)).first()


def comment(session, city_id, comment_id, lock: bool = False):
    """A comment with its author's name and open flags (locked for update when asked)."""
    if lock:
        session.execute(select(comments.c.id).where(comments.c.id == comment_id, comments.c.city_id == city_id)
                        .with_for_update())
    return session.execute(
        listing.comment_select().where(comments.c.id == comment_id, comments.c.city_id == city_id)).first()


def list_comments(session, city_id, idea_id, after, limit: int, is_moderator: bool) -> list:
    stmt = listing.comment_select().where(comments.c.city_id == city_id, comments.c.idea_id == idea_id)
    if not is_moderator:
        stmt = stmt.where(comments.c.hidden_at.is_(None))
    if after is not None:
        stmt = stmt.where(after)
    return session.execute(stmt.order_by(comments.c.created_at, comments.c.id).limit(limit + 1)).all()


def own_comments(session, city_id, author_id, after, limit: int, is_moderator: bool) -> list:
    stmt = listing.comment_select().where(
        comments.c.city_id == city_id, comments.c.author_id == author_id,
        listing.visible_clause(comments, is_moderator), listing.on_visible_idea(city_id, is_moderator),
    )
    if after is not None:
        stmt = stmt.where(after)
    return session.execute(stmt.order_by(comments.c.created_at.desc(), comments.c.id.desc()).limit(limit + 1)).all()


def update_comment_body(tx, city_id, comment_id, body: str) -> None:
    tx.execute(update(comments).where(comments.c.id == comment_id, comments.c.city_id == city_id)
               .values(body=body, updated_at=func.now()))


# -- ideas and comments alike (targets) ------------------------------------------------------------
def target(session, city_id, target_type: str, target_id, lock: bool = False):
    """The idea's or comment's own row, without what listing adds."""
    table = TARGETS[target_type]
    stmt = select(table).where(table.c.id == target_id, table.c.city_id == city_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.execute(stmt).first()


def soft_delete(tx, target_type: str, city_id, target_id, deleted_by) -> None:
    table = TARGETS[target_type]
    tx.execute(update(table).where(table.c.id == target_id, table.c.city_id == city_id)
               .values(deleted_at=func.now(), deleted_by=deleted_by))


def set_hidden(tx, target_type: str, city_id, target_id, hidden: bool) -> None:
    table = TARGETS[target_type]
    tx.execute(update(table).where(table.c.id == target_id, table.c.city_id == city_id)
               .values(hidden_at=func.now() if hidden else None))


# -- flags -----------------------------------------------------------------------------------------
def insert_flag(tx, city_id, target_type: str, target_id, user_id, reason: str):
    """The new flag, or None when the user has flagged this target already."""
    return tx.execute(
        pg_insert(flags).values(
            id=uuid.uuid4(), city_id=city_id, target_type=target_type, target_id=target_id, user_id=user_id,
            reason=reason,
        ).on_conflict_do_nothing(constraint="uq_ideas_flags_one_per_user").returning(flags)
    ).first()


def open_flags(session, city_id, target_type: str, target_id) -> int:
    return session.execute(select(func.count()).where(
        flags.c.city_id == city_id, flags.c.target_type == target_type, flags.c.target_id == target_id,
        flags.c.resolved_at.is_(None))).scalar_one()


def resolve_flags(tx, city_id, target_type: str, target_id, resolved_by, decision: str) -> int:
    """Resolve the target's open flags with the decision; how many there were."""
    return len(tx.execute(
        update(flags).where(flags.c.city_id == city_id, flags.c.target_type == target_type,
                            flags.c.target_id == target_id, flags.c.resolved_at.is_(None))
        .values(resolved_at=func.now(), resolved_by=resolved_by, resolution=decision)
        .returning(flags.c.id)
    ).all())


def flag_queue(session, city_id, key, limit: int) -> list:
    """Content with open flags, the oldest first flag first: target, first and last flag, count, reasons."""
    queue = (
        select(
            flags.c.target_type, flags.c.target_id,
            func.min(flags.c.created_at).label("created_at"), func.max(flags.c.created_at).label("last_flagged_at"),
            func.count().label("flags"), func.array_agg(flags.c.reason).label("reasons"),
        )
        .where(flags.c.city_id == city_id, flags.c.resolved_at.is_(None))
        .group_by(flags.c.target_type, flags.c.target_id)
        .subquery()
    )
    stmt = select(queue)
    if key is not None:
        stmt = stmt.where(tuple_(queue.c.created_at, queue.c.target_id) > tuple_(*key))
    return session.execute(stmt.order_by(queue.c.created_at, queue.c.target_id).limit(limit + 1)).all()


def flagged_content(session, city_id, target_type: str, target_id):
    """The flagged idea or comment as the lists show it (deleted ones too), or None."""
    table = TARGETS[target_type]
    select_ = listing.idea_select() if target_type == "idea" else listing.comment_select()
    return session.execute(select_.where(table.c.id == target_id, table.c.city_id == city_id)).first()


# -- the users read model --------------------------------------------------------------------------
def user(session, city_id, user_id):
    return session.execute(select(users).where(users.c.id == user_id, users.c.city_id == city_id)).first()


def fill_profile(tx, city_id, user_id, display_name: str, locale: str | None):
    """Store a profile asked of accounts, unless an event has brought the name meanwhile; the row."""
    return tx.execute(
        pg_insert(users).values(
            id=user_id, city_id=city_id, display_name=display_name, locale=locale, updated_at=func.now(),
        ).on_conflict_do_update(
            index_elements=[users.c.id], set_={"display_name": display_name, "locale": locale},
            where=users.c.display_name.is_(None),
        ).returning(users)
    ).first()


def apply_profile(tx, city_id, user_id, display_name: str, locale: str | None, at) -> None:
    """The profile of an accounts event, unless a newer one is stored."""
    values = {"display_name": display_name, "locale": locale, "updated_at": at}
    tx.execute(
        pg_insert(users).values(id=user_id, city_id=city_id, **values)
        .on_conflict_do_update(index_elements=[users.c.id], set_=values, where=users.c.updated_at <= at)
    )


# -- the vote read model (a batch of voting events at a time) --------------------------------------
_LOCK_VOTES = {
    t.name: text(
        f"SELECT id, city_id, votes_version, trend_score, trend_at FROM ideas.{t.name} "
        "WHERE id = ANY(CAST(:ids AS uuid[])) ORDER BY id FOR UPDATE"
    )
    for t in TARGETS.values()
}

# One UPDATE for every changed row of a table; totals only where a newer version brought them.
_WRITE_VOTES = {
    t.name: text(
        f"""
        UPDATE ideas.{t.name} AS t SET
            trend_score = u.trend_score, trend_at = u.trend_at,
            up_votes = COALESCE(u.up_votes, t.up_votes), down_votes = COALESCE(u.down_votes, t.down_votes),
            votes_version = u.votes_version, controversy = COALESCE(u.controversy, t.controversy)
        FROM unnest(CAST(:ids AS uuid[]), CAST(:scores AS float8[]), CAST(:ats AS timestamptz[]),
                    CAST(:ups AS integer[]), CAST(:downs AS integer[]), CAST(:versions AS bigint[]),
                    CAST(:controversies AS float8[]))
             AS u(id, trend_score, trend_at, up_votes, down_votes, votes_version, controversy)
        WHERE t.id = u.id
        """
    )
    for t in TARGETS.values()
}


def lock_vote_rows(tx, target_type: str, ids: list[str]) -> dict:
    """The vote state of the targets, locked in id order: {id: VoteRow}."""
    rows = tx.execute(_LOCK_VOTES[TARGETS[target_type].name], {"ids": sorted(ids)})
    return {r.id: VoteRow(r.city_id, r.votes_version, r.trend_score, r.trend_at) for r in rows}


def write_vote_rows(tx, target_type: str, changed: list[tuple[object, VoteRow]]) -> None:
    tx.execute(
        _WRITE_VOTES[TARGETS[target_type].name],
        {
            "ids": [str(i) for i, _ in changed],
            "scores": [r.trend_score for _, r in changed],
            "ats": [r.trend_at for _, r in changed],
            "ups": [r.totals[0] if r.totals else None for _, r in changed],
            "downs": [r.totals[1] if r.totals else None for _, r in changed],
            "versions": [r.votes_version for _, r in changed],
            "controversies": [ranking.controversy(*r.totals) if r.totals else None for _, r in changed],
        },
    )
