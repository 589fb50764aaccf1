"""Arguments and events of the accounts service."""
from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from services.common.events import event_type
from services.common.texts import LOCALE

Gender = Literal["female", "male", "other"]
Role = Literal["citizen", "moderator", "admin"]
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _birth_year(value):
    if value is not None and not (1900 <= value <= date.today().year):
        raise ValueError(f"must be between 1900 and {date.today().year}")
    return value


class NewUser(Strict):
    email: EmailStr = Field(max_length=254)
    password: str = Field(min_length=8, max_length=256)
    display_name: str = Field(min_length=1, max_length=80)
    birth_year: int | None = None
    gender: Gender | None = None
    district: str | None = Field(default=None, max_length=120)
    locale: str | None = Field(default=None, pattern=LOCALE)

    _by = field_validator("birth_year")(classmethod(lambda cls, v: _birth_year(v)))


class ProfilePatch(Strict):
    display_name: str | None = Field(default=None, min_length=1, max_length=80)
    birth_year: int | None = None
    gender: Gender | None = None
    district: str | None = Field(default=None, max_length=120)
    locale: str | None = Field(default=None, pattern=LOCALE)
    password: str | None = Field(default=None, min_length=8, max_length=256)

    _by = field_validator("birth_year")(classmethod(lambda cls, v: _birth_year(v)))


class NewCity(Strict):
    slug: str = Field(min_length=1, max_length=63)
    name: str = Field(min_length=1, max_length=200)
    locales: list[str] = Field(min_length=1, max_length=20)
    admin: NewUser

    @field_validator("slug")
    @classmethod
    def _slug(cls, v):
        if not SLUG.match(v):
            raise ValueError("lowercase letters, digits and dashes, not starting or ending with a dash")
        return v

    @field_validator("locales")
    @classmethod
    def _locales(cls, v):
        for loc in v:
            if not re.match(LOCALE, loc):
                raise ValueError(f"{loc!r} is not a locale such as 'en' or 'nl'")
        if len(set(v)) != len(v):
            raise ValueError("locales repeat")
        return v


class Credentials(Strict):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=256)


class RoleChange(Strict):
    role: Role


class UserQuery(BaseModel):
    """`?role=&q=&limit=&cursor=` of a city's users (admin)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    role: Role | None = Field(None, description="only users with this role")
    q: str | None = Field(None, max_length=200, description="part of the display name or e-mail")
    limit: int = Field(20, ge=1, le=100, description="page size, 1-100")
    cursor: str | None = Field(None, max_length=512, description="next_cursor of the previous page")


class Profile(BaseModel):
    """What other services may know of a user: demographics, never e-mail or password."""

    user_id: uuid.UUID
    city_id: uuid.UUID
    display_name: str
    birth_year: int | None = None
    gender: Gender | None = None
    district: str | None = None
    locale: str | None = None
    role: Role = "citizen"


_CITY = "6f1c1f1e-7d7a-4f61-9c1e-2b8f1f7f0a01"
_USER = "0b5d2c44-3c4f-4d55-8f0e-6a1b2c3d4e5f"


@event_type(
    "accounts.city_created",
    example={"city_id": _CITY, "slug": "gent", "name": "Gent", "locales": ["nl", "en"]},
)
class CityCreated(BaseModel):
    """A city (tenant) was created by the platform operator."""

    city_id: uuid.UUID
    slug: str
    name: str
    locales: list[str]


_PROFILE = {
    "user_id": _USER, "city_id": _CITY, "display_name": "An", "birth_year": 1990,
    "gender": "female", "district": "Centrum", "locale": "nl", "role": "citizen",
}


@event_type("accounts.user_registered", example=_PROFILE)
class UserRegistered(Profile):
    """A user signed up (or was created as a city's first admin). Demographics, no e-mail."""


@event_type("accounts.user_updated", example=_PROFILE)
class UserUpdated(Profile):
    """A user changed their profile or demographics; the full new profile."""


@event_type("accounts.role_changed", example={"user_id": _USER, "city_id": _CITY, "role": "moderator"})
class RoleChanged(BaseModel):
    """A city admin changed a user's role."""

    user_id: uuid.UUID
    city_id: uuid.UUID
    role: Role
