"""Tables of the voting service (schema `voting`).

Owned data: votes with their per-target totals, poll questions, options and responses.
Read models (kept from other services' events, never read from their tables): vote targets and
projects from `ideas.*`, demographics from `accounts.*`.
"""
from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, Column, DateTime, ForeignKey, Index, Integer, Table, Text,
    UniqueConstraint, func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from services.common.profiles import profiles_table
from services.common.tables import service_metadata

metadata = service_metadata("voting")

# -- read models ---------------------------------------------------------------------------------
# What can be voted on. Rows come from ideas.* events (or from one `ideas.vote_target` call when a
# vote arrives before the event). `deleted` is a tombstone: once set, nothing unsets it. `hidden`
# follows the newest hide/restore (by `visibility_at`, the time of the fact that set it).
targets = Table(
    "targets",
    metadata,
    Column("city_id", UUID(as_uuid=True), primary_key=True),
    Column("target_type", Text, primary_key=True),
    Column("target_id", UUID(as_uuid=True), primary_key=True),
    Column("idea_id", UUID(as_uuid=True)),
    Column("project_id", UUID(as_uuid=True)),
    Column("author_id", UUID(as_uuid=True)),
    Column("deleted", Boolean, nullable=False, server_default="false"),
    Column("hidden", Boolean, nullable=False, server_default="false"),
    Column("visibility_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("target_type IN ('idea', 'comment')", name="ck_targets_type"),
)

# Projects as far as voting and polls care; last writer wins by the time of the fact (`state_at`).
projects = Table(
    "projects",
    metadata,
    Column("city_id", UUID(as_uuid=True), primary_key=True),
    Column("project_id", UUID(as_uuid=True), primary_key=True),
    Column("method", Text),
    Column("status", Text, nullable=False),
    Column("allow_down_votes", Boolean, nullable=False, server_default="true"),
    Column("state_at", DateTime(timezone=True), nullable=False),
)

# Demographics of users, for poll results; last writer wins by `state_at`.
profiles = profiles_table(metadata)

# -- votes ---------------------------------------------------------------------------------------
votes = Table(
    "votes",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("target_type", Text, nullable=False),
    Column("target_id", UUID(as_uuid=True), nullable=False),
    Column("voter_id", UUID(as_uuid=True), nullable=False),
    Column("value", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("city_id", "voter_id", "target_type", "target_id", name="uq_votes_one_per_voter"),
    CheckConstraint("value IN ('up', 'down')", name="ck_votes_value"),
    Index("ix_votes_target", "city_id", "target_type", "target_id"),
)

# The totals of each target, changed in the transaction of each vote (row lock: no lost update);
# `version` grows by one with every change, so consumers keep the newest totals.
vote_counts = Table(
    "vote_counts",
    metadata,
    Column("city_id", UUID(as_uuid=True), primary_key=True),
    Column("target_type", Text, primary_key=True),
    Column("target_id", UUID(as_uuid=True), primary_key=True),
    Column("up_votes", Integer, nullable=False, server_default="0"),
    Column("down_votes", Integer, nullable=False, server_default="0"),
    Column("version", BigInteger, nullable=False, server_default="0"),
)

# -- polls ---------------------------------------------------------------------------------------
poll_questions = Table(
    "poll_questions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("project_id", UUID(as_uuid=True), nullable=False),
    Column("text", JSONB, nullable=False),
    Column("kind", Text, nullable=False),
    Column("max_choices", Integer, nullable=False),
    Column("created_by", UUID(as_uuid=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("kind IN ('single', 'multiple')", name="ck_poll_questions_kind"),
    Index("ix_poll_questions_project", "city_id", "project_id", "created_at"),
)

poll_options = Table(
    "poll_options",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("question_id", UUID(as_uuid=True), ForeignKey("voting.poll_questions.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("text", JSONB, nullable=False),
)

# One response per user and poll; replaced as a whole when the user answers again.
poll_responses = Table(
    "poll_responses",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("project_id", UUID(as_uuid=True), nullable=False),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("answers", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("city_id", "project_id", "user_id", name="uq_poll_responses_one_per_user"),
)

# The chosen options of each response, one row per choice, for counting.
poll_choices = Table(
    "poll_choices",
    metadata,
    Column("response_id", UUID(as_uuid=True), ForeignKey("voting.poll_responses.id", ondelete="CASCADE"),
           primary_key=True),
    Column("option_id", UUID(as_uuid=True), primary_key=True),
    Column("question_id", UUID(as_uuid=True), nullable=False),
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("project_id", UUID(as_uuid=True), nullable=False),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Index("ix_poll_choices_project", "city_id", "project_id"),
)
