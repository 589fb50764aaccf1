"""The read models budgeting keeps of other services' facts: projects (ideas) and demographics (accounts).

Events arrive in any order and possibly twice: a project's state and a profile follow the newest fact
by its time (`occurred_at`, or the time an RPC answer was read), so an old fact arriving late changes nothing.
"""
from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from services.budgeting.models import profiles, projects
from services.common import profiles as demographic_profiles


def upsert_project(tx, city_id, project_id, *, status: str, method: str | None, at: datetime) -> None:
    stmt = insert(projects).values(city_id=city_id, project_id=project_id, method=method, status=status, state_at=at)
    old, new = projects.c, stmt.excluded
    tx.execute(stmt.on_conflict_do_update(
        index_elements=[old.city_id, old.project_id],
        set_={"method": func.coalesce(new.method, old.method), "status": new.status, "state_at": new.state_at},
        where=old.state_at < new.state_at,
    ))


def get_project(session, city_id, project_id):
    return session.execute(
        select(projects).where(projects.c.city_id == city_id, projects.c.project_id == project_id)
    ).first()


upsert_profile = functools.partial(demographic_profiles.upsert_profile, profiles)
get_profiles = functools.partial(demographic_profiles.get_profiles, profiles)
