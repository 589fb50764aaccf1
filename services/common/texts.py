"""Texts in several languages: locale tags, multilingual objects `{locale: text}` and the check that
their keys are locales of the city."""
from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from services.common.errors import ValidationFailed

LOCALE = r"^[a-z]{2}(-[A-Z]{2})?$"
Locale = Annotated[str, StringConstraints(pattern=LOCALE)]


def multilingual(value: dict, max_length: int) -> dict:
    """A `{locale: text}` with at least one non-empty text of at most `max_length` characters, stripped."""
    if not value:
        raise ValueError("give the text in at least one locale, e.g. {\"en\": \"...\"}")
    for locale, text in value.items():
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"the {locale!r} text is empty")
        if len(text) > max_length:
            raise ValueError(f"the {locale!r} text is longer than {max_length} characters")
    return {k: v.strip() for k, v in value.items()}


def Multilingual(max_length: int):  # noqa: N802  (a type, used as one)
    """The field type of a multilingual text: `title: Multilingual(300)`."""
    return Annotated[dict[str, str], AfterValidator(lambda v: multilingual(v, max_length))]


def locale_issues(texts: dict | None, city_locales: list[str], field: str) -> list[dict]:
    """`[{field, issue}]` for every key of a multilingual text that is not one of the city's locales
    (a city without locales accepts any)."""
    if not texts or not city_locales:
        return []
    allowed = ", ".join(city_locales)
    return [{"field": f"{field}.{locale}", "issue": f"not a locale of this city ({allowed})"}
            for locale in texts if locale not in city_locales]


def check_locales(city_locales: list[str], **texts) -> None:
    """Raise ValidationFailed naming every key of the given texts that is not a locale of the city."""
    issues = [issue for field, value in texts.items() for issue in locale_issues(value, city_locales, field)]
    if issues:
        raise ValidationFailed("The request is not valid.", issues)
