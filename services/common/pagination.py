"""Cursor pagination: opaque cursors that stay stable while new rows arrive.

A cursor encodes the sort key of the last row returned (e.g. `[created_at, id]` or `[score, id]`);
the next page continues strictly after it (keyset pagination), so inserts never shift pages.
"""
from __future__ import annotations

import base64
import json

from services.common.errors import ValidationFailed

DEFAULT_LIMIT, MAX_LIMIT = 20, 100


def encode(key: list) -> str:
    raw = json.dumps(key, default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None) -> list | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed("The cursor is not valid.", [{"field": "cursor", "issue": "not a cursor of this list"}])
    if not isinstance(key, list):
        raise ValidationFailed("The cursor is not valid.", [{"field": "cursor", "issue": "not a cursor of this list"}])
    return key


def limit_of(value) -> int:
    try:
        limit = int(value if value is not None else DEFAULT_LIMIT)
    except (TypeError, ValueError):
        limit = -1
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed("The limit is not valid.", [{"field": "limit", "issue": f"between 1 and {MAX_LIMIT}"}])
    return limit


def page(rows: list, limit: int, key_of) -> dict:
    """Build `{items, next_cursor}` from up to limit+1 fetched rows (the extra row says there is more)."""
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": encode(key_of(rows[-1])) if more and rows else None}
