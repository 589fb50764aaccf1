"""Demographic groups shared by polls, budgets and analytics."""
from __future__ import annotations

from datetime import date

AGE_GROUPS = ("under_25", "25-34", "35-49", "50-64", "65+")
GENDERS = ("female", "male", "other")
UNKNOWN = "unknown"


def age_group(birth_year: int | None, today: date | None = None) -> str:
    if not birth_year:
        return UNKNOWN
    age = (today or date.today()).year - int(birth_year)
    if age < 25:
        return "under_25"
    if age < 35:
        return "25-34"
    if age < 50:
        return "35-49"
    if age < 65:
        return "50-64"
    return "65+"


def group_of(profile: dict | None, dimension: str, today: date | None = None) -> str:
    """The group a person falls in for one dimension: age_group, gender or district."""
    profile = profile or {}
    if dimension == "age_group":
        return age_group(profile.get("birth_year"), today)
    if dimension in ("gender", "district"):
        return profile.get(dimension) or UNKNOWN
    raise ValueError(f"unknown dimension {dimension!r}")


DIMENSIONS = ("age_group", "gender", "district")
