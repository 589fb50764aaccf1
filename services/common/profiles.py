"""The demographics read model a service keeps of users (from accounts events), for results by group.

Polls and budgets split results by age group, gender and district; each keeps this table in its own
schema. A profile follows the newest fact by time, so a late, older event changes nothing.
"""
from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import Column, DateTime, Integer, MetaData, Table, Text, select
from sqlalchemy.dialects.postgresql import UUID

from services.common.readmodels import ReadModel


def profiles_table(metadata: MetaData) -> Table:
    return Table(
        "profiles",
        metadata,
        Column("city_id", UUID(as_uuid=True), primary_key=True),
        Column("user_id", UUID(as_uuid=True), primary_key=True),
        Column("birth_year", Integer),
        Column("gender", Text),
        Column("district", Text),
        Column("state_at", DateTime(timezone=True), nullable=False),
    )


def upsert_profile(profiles: Table, tx, city_id, user_id, *, birth_year, gender, district, at: datetime) -> None:
    _model(profiles).upsert(tx, at=at, city_id=city_id, user_id=user_id, birth_year=birth_year, gender=gender,
                            district=district)


@functools.lru_cache(maxsize=None)
def _model(profiles: Table) -> ReadModel:
    return ReadModel(profiles, key=("city_id", "user_id"))


def get_profiles(profiles: Table, session, city_id, user_ids) -> dict[str, dict]:
    """`{user_id: {birth_year, gender, district}}` of the given users that are known."""
    ids = list(user_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(profiles).where(profiles.c.city_id == city_id, profiles.c.user_id.in_(ids))
    ).all()
    return {str(r.user_id): {"birth_year": r.birth_year, "gender": r.gender, "district": r.district} for r in rows}
