"""Tables of the notifications service (schema `notifications`).

Read models (cities, users, projects, ideas, idea_voters, participants) are built from other services'
events, so a notice can name an idea or reach its voters without asking anyone.
"""
from sqlalchemy import (
    ARRAY, BigInteger, Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, Table, Text, UniqueConstraint,
    func, text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from services.common.tables import service_metadata

metadata = service_metadata("notifications")

# -- read models ---------------------------------------------------------------------------------------
cities = Table(
    "cities", metadata,
    Column("city_id", UUID(as_uuid=True), primary_key=True),
    Column("slug", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("locales", ARRAY(Text), nullable=False, server_default="{}"),
)

users = Table(
    "users", metadata,
    Column("user_id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("display_name", Text, nullable=False),
    Column("locale", Text),
)

projects = Table(
    "projects", metadata,
    Column("project_id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("title", JSONB, nullable=False, server_default="{}"),
)

ideas = Table(
    "ideas", metadata,
    Column("idea_id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("project_id", UUID(as_uuid=True)),
    Column("author_id", UUID(as_uuid=True)),
    Column("title", Text),
)

# The newest vote of each voter on an idea; `value` NULL is a withdrawn vote (a tombstone), and
# `version` (the target_version of the event) keeps the newest whatever the order of arrival.
idea_voters = Table(
    "idea_voters", metadata,
    Column("idea_id", UUID(as_uuid=True), primary_key=True),
    Column("user_id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("value", Text),
    Column("version", BigInteger, nullable=False, server_default="0"),
)

# Who took part in a project: authors, commenters, voters, poll respondents, ballot submitters.
participants = Table(
    "participants", metadata,
    Column("project_id", UUID(as_uuid=True), primary_key=True),
    Column("user_id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False),
)

milestones = Table(
    "milestones", metadata,
    Column("idea_id", UUID(as_uuid=True), primary_key=True),
    Column("milestone", Integer, primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("reached_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# -- inbox and e-mail ----------------------------------------------------------------------------------
preferences = Table(
    "preferences", metadata,
    Column("user_id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("email", Text, nullable=False, server_default="instant"),
    Column("in_app", Boolean, nullable=False, server_default=text("true")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# email_status: pending (instant, to send) -> sending (leased) -> sent | failed | skipped;
# digest (waits for the daily digest) -> sent | skipped; none (no e-mail wanted).
notifications = Table(
    "notifications", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("kind", Text, nullable=False),
    Column("data", JSONB, nullable=False),
    Column("source_event_id", UUID(as_uuid=True), nullable=False),
    Column("in_app", Boolean, nullable=False, server_default=text("true")),
    Column("read_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("email_status", Text, nullable=False),
    Column("email_attempts", Integer, nullable=False, server_default="0"),
    Column("email_next_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("emailed_at", DateTime(timezone=True)),
    Column("email_error", Text),
    UniqueConstraint("user_id", "source_event_id", name="uq_notifications_user_event"),
    Index("ix_notifications_inbox", "city_id", "user_id", "created_at", "id"),
    Index("ix_notifications_email_due", "email_next_at",
          postgresql_where=text("email_status IN ('pending', 'sending')")),
    Index("ix_notifications_digest", "city_id", "user_id", postgresql_where=text("email_status = 'digest'")),
)

digest_runs = Table(
    "digest_runs", metadata,
    Column("day", Date, primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sent", Integer, nullable=False, server_default="0"),
)

# -- webhooks ------------------------------------------------------------------------------------------
webhook_subscriptions = Table(
    "webhook_subscriptions", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("url", Text, nullable=False),
    Column("events", ARRAY(Text), nullable=False),
    Column("secret", Text, nullable=False),
    Column("created_by", UUID(as_uuid=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("deleted_at", DateTime(timezone=True)),
)

# One row per event delivered to any subscription: the exact body, signed the same at every attempt.
webhook_events = Table(
    "webhook_events", metadata,
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("type", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# status: pending -> delivered | failed | cancelled (the subscription was deleted)
webhook_deliveries = Table(
    "webhook_deliveries", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("subscription_id", UUID(as_uuid=True), ForeignKey("notifications.webhook_subscriptions.id"), nullable=False),
    Column("event_id", UUID(as_uuid=True), ForeignKey("notifications.webhook_events.event_id"), nullable=False),
    Column("event_type", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("delivered_at", DateTime(timezone=True)),
    UniqueConstraint("subscription_id", "event_id", name="uq_webhook_deliveries_subscription_event"),
    Index("ix_webhook_deliveries_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    Index("ix_webhook_deliveries_log", "subscription_id", "created_at", "id"),
)

webhook_attempts = Table(
    "webhook_attempts", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("delivery_id", UUID(as_uuid=True), ForeignKey("notifications.webhook_deliveries.id"), nullable=False,
           index=True),
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("status_code", Integer),
    Column("error", Text),
    Column("duration_ms", Integer),
)
