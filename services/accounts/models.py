"""Tables of the accounts service (schema `accounts`)."""
from sqlalchemy import ARRAY, Column, DateTime, ForeignKey, Integer, Table, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import UUID

from services.common.tables import service_metadata

metadata = service_metadata("accounts")

cities = Table(
    "cities",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("slug", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("locales", ARRAY(Text), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

users = Table(
    "users",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("city_id", UUID(as_uuid=True), ForeignKey("accounts.cities.id"), nullable=False, index=True),
    Column("email", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("display_name", Text, nullable=False),
    Column("birth_year", Integer),
    Column("gender", Text),
    Column("district", Text),
    Column("locale", Text),
    Column("role", Text, nullable=False, server_default="citizen"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("city_id", "email", name="uq_users_city_email"),
)
