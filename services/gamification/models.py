"""Tables of the gamification service (schema `gamification`)."""
from sqlalchemy import (
    BigInteger, Boolean, Column, Date, DateTime, Index, Integer, PrimaryKeyConstraint, Table, Text,
    UniqueConstraint, func, text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from services.common.tables import service_metadata

metadata = service_metadata("gamification")

# One row per effect: points booked for a subject because of a source event. Unique on the pair, so a
# redelivered event books nothing twice (the processed_events record guards the handler as a whole).
ledger = Table(
    "ledger",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("points", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("subject_key", Text, nullable=False),
    Column("source_event_id", UUID(as_uuid=True), nullable=False),
    Column("earned_at", DateTime(timezone=True), nullable=False),  # the subject's moment: its period
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("source_event_id", "subject_key", name="uq_ledger_source_subject"),
    Index("ix_gamification_ledger_city_earned", "city_id", "earned_at"),
    Index("ix_gamification_ledger_city_user", "city_id", "user_id"),
)

# Materialised totals per period bucket ("all", "month:2026-05", "week:2026-W19"), updated in the same
# transaction as the ledger rows. Leaderboard and rank read only this table.
totals = Table(
    "totals",
    metadata,
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("period", Text, nullable=False),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("points", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint("city_id", "period", "user_id"),
    Index("ix_gamification_totals_board", "city_id", "period", text("points DESC"), "user_id"),
)

# Things that earn points (see ledger.py): their state, their worth and what was awarded for them.
subjects = Table(
    "subjects",
    metadata,
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("key", Text, nullable=False),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("kind", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("points", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("awarded", Integer, nullable=False, server_default="0"),
    Column("counts", Boolean, nullable=False, server_default="false"),
    Column("target_type", Text),
    Column("target_id", UUID(as_uuid=True)),
    Column("voter_id", UUID(as_uuid=True)),
    Column("value", Text),
    Column("version", BigInteger),
    Column("anchor_at", DateTime(timezone=True), nullable=False),
    Column("day", Date, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("city_id", "key"),
    Index("ix_gamification_subjects_user_kind", "city_id", "user_id", "kind"),
    Index("ix_gamification_subjects_target", "city_id", "target_type", "target_id"),
    Index("ix_gamification_subjects_pair_day", "city_id", "voter_id", "user_id", "day",
          postgresql_where=text("kind = 'vote'")),
)

# Visibility of content: hidden (after flags, until restored) or deleted (for good). A row may exist
# before the content is known to this service (a deletion overtaking the creation): a tombstone.
targets = Table(
    "targets",
    metadata,
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("target_type", Text, nullable=False),
    Column("target_id", UUID(as_uuid=True), nullable=False),
    Column("hidden", Boolean, nullable=False, server_default="false"),
    Column("hidden_changed_at", DateTime(timezone=True)),
    Column("deleted", Boolean, nullable=False, server_default="false"),
    PrimaryKeyConstraint("city_id", "target_type", "target_id"),
)

# Users as the leaderboard shows them, and the highest level each has reached.
users = Table(
    "users",
    metadata,
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("display_name", Text),
    Column("profile_at", DateTime(timezone=True)),
    Column("level", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint("city_id", "user_id"),
)

badges = Table(
    "badges",
    metadata,
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("badge", Text, nullable=False),
    Column("level", Integer, nullable=False),
    Column("earned_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("city_id", "user_id", "badge", "level"),
)

# What each user's badges count, kept up to date as subjects start or stop counting (see ledger.py):
# `name` is a subject kind, or "comment_vote" for counting votes on the user's comments. The badge check
# reads these few rows instead of counting every subject the user ever earned.
counters = Table(
    "counters",
    metadata,
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("name", Text, nullable=False),
    Column("n", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint("city_id", "user_id", "name"),
)

# Days on which a user took part (posted, commented, voted, submitted a ballot): streaks.
activity_days = Table(
    "activity_days",
    metadata,
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("day", Date, nullable=False),
    PrimaryKeyConstraint("city_id", "user_id", "day"),
)

# A city's changes to the default rules (rules.py); absent means the defaults.
city_rules = Table(
    "city_rules",
    metadata,
    Column("city_id", UUID(as_uuid=True), primary_key=True),
    Column("overrides", JSONB, nullable=False),
    Column("updated_by", UUID(as_uuid=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
