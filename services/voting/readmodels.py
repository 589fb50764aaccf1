"""The read models voting keeps of other services' facts: vote targets, projects, demographics.

Events arrive in any order and possibly twice, so every write here converges (services/common/readmodels.py):
- a target's identity (idea, project, author) is filled in by whichever fact comes first;
- `deleted` is a tombstone that no later (or earlier) fact undoes;
- `hidden`, a project's state and a profile follow the newest fact by its time (`occurred_at` of the
  event, or the time an RPC answer was read), so an old fact arriving late changes nothing.
"""
from __future__ import annotations

import functools

from services.common import profiles as demographic_profiles
from services.common.readmodels import ReadModel
from services.voting import models
from services.voting.rules import Project, Target

targets = ReadModel(models.targets, key=("city_id", "target_type", "target_id"), at="visibility_at",
                    keep_known=("idea_id", "project_id", "author_id"), tombstones=("deleted",), touched="updated_at")
projects = ReadModel(models.projects, key=("city_id", "project_id"), keep_known=("method",))


def _str(value) -> str | None:
    return str(value) if value is not None else None


def get_target(session, city_id, target_type: str, target_id) -> Target | None:
    row = targets.get(session, city_id=city_id, target_type=target_type, target_id=target_id)
    if row is None:
        return None
    return Target(target_type=row.target_type, target_id=str(row.target_id), idea_id=_str(row.idea_id),
                  project_id=_str(row.project_id), author_id=_str(row.author_id), deleted=row.deleted,
                  hidden=row.hidden)


def get_project(session, city_id, project_id) -> Project | None:
    row = projects.get(session, city_id=city_id, project_id=project_id)
    if row is None:
        return None
    return Project(status=row.status, allow_down_votes=row.allow_down_votes, method=row.method)


# -- demographics ----------------------------------------------------------------------------------
upsert_profile = functools.partial(demographic_profiles.upsert_profile, models.profiles)
get_profiles = functools.partial(demographic_profiles.get_profiles, models.profiles)
