"""Tokens and passwords. A token names one user in one city; the gateway refuses it anywhere else."""
from __future__ import annotations

import time
import uuid

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel

from services.common.errors import Forbidden, Unauthorized

ROLES = ("citizen", "moderator", "admin")
_RANK = {role: i for i, role in enumerate(ROLES)}
ALGORITHM = "HS256"
# OWASP's argon2id baseline (19 MiB, 2 passes): strong, and quick enough for bulk sign-ups.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


class Principal(BaseModel):
    """Who is calling: passed by the gateway to services with each call."""

    user_id: uuid.UUID
    city_id: uuid.UUID
    role: str = "citizen"

    def at_least(self, role: str) -> bool:
        return _RANK.get(self.role, -1) >= _RANK[role]

    def require(self, role: str) -> "Principal":
        if not self.at_least(role):
            raise Forbidden(f"This needs the {role} role.")
        return self

    def require_city(self, city_id) -> "Principal":
        if str(self.city_id) != str(city_id):
            raise Forbidden("The token is not valid for this city.")
        return self


def principal_of(data) -> Principal | None:
    if data is None:
        return None
    return data if isinstance(data, Principal) else Principal.model_validate(data)


def issue_token(*, user_id, city_id, city_slug: str, role: str, secret: str, ttl: int) -> str:
    now = int(time.time())
    claims = {
        "sub": str(user_id),
        "city": str(city_id),
        "city_slug": city_slug,
        "role": role,
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(token: str, secret: str) -> dict:
    """The token's claims; Unauthorized when it is forged, expired or malformed."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "city", "exp"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The token has expired.") from None
    except jwt.PyJWTError:
        raise Unauthorized("The token is not valid.") from None
    if claims.get("role") not in ROLES or not (_is_uuid(claims["sub"]) and _is_uuid(claims["city"])):
        raise Unauthorized("The token is not valid.")
    return claims


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


_verified: dict[tuple[str, str], dict] = {}
VERIFIED_CACHE_SIZE = 50_000


def verify_token_cached(token: str, secret: str) -> dict:
    """`verify_token`, remembering tokens already verified (a client sends the same token with every
    request): a remembered token is only checked for expiry again, as `verify_token` would."""
    key = (secret, token)
    claims = _verified.get(key)
    if claims is None:
        claims = verify_token(token, secret)
        if len(_verified) >= VERIFIED_CACHE_SIZE:
            _verified.clear()
        _verified[key] = claims
    elif claims["exp"] <= time.time():  # PyJWT's test (no leeway)
        _verified.pop(key, None)
        raise Unauthorized("The token has expired.")
    return claims


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
