"""Tables of the ideas service (schema `ideas`)."""
from sqlalchemy import (
    ARRAY, BigInteger, Boolean, CheckConstraint, Column, Computed, DateTime, Float, ForeignKey, Index, Integer,
    Table, Text, UniqueConstraint, func, text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR, UUID

from services.common.tables import service_metadata

metadata = service_metadata("ideas")

# The search document of an idea: title (weight A) and body (B) without stemming, so any language and
# exact words match, plus the same text stemmed in the idea's language when PostgreSQL knows it.
_LANGUAGE = (
    "CASE split_part(coalesce(locale, ''), '-', 1) "
    "WHEN 'en' THEN 'english'::regconfig WHEN 'nl' THEN 'dutch'::regconfig "
    "WHEN 'fr' THEN 'french'::regconfig WHEN 'es' THEN 'spanish'::regconfig "
    "WHEN 'de' THEN 'german'::regconfig WHEN 'it' THEN 'italian'::regconfig "
    "WHEN 'pt' THEN 'portuguese'::regconfig ELSE 'simple'::regconfig END"
)
SEARCH_DOCUMENT = (
    "setweight(to_tsvector('simple'::regconfig, title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, body), 'B') || "
    f"to_tsvector({_LANGUAGE}, title || ' ' || body)"
)
# The configurations a query is parsed with; a match in any of them counts.
SEARCH_CONFIGS = ("simple", "english", "dutch", "french", "spanish", "german", "italian", "portuguese")

projects = Table(
    "projects",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("title", JSONB, nullable=False),
    Column("description", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("method", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("topics", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("allow_down_votes", Boolean, nullable=False, server_default=text("true")),
    Column("flag_threshold", Integer),
    Column("created_by", UUID(as_uuid=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_ideas_projects_city_created", "city_id", "created_at", "id"),
)

# Read model of the accounts service's users: who wrote what, with the name to show.
users = Table(
    "users",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("display_name", Text),
    Column("locale", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

_VOTES = (
    # The vote read model, fed by voting.* events: totals of the newest target_version seen,
    # the controversy score derived from them, and the decayed trending score with its reference time.
    lambda: Column("up_votes", Integer, nullable=False, server_default=text("0")),
    lambda: Column("down_votes", Integer, nullable=False, server_default=text("0")),
    lambda: Column("votes_version", BigInteger, nullable=False, server_default=text("0")),
    lambda: Column("controversy", Float, nullable=False, server_default=text("0")),
    lambda: Column("trend_score", Float, nullable=False, server_default=text("0")),
    lambda: Column("trend_at", DateTime(timezone=True)),
)
_MODERATION = (
    lambda: Column("hidden_at", DateTime(timezone=True)),
    lambda: Column("deleted_at", DateTime(timezone=True)),
    lambda: Column("deleted_by", UUID(as_uuid=True)),
)

ideas = Table(
    "ideas",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("project_id", UUID(as_uuid=True), ForeignKey("ideas.projects.id"), nullable=False),
    Column("author_id", UUID(as_uuid=True), nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("topics", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("locale", Text),
    Column("lat", Float),
    Column("lng", Float),
    Column("status", Text, nullable=False, server_default="proposed"),
    Column("feedback", JSONB),
    Column("status_changed_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    *(c() for c in _VOTES),
    *(c() for c in _MODERATION),
    Column("search", TSVECTOR, Computed(SEARCH_DOCUMENT, persisted=True)),
    CheckConstraint("(lat IS NULL) = (lng IS NULL)", name="ck_ideas_location_pair"),
    Index("ix_ideas_ideas_new", "city_id", "project_id", "created_at", "id"),
    Index("ix_ideas_ideas_popular", "city_id", "project_id", text("(up_votes - down_votes)"), "id"),
    Index("ix_ideas_ideas_controversial", "city_id", "project_id", "controversy", "id"),
    Index("ix_ideas_ideas_topics", "topics", postgresql_using="gin"),
    Index("ix_ideas_ideas_search", "search", postgresql_using="gin"),
    Index("ix_ideas_ideas_author", "city_id", "author_id", "created_at", "id"),
)

comments = Table(
    "comments",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("idea_id", UUID(as_uuid=True), ForeignKey("ideas.ideas.id"), nullable=False),
    Column("project_id", UUID(as_uuid=True), nullable=False),
    Column("author_id", UUID(as_uuid=True), nullable=False),
    Column("parent_id", UUID(as_uuid=True), ForeignKey("ideas.comments.id")),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    *(c() for c in _VOTES),
    *(c() for c in _MODERATION),
    Index("ix_ideas_comments_idea", "city_id", "idea_id", "created_at", "id"),
    Index("ix_ideas_comments_author", "city_id", "author_id", "created_at", "id"),
)

flags = Table(
    "flags",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("target_type", Text, nullable=False),
    Column("target_id", UUID(as_uuid=True), nullable=False),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolved_by", UUID(as_uuid=True)),
    Column("resolution", Text),
    UniqueConstraint("city_id", "target_type", "target_id", "user_id", name="uq_ideas_flags_one_per_user"),
    Index("ix_ideas_flags_open", "city_id", "created_at", postgresql_where=text("resolved_at IS NULL")),
)

# What takes votes, by the target type voting's events name.
TARGETS = {"idea": ideas, "comment": comments}
