"""The read models budgeting keeps of other services' facts: projects (ideas) and demographics (accounts).

Events arrive in any order and possibly twice: a project's state and a profile follow the newest fact
by its time (`occurred_at`, or the time an RPC answer was read), so an old fact arriving late changes nothing.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from services.budgeting.models import profiles, projects


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


def upsert_profile(tx, city_id, user_id, *, birth_year, gender, district, at: datetime) -> None:
    stmt = insert(profiles).values(city_id=city_id, user_id=user_id, birth_year=birth_year, gender=gender,
                                   district=district, state_at=at)
    old, new = profiles.c, stmt.excluded
    tx.execute(stmt.on_conflict_do_update(
        index_elements=[old.city_id, old.user_id],
        set_={"birth_year": new.birth_year, "gender": new.gender, "district": new.district,
              "state_at": new.state_at},
        where=old.state_at < new.state_at,
    ))


def get_profiles(session, city_id, user_ids) -> dict[str, dict]:
    ids = list(user_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(profiles).where(profiles.c.city_id == city_id, profiles.c.user_id.in_(ids))
    ).all()
    return {str(r.user_id): {"birth_year": r.birth_year, "gender": r.gender, "district": r.district} for r in rows}
