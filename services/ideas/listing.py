"""The queries behind the lists: what a caller may see, the sort orders and their keyset cursors.

Every list is keyset-paginated: the cursor holds the sort key of the last row returned and the next page
continues strictly after it, so ideas posted meanwhile never shift or repeat a page. Each sort orders by
its score, then by id (descending), so the order is total. Trending fixes the moment it is computed for
in the cursor, so every page of one list ranks with the same clock.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from functools import reduce

from sqlalchemy import ARRAY, DateTime, Text, Float, Integer, and_, bindparam, case, cast, func, literal, select, tuple_
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.dialects.postgresql import UUID as PG_UUID

from services.common import pagination
from services.common.errors import ValidationFailed
from services.ideas import ranking
from services.ideas.models import SEARCH_CONFIGS, comments, flags, ideas, projects, users

_BAD_CURSOR = ValidationFailed("The cursor is not valid.", [{"field": "cursor", "issue": "not a cursor of this list"}])


def visible_clause(table, is_moderator: bool):
    """Deleted rows are gone for everyone; hidden ones only moderators see."""
    clause = table.c.deleted_at.is_(None)
    if not is_moderator:
        clause = and_(clause, table.c.hidden_at.is_(None))
    return clause


def in_visible_project(table, city_id, is_moderator: bool):
    """The row's project is one the caller may see (drafts only moderators)."""
    shown = select(projects.c.id).where(projects.c.city_id == city_id)
    if not is_moderator:
        shown = shown.where(projects.c.status != "draft")
    return table.c.project_id.in_(shown)


def on_visible_idea(city_id, is_moderator: bool):
    """A comment's idea is one the caller may see, in a project the caller may see."""
    return comments.c.idea_id.in_(
        select(ideas.c.id).where(ideas.c.city_id == city_id, visible_clause(ideas, is_moderator),
                                 in_visible_project(ideas, city_id, is_moderator))
    )


def comments_count():
    return (
        select(func.count())
        .where(comments.c.city_id == ideas.c.city_id, comments.c.idea_id == ideas.c.id,
               comments.c.deleted_at.is_(None), comments.c.hidden_at.is_(None))
        .scalar_subquery()
    )


def open_flags(table, target_type: str):
    return (
        select(func.count())
        .where(flags.c.city_id == table.c.city_id, flags.c.target_type == target_type,
               flags.c.target_id == table.c.id, flags.c.resolved_at.is_(None))
        .scalar_subquery()
    )


def idea_select():
    """Ideas with their author's name, comment count and open flags."""
    return (
        select(
            ideas,
            users.c.display_name.label("author_name"),
            comments_count().label("comments_count"),
            open_flags(ideas, "idea").label("open_flags"),
        )
        .select_from(ideas.outerjoin(users, users.c.id == ideas.c.author_id))
    )


def comment_select():
    return (
        select(comments, users.c.display_name.label("author_name"), open_flags(comments, "comment").label("open_flags"))
        .select_from(comments.outerjoin(users, users.c.id == comments.c.author_id))
    )


def trending_expr(as_of: datetime):
    """ranking.trending_at in SQL: trend_score · 2 ** ((trend_at − as_of) / HALF_LIFE)."""
    exponent = func.date_part("epoch", ideas.c.trend_at - bindparam("as_of", as_of)).cast(Float) / ranking.HALF_LIFE_SECONDS
    clamped = func.least(func.greatest(exponent, ranking.MIN_EXPONENT), -ranking.MIN_EXPONENT)
    return case(
        (ideas.c.trend_at.is_(None), literal(0.0, Float)),
        else_=ideas.c.trend_score * func.power(literal(2.0, Float), clamped),
    )


def has_topic(topic: str):
    """Tagged with the topic (array containment, served by the GIN index on topics)."""
    return ideas.c.topics.op("@>")(bindparam("topic", [topic], type_=ARRAY(Text)))


