"""Unsubscribe links: a signed token naming one user of one city, good for nothing but turning e-mail off.

The token is a JWT signed with the platform's JWT secret, with the claim `purpose: "unsubscribe"` and no
role, so it can never pass as an access token, and an access token can never unsubscribe anyone.
"""
from __future__ import annotations

import time
from urllib.parse import quote

import jwt

from services.common.errors import ValidationFailed

PURPOSE = "unsubscribe"
ALGORITHM = "HS256"


def issue(user_id, city_id, secret: str, now: float | None = None) -> str:
    claims = {"sub": str(user_id), "city": str(city_id), "purpose": PURPOSE, "iat": int(now or time.time())}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read(token: str, secret: str) -> tuple[str, str]:
    """(user_id, city_id) of a valid unsubscribe token; ValidationFailed otherwise."""
    try:
        claims = jwt.decode(token or "", secret, algorithms=[ALGORITHM], options={"require": ["sub", "city", "purpose"]})
    except jwt.PyJWTError:
        claims = None
    if not claims or claims.get("purpose") != PURPOSE:
        raise ValidationFailed("The unsubscribe link is not valid.", [{"field": "token", "issue": "not a valid unsubscribe token"}])
    return claims["sub"], claims["city"]


def link(public_url: str, city_slug: str | None, token: str) -> str:
    base = public_url.rstrip("/") + "/api/v1"
    path = f"/cities/{quote(city_slug, safe='')}/notifications/unsubscribe" if city_slug else "/notifications/unsubscribe"
    return f"{base}{path}?token={quote(token, safe='')}"
