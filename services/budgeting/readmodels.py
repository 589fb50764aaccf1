"""The read models budgeting keeps of other services' facts: projects (ideas) and demographics (accounts).

Events arrive in any order and possibly twice: a project's state and a profile follow the newest fact
by its time (`occurred_at`, or the time an RPC answer was read), so an old fact arriving late changes
nothing; a project's method, once known, is never cleared.
"""
from __future__ import annotations

import functools
from datetime import datetime

from services.budgeting.models import profiles, projects
from services.common import profiles as demographic_profiles
from services.common.readmodels import ReadModel

PROJECTS = ReadModel(projects, key=("city_id", "project_id"), keep_known=("method",))


def upsert_project(tx, city_id, project_id, *, status: str, method: str | None, at: datetime) -> None:
    PROJECTS.upsert(tx, at=at, city_id=city_id, project_id=project_id, status=status, method=method)


def get_project(session, city_id, project_id):
    return PROJECTS.get(session, city_id=city_id, project_id=project_id)


upsert_profile = functools.partial(demographic_profiles.upsert_profile, profiles)
get_profiles = functools.partial(demographic_profiles.get_profiles, profiles)