def search_clause(q: str):
    """A match of the query parsed in any of the search configurations (plain words, stems per language)."""
    queries = [func.websearch_to_tsquery(cast(literal(cfg), REGCONFIG), q) for cfg in SEARCH_CONFIGS]
    return ideas.c.search.op("@@")(reduce(lambda a, b: a.op("||")(b), queries))


def _uuid(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise _BAD_CURSOR from None


def _time(value) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise _BAD_CURSOR from None
    if parsed.tzinfo is None:
        raise _BAD_CURSOR
    return parsed


def _number(value, kind):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _BAD_CURSOR
    return kind(value)


def idea_order(sort: str, cursor: str | None, now: datetime | None = None):
    """(score expression, where-clause after the cursor or None, key_of(row) for the next cursor)."""
    key = pagination.decode(cursor)
    if key is not None and (not key or key[0] != sort):
        raise _BAD_CURSOR
    if sort == "new":
        score, kind = ideas.c.created_at, _time
        encode = lambda row: ["new", row.created_at.isoformat(), str(row.id)]  # noqa: E731
    elif sort == "popular":
        score, kind = (ideas.c.up_votes - ideas.c.down_votes), lambda v: _number(v, int)
        encode = lambda row: ["popular", row.sort_score, str(row.id)]  # noqa: E731
    elif sort == "controversial":
        score, kind = ideas.c.controversy, lambda v: _number(v, float)
        encode = lambda row: ["controversial", row.sort_score, str(row.id)]  # noqa: E731
    elif sort == "trending":
        if key is not None:
            if len(key) != 4:
                raise _BAD_CURSOR
            as_of = _time(key[1])
            key = [key[0], *key[2:]]
        else:
            as_of = now or datetime.now(timezone.utc)
        score, kind = trending_expr(as_of), lambda v: _number(v, float)
        encode = lambda row: ["trending", as_of.isoformat(), row.sort_score, str(row.id)]  # noqa: E731
    else:
        raise ValidationFailed("The request is not valid.", [{"field": "sort", "issue": "unknown sort"}])
    after = None
    if key is not None:
        if len(key) != 3:
            raise _BAD_CURSOR
        value, last_id = kind(key[1]), _uuid(key[2])
        type_ = {"new": ideas.c.created_at.type, "popular": Integer(), "controversial": Float(), "trending": Float()}[sort]
        after = tuple_(score, ideas.c.id) < tuple_(bindparam("after_score", value, type_=type_),
                                                    bindparam("after_id", last_id, type_=PG_UUID(as_uuid=True)))
    return score, after, encode


def time_id_key(cursor: str | None):
    """The (time, id) pair of a cursor, or None for the first page."""
    key = pagination.decode(cursor)
    if key is None:
        return None
    if len(key) != 2:
        raise _BAD_CURSOR
    return (bindparam("after_at", _time(key[0]), type_=DateTime(timezone=True)),
            bindparam("after_id", _uuid(key[1]), type_=PG_UUID(as_uuid=True)))


def comment_order(cursor: str | None):
    """Oldest first, so a thread reads top-down; key (created_at, id)."""
    key = pagination.decode(cursor)
    after = None
    if key is not None:
        if len(key) != 2:
            raise _BAD_CURSOR
        after = tuple_(comments.c.created_at, comments.c.id) > tuple_(
            bindparam("after_at", _time(key[0]), type_=comments.c.created_at.type),
            bindparam("after_id", _uuid(key[1]), type_=PG_UUID(as_uuid=True)))
    return after, lambda row: [row.created_at.isoformat(), str(row.id)]


def newest_first(table, cursor: str | None):
    """Newest first by (created_at, id): projects, and one's own ideas and comments."""
    key = pagination.decode(cursor)
    after = None
    if key is not None:
        if len(key) != 2:
            raise _BAD_CURSOR
        after = tuple_(table.c.created_at, table.c.id) < tuple_(
            bindparam("after_at", _time(key[0]), type_=table.c.created_at.type),
            bindparam("after_id", _uuid(key[1]), type_=PG_UUID(as_uuid=True)))
    return after, lambda row: [row.created_at.isoformat(), str(row.id)]
