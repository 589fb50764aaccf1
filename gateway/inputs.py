"""What the gateway refuses before any service sees it: input no route could mean.

PostgreSQL text cannot hold a NUL character, and JSON nested deeper than any body of the API
makes recursive code (the JSON decoder, validators) fail: both are refused here, once, for every
route, with a 400 or 422 in the JSON envelope.
"""
from __future__ import annotations

import json

from services.common.errors import BadRequest, ValidationFailed

MAX_DEPTH = 32  # the deepest body of the API (a poll's answers, a budget's rules) is 4 levels deep


def has_control(text: str) -> bool:
    return any(ord(c) < 0x20 or ord(c) == 0x7F for c in text)


def check_path(path: str) -> None:
    if has_control(path):
        raise BadRequest("The path contains control characters.")


def check_query(args) -> None:
    for name, value in args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            raise ValidationFailed("The request is not valid.",
                                   [{"field": name.replace("\x00", "") or "query", "issue": "contains a NUL character"}])


def check_text(text: str) -> None:
    if "\x00" in text:
        raise BadRequest("The body contains a NUL character.")


def load_json(data: bytes):
    """The body's JSON, refused when it is not JSON, too deeply nested or holds a NUL character."""
    try:
        payload = json.loads(data or b"null")
    except RecursionError:
        raise BadRequest(f"The body is nested more than {MAX_DEPTH} levels deep.") from None
    except ValueError:
        raise BadRequest("The body is not valid JSON.") from None
    _check_tree(payload)
    return payload


def _check_tree(payload) -> None:
    """Walks the decoded body without recursion: depth, and NUL characters in keys and strings."""
    stack = [(payload, "", 0)]
    while stack:
        node, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadRequest(f"The body is nested more than {MAX_DEPTH} levels deep.")
        if isinstance(node, str):
            if "\x00" in node:
                raise ValidationFailed("The request is not valid.", [{"field": where or "body", "issue": "contains a NUL character"}])
        elif isinstance(node, dict):
            for key, value in node.items():
                if "\x00" in key:
                    raise ValidationFailed("The request is not valid.",
                                           [{"field": where or "body", "issue": "a key contains a NUL character"}])
                stack.append((value, f"{where}.{key}".lstrip("."), depth + 1))
        elif isinstance(node, list):
            stack.extend((value, f"{where}.{i}".lstrip("."), depth + 1) for i, value in enumerate(node))
