"""The read models voting keeps of other services' facts: vote targets, projects, demographics.

Events arrive in any order and possibly twice, so every write here converges:
- a target's identity (idea, project, author) is filled in by whichever fact comes first;
- `deleted` is a tombstone that no later (or earlier) fact undoes;
- `hidden`, a project's state and a profile follow the newest fact by its time (`occurred_at` of the
  event, or the time an RPC answer was read), so an old fact arriving late changes nothing.
"""
from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.dialects.postgresql import insert

from services.common import profiles as demographic_profiles
from services.voting.models import profiles, projects, targets
from services.voting.rules import Project, Target


# -- targets ---------------------------------------------------------------------------------------
def upsert_target(tx, city_id, target_type: str, target_id, *, idea_id=None, project_id=None, author_id=None,
                  deleted: bool = False, hidden: bool | None = None, at: datetime | None = None) -> None:
    """Merge one fact about a target. `hidden` with its time `at` applies only if newer than the last."""
    stmt = insert(targets).values(
        city_id=city_id, target_type=target_type, target_id=target_id, idea_id=idea_id,
        project_id=project_id, author_id=author_id, deleted=deleted, hidden=bool(hidden),
        visibility_at=at if hidden is not None else None,
    )
    old, new = targets.c, stmt.excluded
    newer = and_(new.visibility_at.is_not(None), or_(old.visibility_at.is_(None), new.visibility_at > old.visibility_at))
    stmt = stmt.on_conflict_do_update(
        index_elements=[old.city_id, old.target_type, old.target_id],
        set_={
            "idea_id": func.coalesce(old.idea_id, new.idea_id),
            "project_id": func.coalesce(old.project_id, new.project_id),
            "author_id": func.coalesce(old.author_id, new.author_id),
            "deleted": old.deleted | new.deleted,
            "hidden": case((newer, new.hidden), else_=old.hidden),
            "visibility_at": func.greatest(old.visibility_at, new.visibility_at),
            "updated_at": func.now(),
        },
    )
    tx.execute(stmt)


def get_target(session, city_id, target_type: str, target_id) -> Target | None:
    row = session.execute(
        select(targets).where(
            targets.c.city_id == city_id, targets.c.target_type == target_type, targets.c.target_id == target_id
        )
    ).first()
    if row is None:
        return None
    return Target(
        target_type=row.target_type, target_id=str(row.target_id),
        idea_id=str(row.idea_id) if row.idea_id else None,
        project_id=str(row.project_id) if row.project_id else None,
        author_id=str(row.author_id) if row.author_id else None,
        deleted=row.deleted, hidden=row.hidden,
    )


# -- projects --------------------------------------------------------------------------------------
def upsert_project(tx, city_id, project_id, *, status: str, allow_down_votes: bool, method: str | None,
                   at: datetime) -> None:
    """Last writer wins by the time of the fact; an unknown `method` keeps the one known."""
    stmt = insert(projects).values(
        city_id=city_id, project_id=project_id, method=method, status=status,
        allow_down_votes=allow_down_votes, state_at=at,
    )
    old, new = projects.c, stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=[old.city_id, old.project_id],
        set_={
            "method": func.coalesce(new.method, old.method),
            "status": new.status,
            "allow_down_votes": new.allow_down_votes,
            "state_at": new.state_at,
        },
        where=old.state_at < new.state_at,
    )
    tx.execute(stmt)


def get_project(session, city_id, project_id) -> Project | None:
    row = session.execute(
        select(projects).where(projects.c.city_id == city_id, projects.c.project_id == project_id)
    ).first()
    if row is None:
        return None
    return Project(status=row.status, allow_down_votes=row.allow_down_votes, method=row.method)


# -- demographics ----------------------------------------------------------------------------------
upsert_profile = functools.partial(demographic_profiles.upsert_profile, profiles)
get_profiles = functools.partial(demographic_profiles.get_profiles, profiles)
