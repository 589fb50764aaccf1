"""What callers and events see of a row: projects, ideas and comments as JSON-ready dicts."""
from __future__ import annotations


def _iso(value):
    return value.isoformat() if value is not None else None


def project(row) -> dict:
    return {
        "id": str(row.id),
        "title": dict(row.title),
        "description": dict(row.description or {}),
        "method": row.method,
        "status": row.status,
        "topics": list(row.topics),
        "allow_down_votes": row.allow_down_votes,
        "flag_threshold": row.flag_threshold,
        "created_by": str(row.created_by) if row.created_by else None,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
    }


def project_event(row) -> dict:
    return {
        "project_id": row.id, "title": dict(row.title), "method": row.method, "status": row.status,
        "topics": list(row.topics), "allow_down_votes": row.allow_down_votes, "created_by": row.created_by,
    }


def _location(row):
    return {"lat": row.lat, "lng": row.lng} if row.lat is not None else None


def author(row) -> dict:
    return {"id": str(row.author_id), "display_name": getattr(row, "author_name", None)}


def idea(row, is_moderator: bool = False) -> dict:
    out = {
        "id": str(row.id),
        "project_id": str(row.project_id),
        "title": row.title,
        "body": row.body,
        "topics": list(row.topics),
        "locale": row.locale,
        "location": _location(row),
        "status": row.status,
        "feedback": row.feedback,
        "status_changed_at": _iso(row.status_changed_at),
        "author": author(row),
        "up_votes": row.up_votes,
        "down_votes": row.down_votes,
        "comments_count": getattr(row, "comments_count", 0) or 0,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
        "hidden": row.hidden_at is not None,
    }
    if is_moderator:
        out["flags"] = getattr(row, "open_flags", 0) or 0
    return out


def idea_event(row) -> dict:
    return {
        "idea_id": row.id, "project_id": row.project_id, "author_id": row.author_id, "title": row.title,
        "body": row.body, "topics": list(row.topics), "locale": row.locale, "location": _location(row),
        "status": row.status, "created_at": row.created_at,
    }


def comment(row, is_moderator: bool = False) -> dict:
    deleted = row.deleted_at is not None
    out = {
        "id": str(row.id),
        "idea_id": str(row.idea_id),
        "parent_id": str(row.parent_id) if row.parent_id else None,
        "body": None if deleted else row.body,
        "author": None if deleted else author(row),
        "up_votes": row.up_votes,
        "down_votes": row.down_votes,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
        "deleted": deleted,
        "hidden": row.hidden_at is not None,
    }
    if is_moderator:
        out["flags"] = getattr(row, "open_flags", 0) or 0
    return out
