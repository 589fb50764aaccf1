"""Rules for the texts of a city: multilingual objects use the city's locales (the common check); posts carry
one locale and the project's topics."""
from __future__ import annotations

from services.common.errors import ValidationFailed
from services.common.texts import check_locales  # noqa: F401  (the city's locales, for the use cases here)


def post_locale(requested: str | None, user_locale: str | None, city_locales: list[str]) -> str | None:
    """The locale of a citizen's post: the one given (which must be the city's), else the author's, else the city's first."""
    if requested is not None:
        if requested not in city_locales:
            raise ValidationFailed("The request is not valid.", [
                {"field": "locale", "issue": f"not a locale of this city ({', '.join(city_locales)})"}])
        return requested
    if user_locale in city_locales:
        return user_locale
    return city_locales[0] if city_locales else None


def unknown_topics(topics: list[str], project_topics: list[str]) -> list[dict]:
    known = set(project_topics)
    return [
        {"field": f"topics.{i}", "issue": f"{t!r} is not a topic of this project ({', '.join(project_topics) or 'none'})"}
        for i, t in enumerate(topics)
        if t not in known
    ]


def check_topics(topics: list[str], project_topics: list[str]) -> None:
    issues = unknown_topics(topics, project_topics)
    if issues:
        raise ValidationFailed("Unknown topics.", issues)
