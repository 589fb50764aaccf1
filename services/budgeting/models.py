"""Tables of the budgeting service (schema `budgeting`).

Owned data: each budgeting project's budget (total, currency, ballot rules, phase), its items, the
ballots (drafts and submitted ones, of users or imported anonymous voters) and cached results.
Read models (kept from other services' events, never read from their tables): projects from
`ideas.*`, demographics from `accounts.*`.
"""
from sqlalchemy import (
    ARRAY, BigInteger, CheckConstraint, Column, DateTime, Index, Numeric, Table, Text,
    UniqueConstraint, func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from services.common.profiles import profiles_table
from services.common.tables import service_metadata

metadata = service_metadata("budgeting")

# -- read models ---------------------------------------------------------------------------------
# Projects as far as budgeting cares (method and status); last writer wins by the time of the fact.
projects = Table(
    "projects",
    metadata,
    Column("city_id", UUID(as_uuid=True), primary_key=True),
    Column("project_id", UUID(as_uuid=True), primary_key=True),
    Column("method", Text),
    Column("status", Text, nullable=False),
    Column("state_at", DateTime(timezone=True), nullable=False),
)

# Demographics of users, for results by group; last writer wins by `state_at`.
profiles = profiles_table(metadata)

# -- budgets -------------------------------------------------------------------------------------
# One budget per budgeting project. `version` grows with every change that can change results
# (a ballot submitted, items added or removed, an import, the total changed): results are cached by it.
# `meta` keeps the META section of an imported pabulib file, for the export.
budgets = Table(
    "budgets",
    metadata,
    Column("city_id", UUID(as_uuid=True), primary_key=True),
    Column("project_id", UUID(as_uuid=True), primary_key=True),
    Column("total", Numeric, nullable=False),
    Column("currency", Text, nullable=False),
    Column("ballot", JSONB, nullable=False),
    Column("phase", Text, nullable=False),
    Column("rule", Text, nullable=False, server_default="mes"),
    Column("version", BigInteger, nullable=False, server_default="0"),
    Column("meta", JSONB),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("phase IN ('collecting', 'voting', 'closed')", name="ck_budgets_phase"),
    CheckConstraint("total > 0", name="ck_budgets_total"),
)

# Items a budget can fund. `key` is the id the outcome rules see (and break ties by): the pabulib
# project_id of an imported item, else the item's own id. `extra` keeps a pabulib file's other columns.
items = Table(
    "items",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("project_id", UUID(as_uuid=True), nullable=False),
    Column("key", Text, nullable=False),
    Column("title", JSONB, nullable=False),
    Column("cost", Numeric, nullable=False),
    Column("idea_id", UUID(as_uuid=True)),
    Column("extra", JSONB),
    Column("position", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("cost > 0", name="ck_items_cost"),
    UniqueConstraint("city_id", "project_id", "key", name="uq_items_key"),
    UniqueConstraint("city_id", "project_id", "idea_id", name="uq_items_idea"),
    Index("ix_items_project", "city_id", "project_id", "position"),
)

# Ballots: one per user and budget (unique), or one per imported anonymous voter (`voter_ref`, the
# file's voter_id, unique within the file). `item_ids` keeps ballot order (a ranking for ordinal votes); `points` is parallel
# to it for cumulative ballots. Imported voters carry the file's demographics (`age_group`, `gender`,
# `district`), its other columns (`extra`) and its place in the file (`position`).
ballots = Table(
    "ballots",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), nullable=False),
    Column("project_id", UUID(as_uuid=True), nullable=False),
    Column("user_id", UUID(as_uuid=True)),
    Column("voter_ref", Text),
    Column("status", Text, nullable=False),
    Column("item_ids", ARRAY(UUID(as_uuid=False)), nullable=False),
    Column("points", ARRAY(Numeric)),
    Column("age_group", Text),
    Column("gender", Text),
    Column("district", Text),
    Column("extra", JSONB),
    Column("position", BigInteger),  # an imported voter's place in the file (kept by the export)
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("submitted_at", DateTime(timezone=True)),
    CheckConstraint("status IN ('draft', 'submitted')", name="ck_ballots_status"),
    CheckConstraint("user_id IS NOT NULL OR voter_ref IS NOT NULL", name="ck_ballots_voter"),
    # also the index by which a budget's ballots are read (its leading columns); an import's voter ids
    # are unique by the parser's check, so they need no index of their own to write 60,000 voters fast
    UniqueConstraint("city_id", "project_id", "user_id", name="uq_ballots_one_per_user"),
)

# Computed results, by (budget, rule, split, budget version): a busy results page reads them instead
# of recomputing. The row written when voting closes is the published result.
results = Table(
    "results",
    metadata,
    Column("city_id", UUID(as_uuid=True), primary_key=True),
    Column("project_id", UUID(as_uuid=True), primary_key=True),
    Column("rule", Text, primary_key=True),
    Column("dimension", Text, primary_key=True),  # '' when not split
    Column("version", BigInteger, primary_key=True),
    Column("answer", JSONB, nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
