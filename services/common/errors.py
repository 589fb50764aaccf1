"""Errors a service raises on purpose; the gateway maps each to the HTTP status and code of API.md.

They are registered with nameko so that an RPC caller receives the same exception type, not a
generic RemoteError.
"""
from __future__ import annotations

import json

from nameko.exceptions import deserialize_to_instance


@deserialize_to_instance
class AgoraError(Exception):
    status = 400
    code = "BAD_REQUEST"

    def __init__(self, message: str = "", details: list | str | None = None):
        if isinstance(details, str):  # as it arrives over RPC, see below
            details = json.loads(details)
        self.message = message
        self.details = details or []
        # Nameko turns every non-string inside exception args into a string; JSON keeps numbers numbers.
        super().__init__(message, json.dumps(self.details, default=str))

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


@deserialize_to_instance
class BadRequest(AgoraError):
    status, code = 400, "BAD_REQUEST"


@deserialize_to_instance
class Unauthorized(AgoraError):
    status, code = 401, "UNAUTHORIZED"


@deserialize_to_instance
class Forbidden(AgoraError):
    status, code = 403, "FORBIDDEN"


@deserialize_to_instance
class NotFound(AgoraError):
    status, code = 404, "NOT_FOUND"


@deserialize_to_instance
class Conflict(AgoraError):
    status, code = 409, "CONFLICT"


@deserialize_to_instance
class PayloadTooLarge(AgoraError):
    status, code = 413, "PAYLOAD_TOO_LARGE"


@deserialize_to_instance
class ValidationFailed(AgoraError):
    status, code = 422, "VALIDATION_FAILED"


@deserialize_to_instance
class RateLimited(AgoraError):
    status, code = 429, "RATE_LIMITED"


@deserialize_to_instance
class Unavailable(AgoraError):
    status, code = 503, "SERVICE_UNAVAILABLE"


def field_issues(exc) -> list[dict]:
    """Turn a pydantic ValidationError into API.md's `[{field, issue}]` details."""
    issues = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        issues.append({"field": ".".join(loc) or "body", "issue": err.get("msg", "invalid")})
    return issues


def validate(model, data):
    """Validate `data` against a pydantic model, raising ValidationFailed with field details."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed("The request is not valid.", field_issues(exc)) from None
