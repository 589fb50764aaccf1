"""Tables of the analytics service (schema `analytics`): read models fed by bus events, and topic models.

Nothing here is read from another service's tables: every row comes from an event (docs/dev/contracts.md).
Events of different types arrive in any order, so rows converge: full-state events carry the time they
happened (`*_at` guards keep the newest), vote totals carry `target_version`, deletions are tombstones,
and a row may be created as a stub by whichever event about it arrives first.
"""
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from services.common.tables import service_metadata

metadata = service_metadata("analytics")

projects = Table(
    "projects",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("title", JSONB),  # {locale: text}; null while only ideas of the project are known
    Column("method", Text),
    Column("status", Text),
    Column("state_at", DateTime(timezone=True)),  # occurred_at of the project event applied last
    # Grows with every change of the project's ideas (text, visibility, deletion); the changed idea
    # records it in `ideas.seq`. Taken under the row lock, so a reader who sees version v sees every
    # idea change up to v: in-memory similarity indexes catch up with `seq > v` (services/analytics/replica.py).
    Column("ideas_version", BigInteger, nullable=False, server_default="0"),
    Column("refresh_requested_at", DateTime(timezone=True)),
)

ideas = Table(
    "ideas",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("project_id", UUID(as_uuid=True), nullable=False),
    Column("author_id", UUID(as_uuid=True)),
    Column("title", Text),  # null: a stub (votes or comments arrived before the idea itself)
    Column("body", Text),
    Column("locale", Text),
    Column("tags", ARRAY(Text), nullable=False, server_default="{}"),  # the topics the author chose
    Column("status", Text),
    Column("created_at", DateTime(timezone=True)),
    Column("state_at", DateTime(timezone=True)),   # newest idea_created/idea_updated applied
    Column("status_at", DateTime(timezone=True)),  # newest status (from any idea event) applied
    Column("hidden", Boolean, nullable=False, server_default="false"),
    Column("hidden_at", DateTime(timezone=True)),
    Column("deleted", Boolean, nullable=False, server_default="false"),  # a tombstone, never undone
    Column("up_votes", Integer, nullable=False, server_default="0"),
    Column("down_votes", Integer, nullable=False, server_default="0"),
    Column("votes_version", BigInteger, nullable=False, server_default="0"),
    Column("topic_id", Integer),
    Column("topic_score", Float),
    Column("topic_model_version", Text),
    Column("flags", Integer, nullable=False, server_default="0"),  # open flags, as of the last moderation event
    Column("seq", BigInteger, nullable=False, server_default="0"),
    Index("ix_analytics_ideas_project_seq", "city_id", "project_id", "seq"),
)

comments = Table(
    "comments",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("idea_id", UUID(as_uuid=True), nullable=False),
    Column("project_id", UUID(as_uuid=True)),
    Column("author_id", UUID(as_uuid=True)),
    Column("parent_id", UUID(as_uuid=True)),
    Column("body", Text),
    Column("created_at", DateTime(timezone=True)),
    Column("deleted", Boolean, nullable=False, server_default="false"),
    Index("ix_analytics_comments_idea", "city_id", "idea_id"),
)

# Each voter's current vote on an idea or a comment (for the votes export); `value` null: withdrawn.
# `version` is the target's vote version of the event applied last, so events converge in any order.
votes = Table(
    "votes",
    metadata,
    Column("target_id", UUID(as_uuid=True), primary_key=True),
    Column("voter_id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("project_id", UUID(as_uuid=True)),
    Column("idea_id", UUID(as_uuid=True), nullable=False),
    Column("target_type", Text, nullable=False),
    Column("value", Text),
    Column("voted_at", DateTime(timezone=True), nullable=False),
    Column("version", BigInteger, nullable=False),
    Index("ix_analytics_votes_project", "city_id", "project_id"),
)

users = Table(
    "users",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("birth_year", Integer),
    Column("gender", Text),
    Column("district", Text),
    Column("locale", Text),
    Column("state_at", DateTime(timezone=True), nullable=False),
)

# One row per act of participation (an idea posted, a comment, a vote cast, a ballot, a poll answer):
# the dashboard's counts, time series and participants come from here.
activity = Table(
    "activity",
    metadata,
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("project_id", UUID(as_uuid=True)),
    Column("user_id", UUID(as_uuid=True)),
    Column("kind", Text, nullable=False),  # idea | comment | vote | ballot | poll
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Index("ix_analytics_activity_city_time", "city_id", "occurred_at"),
)

topic_models = Table(
    "topic_models",
    metadata,
    Column("project_id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("status", Text, nullable=False),  # ok | not_enough_ideas
    Column("model_version", Text),
    Column("model", LargeBinary),  # TopicModel.to_bytes(); null when status is not ok
    Column("topics", JSONB, nullable=False, server_default="[]"),  # [{id, label, keywords}]
    Column("have", Integer, nullable=False, server_default="0"),
    Column("needed", Integer, nullable=False, server_default="0"),
    Column("built_version", BigInteger, nullable=False, server_default="0"),  # projects.ideas_version built from
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("built_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("build_seconds", Float),
)
