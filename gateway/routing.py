"""The gateway's route table: each route names its auth, body and query models, and its handler.

Route modules in gateway/routes/ register with `@route(...)`; one catch-all Nameko HTTP entrypoint
dispatches here. The same table produces /openapi.json, so the document cannot drift from the code.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

from pydantic import BaseModel
from werkzeug.routing import Map, Rule

PUBLIC, USER, MODERATOR, ADMIN, PLATFORM = "public", "user", "moderator", "admin", "platform"


@dataclass
class Route:
    method: str
    path: str  # werkzeug syntax: /cities/<city>/ideas/<idea_id>
    handler: Callable
    auth: str = PUBLIC
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    status: int = 200
    summary: str = ""
    tag: str = ""
    raw_body: str | None = None  # a content type taken as text instead of JSON (e.g. text/plain)
    response: type[BaseModel] | str | None = None  # a model, or the name of one in gateway/responses.py
    produces: str | tuple[str, ...] = "application/json"
    extra: dict = field(default_factory=dict)

    @property
    def response_model(self) -> type[BaseModel] | None:
        if isinstance(self.response, str):
            from gateway import responses

            return getattr(responses, self.response)
        return self.response

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.path}"


ROUTES: list[Route] = []


def route(method: str, path: str, **options):
    def register(fn):
        ROUTES.append(Route(method=method, path=path, handler=fn, **options))
        return fn

    return register


def url_map() -> Map:
    return Map([Rule(r.path, methods=[r.method], endpoint=r.endpoint) for r in ROUTES], strict_slashes=False)


def by_endpoint() -> dict[str, Route]:
    return {r.endpoint: r for r in ROUTES}


class Reply:
    """A handler's answer when it is not a plain 200 JSON body."""

    def __init__(self, body: Any = None, status: int = 200, content_type: str = "application/json",
                 headers: dict | None = None):
        self.body, self.status, self.content_type, self.headers = body, status, content_type, headers or {}

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str) and self.content_type != "application/json":
            return self.body.encode()
        return json.dumps(self.body, default=str, separators=(",", ":")).encode()
