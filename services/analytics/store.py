"""Reads and writes of the analytics read models (SQLAlchemy Core); every query filters by city.

Events arrive in any order and possibly twice, so every write converges (see models.py): full-state
facts apply only when newer (`*_at`), vote totals only with a higher `target_version`, `deleted` is a
tombstone, and a row is created as a stub by whichever fact about it arrives first.
"""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import (
    and_,
    case,
    cast,
    distinct,
    func,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.types import Date

from services.analytics.models import (
    activity,
    comments,
    ideas,
    projects,
    topic_models,
    users,
    votes,
)
from services.common import pagination
from services.common.errors import NotFound, ValidationFailed

VISIBLE = and_(ideas.c.title.is_not(None), ideas.c.deleted.is_(False), ideas.c.hidden.is_(False))


def _newer(old_col, at) -> object:
    return or_(old_col.is_(None), old_col < at)


# -- projects --------------------------------------------------------------------------------------
def upsert_project(tx, city_id, at: datetime, data) -> None:
    stmt = insert(projects).values(id=data.project_id, city_id=city_id, title=data.title, method=data.method,
                                   status=data.status, state_at=at)
    old, new = projects.c, stmt.excluded
    newer = _newer(old.state_at, new.state_at)
    tx.execute(stmt.on_conflict_do_update(
        index_elements=[old.id],
        set_={"title": case((newer, new.title), else_=old.title),
              "method": case((newer, new.method), else_=old.method),
              "status": case((newer, new.status), else_=old.status),
              "state_at": func.greatest(old.state_at, new.state_at)},
        where=old.city_id == new.city_id,
    ))


def bump_project(tx, city_id, project_id) -> int:
    """Take the project's row lock and its next ideas version (creating a stub project if needed)."""
    stmt = insert(projects).values(id=project_id, city_id=city_id, ideas_version=1)
    version = tx.execute(stmt.on_conflict_do_update(
        index_elements=[projects.c.id], set_={"ideas_version": projects.c.ideas_version + 1},
        where=projects.c.city_id == stmt.excluded.city_id,
    ).returning(projects.c.ideas_version)).scalar()
    if version is None:
        raise NotFound("The project belongs to another city.")
    return version


def project_row(session, city_id, project_id):
    return session.execute(
        select(projects).where(projects.c.city_id == city_id, projects.c.id == project_id)
    ).first()


def request_refresh(tx, city_id, project_id) -> bool:
    done = tx.execute(
        update(projects).where(projects.c.city_id == city_id, projects.c.id == project_id)
        .values(refresh_requested_at=func.now()).returning(projects.c.id)
    ).first()
    return done is not None


# -- ideas -----------------------------------------------------------------------------------------
def lock_idea(tx, city_id, idea_id, project_id):
    """The idea's row, locked (a stub is created first when the idea is not known yet)."""
    tx.execute(insert(ideas).values(id=idea_id, city_id=city_id, project_id=project_id)
               .on_conflict_do_nothing(index_elements=[ideas.c.id]))
    row = tx.execute(
        select(ideas).where(ideas.c.id == idea_id, ideas.c.city_id == city_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound("The idea belongs to another city.")
    return row


def set_idea(tx, city_id, idea_id, **values) -> None:
    tx.execute(update(ideas).where(ideas.c.id == idea_id, ideas.c.city_id == city_id).values(**values))


def is_visible(row) -> bool:
    return row.title is not None and not row.deleted and not row.hidden


def set_votes(tx, city_id, idea_id, project_id, up: int, down: int, version: int) -> None:
    """Keep the newest totals of an idea whatever the order the vote events arrive in."""
    stmt = insert(ideas).values(id=idea_id, city_id=city_id, project_id=project_id, up_votes=up,
                                down_votes=down, votes_version=version)
    old, new = ideas.c, stmt.excluded
    tx.execute(stmt.on_conflict_do_update(
        index_elements=[old.id],
        set_={"up_votes": new.up_votes, "down_votes": new.down_votes, "votes_version": new.votes_version},
        where=and_(old.city_id == new.city_id, old.votes_version < new.votes_version),
    ))


def idea_row(session, city_id, idea_id):
    return session.execute(select(ideas).where(ideas.c.city_id == city_id, ideas.c.id == idea_id)).first()


def visible_ideas(session, city_id, project_id) -> list:
    return session.execute(
        select(ideas.c.id, ideas.c.title, ideas.c.body, ideas.c.locale)
        .where(ideas.c.city_id == city_id, ideas.c.project_id == project_id, VISIBLE)
        .order_by(ideas.c.created_at, ideas.c.id)
    ).all()


def count_visible(session, city_id, project_id) -> int:
    return session.execute(
        select(func.count()).select_from(ideas)
        .where(ideas.c.city_id == city_id, ideas.c.project_id == project_id, VISIBLE)
    ).scalar()


def idea_changes(session, city_id, project_id, after: int, upto: int) -> list:
    """Ideas of a project changed after version `after` (up to `upto`), with whether they are visible."""
    return session.execute(
        select(ideas.c.id, ideas.c.title, ideas.c.body, ideas.c.locale, VISIBLE.label("visible"))
        .where(ideas.c.city_id == city_id, ideas.c.project_id == project_id,
               ideas.c.seq > after, ideas.c.seq <= upto)
        .order_by(ideas.c.seq)
    ).all()


def titles(session, city_id, ids: list) -> dict:
    if not ids:
        return {}
    rows = session.execute(select(ideas.c.id, ideas.c.title).where(ideas.c.city_id == city_id, ideas.c.id.in_(ids)))
    return {str(r.id): r.title for r in rows}


# -- comments, users, activity ---------------------------------------------------------------------
def upsert_comment(tx, city_id, data, deleted: bool = False) -> None:
    stmt = insert(comments).values(id=data.comment_id, city_id=city_id, idea_id=data.idea_id,
                                   project_id=data.project_id, author_id=data.author_id, parent_id=data.parent_id,
                                   body=data.body, created_at=getattr(data, "created_at", None), deleted=deleted)
    old, new = comments.c, stmt.excluded
    tx.execute(stmt.on_conflict_do_update(
        index_elements=[old.id],
        set_={"deleted": old.deleted | new.deleted, "created_at": func.coalesce(old.created_at, new.created_at),
              "body": func.coalesce(old.body, new.body), "parent_id": func.coalesce(old.parent_id, new.parent_id),
              "project_id": func.coalesce(old.project_id, new.project_id)},
        where=old.city_id == new.city_id,
    ))


def set_vote(tx, city_id, d, value, at: datetime) -> None:
    """Keep a voter's newest vote on a target (`value` None: withdrawn), whatever the order of the events."""
    stmt = insert(votes).values(target_id=d.target_id, voter_id=d.voter_id, city_id=city_id,
                                project_id=d.project_id, idea_id=d.idea_id, target_type=d.target_type,
                                value=value, voted_at=at, version=d.target_version)
    old, new = votes.c, stmt.excluded
    tx.execute(stmt.on_conflict_do_update(
        index_elements=[old.target_id, old.voter_id],
        set_={"value": new.value, "voted_at": new.voted_at, "version": new.version},
        where=and_(old.city_id == new.city_id, old.version < new.version),
    ))


def upsert_user(tx, city_id, at: datetime, p) -> None:
    stmt = insert(users).values(id=p.user_id, city_id=city_id, birth_year=p.birth_year, gender=p.gender,
                                district=p.district, locale=p.locale, state_at=at)
    old, new = users.c, stmt.excluded
    tx.execute(stmt.on_conflict_do_update(
        index_elements=[old.id],
        set_={"birth_year": new.birth_year, "gender": new.gender, "district": new.district,
              "locale": new.locale, "state_at": new.state_at},
        where=and_(old.city_id == new.city_id, old.state_at < new.state_at),
    ))


def record_activity(tx, event, kind: str, project_id, user_id, at: datetime | None = None) -> None:
    tx.execute(insert(activity).values(
        event_id=event.event_id, city_id=event.city_id, project_id=project_id, user_id=user_id, kind=kind,
        occurred_at=at or event.occurred_at,
    ).on_conflict_do_nothing(index_elements=[activity.c.event_id]))


# -- topic models ----------------------------------------------------------------------------------
def model_meta(session, city_id, project_id):
    """The stored model of a project without its bytes."""
    c = topic_models.c
    return session.execute(
        select(c.project_id, c.status, c.model_version, c.topics, c.have, c.needed, c.built_version,
               c.started_at, c.built_at, c.build_seconds)
        .where(c.city_id == city_id, c.project_id == project_id)
    ).first()


def model_blob(session, city_id, project_id, model_version: str):
    c = topic_models.c
    return session.execute(
        select(c.model).where(c.city_id == city_id, c.project_id == project_id, c.model_version == model_version)
    ).scalar()


def save_model(tx, city_id, project_id, *, status: str, model_version, blob, topics: list, have: int,
               needed: int, built_version: int, started_at: datetime, build_seconds: float) -> None:
    values = dict(city_id=city_id, status=status, model_version=model_version, model=blob, topics=topics,
                  have=have, needed=needed, built_version=built_version, started_at=started_at,
                  built_at=func.now(), build_seconds=build_seconds)
    stmt = insert(topic_models).values(project_id=project_id, **values)
    tx.execute(stmt.on_conflict_do_update(
        index_elements=[topic_models.c.project_id],
        set_={k: getattr(stmt.excluded, k) for k in values},
        where=topic_models.c.city_id == stmt.excluded.city_id,
    ))


def set_topics(tx, city_id, project_id, model_version, assigned: list[tuple]) -> None:
    """Write (idea_id, topic_id, score) of a new model for a project's ideas; the others lose their topic."""
    tx.execute(
        update(ideas).where(ideas.c.city_id == city_id, ideas.c.project_id == project_id)
        .values(topic_id=None, topic_score=None, topic_model_version=None)
    )
    if not assigned:
        return
    tx.execute(
        text(
            "UPDATE analytics.ideas AS i SET topic_id = v.topic_id, topic_score = v.score, "
            "topic_model_version = :mv FROM unnest(CAST(:ids AS uuid[]), CAST(:topics AS int[]), "
            "CAST(:scores AS float8[])) AS v(id, topic_id, score) "
            "WHERE i.id = v.id AND i.city_id = :city AND i.project_id = :project"
        ),
        {"mv": model_version, "ids": [str(a[0]) for a in assigned], "topics": [a[1] for a in assigned],
         "scores": [a[2] for a in assigned], "city": str(city_id), "project": str(project_id)},
    )


def topic_members(session, city_id, project_id, model_version) -> list[tuple]:
    rows = session.execute(
        select(ideas.c.id, ideas.c.topic_id)
        .where(ideas.c.city_id == city_id, ideas.c.project_id == project_id, VISIBLE,
               ideas.c.topic_model_version == model_version, ideas.c.topic_id.is_not(None))
        .order_by(ideas.c.topic_score.desc().nulls_last(), ideas.c.created_at, ideas.c.id)
    ).all()
    return [(r.id, r.topic_id) for r in rows]


def topic_lock(tx, project_id, shared: bool) -> None:
    """Serialise writing a new model's assignments with assigning single ideas by the current one."""
    fn = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    tx.execute(text(f"SELECT {fn}(hashtextextended(:k, 0))"), {"k": f"analytics:assign:{project_id}"})


def _build_states():
    """Each project's ideas version and visible idea count beside its model's build state."""
    p, m = projects.c, topic_models.c
    visible = (
        select(func.count()).select_from(ideas)
        .where(ideas.c.city_id == p.city_id, ideas.c.project_id == p.id, VISIBLE)
        .scalar_subquery()
    )
    return (
        select(p.id, p.city_id, p.ideas_version, p.refresh_requested_at, m.built_version, m.started_at,
               m.status, visible.label("visible"))
        .select_from(projects.outerjoin(topic_models, and_(m.project_id == p.id, m.city_id == p.city_id)))
    )


def build_candidates(session) -> list:
    """Projects (of every city) whose ideas changed since their last build, or with a refresh requested."""
    p, m = projects.c, topic_models.c
    return session.execute(
        _build_states()
        .where(or_(p.ideas_version > func.coalesce(m.built_version, 0),
                   and_(p.refresh_requested_at.is_not(None),
                        or_(m.started_at.is_(None), p.refresh_requested_at > m.started_at))))
    ).all()


def build_state(session, city_id, project_id):
    """One row of `build_candidates` for one project (None when the project is unknown)."""
    return session.execute(
        _build_states().where(projects.c.city_id == city_id, projects.c.id == project_id)
    ).first()


# -- heatmap, dashboard, export --------------------------------------------------------------------
def heatmap_rows(session, city_id, project_id, model_version) -> list:
    """(topic_id, birth_year, gender, district) of each visible idea assigned by the model."""
    return session.execute(
        select(ideas.c.topic_id, users.c.birth_year, users.c.gender, users.c.district)
        .select_from(ideas.outerjoin(users, and_(users.c.id == ideas.c.author_id, users.c.city_id == city_id)))
        .where(ideas.c.city_id == city_id, ideas.c.project_id == project_id, VISIBLE,
               ideas.c.topic_model_version == model_version, ideas.c.topic_id.is_not(None))
    ).all()


def _window(start: date, end: date) -> tuple[datetime, datetime]:
    lo = datetime.combine(start, time.min, tzinfo=UTC)
    hi = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    return lo, hi


def _activity_filter(city_id, start: date, end: date, project_id=None):
    lo, hi = _window(start, end)
    cond = [activity.c.city_id == city_id, activity.c.occurred_at >= lo, activity.c.occurred_at < hi]
    if project_id is not None:
        cond.append(activity.c.project_id == project_id)
    return and_(*cond)


def dashboard_rows(session, city_id, start: date, end: date, project_id=None) -> dict:
    where = _activity_filter(city_id, start, end, project_id)
    day = cast(func.timezone("UTC", activity.c.occurred_at), Date).label("day")
    totals = dict(session.execute(
        select(activity.c.kind, func.count()).where(where).group_by(activity.c.kind)
    ).all())
    participants = session.execute(select(func.count(distinct(activity.c.user_id))).where(where)).scalar()
    per_kind = session.execute(select(day, activity.c.kind, func.count()).where(where).group_by(day, activity.c.kind)).all()
    per_day = session.execute(
        select(day, literal("participants"), func.count(distinct(activity.c.user_id))).where(where).group_by(day)
    ).all()
    people = select(distinct(activity.c.user_id).label("user_id")).where(where, activity.c.user_id.is_not(None)).subquery()
    groups = session.execute(
        select(users.c.birth_year, users.c.gender, users.c.district, func.count())
        .select_from(people.outerjoin(users, and_(users.c.id == people.c.user_id, users.c.city_id == city_id)))
        .group_by(users.c.birth_year, users.c.gender, users.c.district)
    ).all()
    return {"totals": totals, "participants": participants, "series": [tuple(r) for r in per_kind + per_day],
            "groups": [tuple(r) for r in groups]}


def export_rows(session, city_id, project_id) -> list[dict]:
    n_comments = (
        select(func.count()).select_from(comments)
        .where(comments.c.city_id == city_id, comments.c.idea_id == ideas.c.id, comments.c.deleted.is_(False))
        .scalar_subquery()
    )
    rows = session.execute(
        select(ideas, n_comments.label("comments"), users.c.birth_year, users.c.gender, users.c.district)
        .select_from(ideas.outerjoin(users, and_(users.c.id == ideas.c.author_id, users.c.city_id == city_id)))
        .where(ideas.c.city_id == city_id, ideas.c.project_id == project_id, ideas.c.title.is_not(None),
               ideas.c.deleted.is_(False))
        .order_by(ideas.c.created_at, ideas.c.id)
    ).mappings().all()
    return [dict(r) for r in rows]


# -- the officials' workspace: the input manager and the comments and votes exports ------------------
_AGES = {"under_25": (0, 24), "25-34": (25, 34), "35-49": (35, 49), "50-64": (50, 64), "65+": (65, 200)}


def _comment_count():
    return (
        select(func.count()).select_from(comments)
        .where(comments.c.city_id == ideas.c.city_id, comments.c.idea_id == ideas.c.id,
               comments.c.deleted.is_(False))
        .scalar_subquery()
    )


def _people_filter(q, today: date) -> list:
    where = []
    if q.age_group == "unknown":
        where.append(or_(users.c.birth_year.is_(None), users.c.birth_year == 0))
    elif q.age_group:
        lo, hi = _AGES[q.age_group]
        where.append(users.c.birth_year.between(today.year - hi, today.year - lo))
    for col, value in ((users.c.gender, q.gender), (users.c.district, q.district)):
        if value == "unknown":
            where.append(col.is_(None))
        elif value:
            where.append(col == value)
    return where


def inputs(session, city_id, project_id, q, model_version, today: date) -> dict:
    """A page of the project's ideas as the input manager lists them (hidden ones included)."""
    score = (ideas.c.up_votes - ideas.c.down_votes).label("score")
    topic = case((ideas.c.topic_model_version == model_version, ideas.c.topic_id), else_=None).label("topic")
    where = [ideas.c.city_id == city_id, ideas.c.project_id == project_id, ideas.c.title.is_not(None),
             ideas.c.deleted.is_(False), *_people_filter(q, today)]
    if q.status:
        where.append(ideas.c.status == q.status)
    if q.topic:
        where.append(ideas.c.tags.any(q.topic))
    if q.topic_id is not None:
        where.append(and_(ideas.c.topic_model_version == model_version, ideas.c.topic_id == q.topic_id))
    if q.flagged is not None:
        where.append(ideas.c.flags > 0 if q.flagged else ideas.c.flags == 0)
    if q.from_:
        where.append(ideas.c.created_at >= _window(q.from_, q.from_)[0])
    if q.to:
        where.append(ideas.c.created_at < _window(q.to, q.to)[1])
    after = pagination.decode(q.cursor)
    if after:
        try:
            *s, at, i = after
            at, i = datetime.fromisoformat(at), uuid.UUID(i)
            s = [int(v) for v in s]
        except (ValueError, TypeError, AttributeError):
            s = None
        if s is None or len(s) != (q.sort == "popular"):
            raise ValidationFailed("The cursor is not valid.", [{"field": "cursor", "issue": "not a cursor of this list"}])
        later = or_(ideas.c.created_at < at, and_(ideas.c.created_at == at, ideas.c.id < i))
        where.append(or_(score < s[0], and_(score == s[0], later)) if s else later)
    order = [ideas.c.created_at.desc(), ideas.c.id.desc()]
    if q.sort == "popular":
        order.insert(0, score.desc())
    rows = session.execute(
        select(ideas.c.id, ideas.c.title, ideas.c.status, ideas.c.tags, topic, ideas.c.up_votes,
               ideas.c.down_votes, _comment_count().label("comments"), ideas.c.flags, ideas.c.hidden,
               ideas.c.created_at, score, users.c.birth_year, users.c.gender, users.c.district)
        .select_from(ideas.outerjoin(users, and_(users.c.id == ideas.c.author_id, users.c.city_id == city_id)))
        .where(*where).order_by(*order).limit(q.limit + 1)
    ).all()

    def key(r):
        return [r.score, r.created_at.isoformat(), str(r.id)] if q.sort == "popular" else \
            [r.created_at.isoformat(), str(r.id)]

    return pagination.page(rows, q.limit, key)


def _project_rows(session, city_id, project_id, table, person, columns: list, where: list, order: list) -> list[dict]:
    """Rows of `table` about the project's ideas (not deleted), with the idea's title and the
    demographics of the user in column `person`."""
    rows = session.execute(
        select(*columns, ideas.c.title.label("idea_title"), users.c.birth_year, users.c.gender, users.c.district)
        .select_from(table
                     .join(ideas, and_(ideas.c.id == table.c.idea_id, ideas.c.city_id == city_id))
                     .outerjoin(users, and_(users.c.id == person, users.c.city_id == city_id)))
        .where(table.c.city_id == city_id, ideas.c.project_id == project_id, ideas.c.deleted.is_(False), *where)
        .order_by(*order)
    ).mappings().all()
    return [dict(r) for r in rows]


def comment_export_rows(session, city_id, project_id) -> list[dict]:
    c = comments.c
    return _project_rows(session, city_id, project_id, comments, c.author_id,
                         [c.id, c.idea_id, c.parent_id, c.body, c.created_at], [c.deleted.is_(False)],
                         [c.created_at, c.id])


def vote_export_rows(session, city_id, project_id) -> list[dict]:
    v = votes.c
    return _project_rows(session, city_id, project_id, votes, v.voter_id,
                         [v.idea_id, v.target_type, v.target_id, v.value, v.voted_at], [v.value.is_not(None)],
                         [v.voted_at, v.target_id, v.voter_id])
