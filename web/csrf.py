"""CSRF protection: one random token per session, required on every unsafe request.

Forms carry it as the hidden field `csrf_token` (`{{ csrf_field() }}` in a template); htmx sends it as
the `X-CSRF-Token` header (base.html sets it with hx-headers on <body>). The middleware refuses any
POST/PUT/PATCH/DELETE without the right token with a 403 page, before a route runs.
"""
from __future__ import annotations

import hmac
import secrets

from markupsafe import Markup
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
MAX_BODY = 64 * 1024 * 1024


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_field(request: Request) -> Markup:
    return Markup('<input type="hidden" name="%s" value="%s">') % (FIELD, csrf_token(request))


class CSRFMiddleware:
    """Sits inside the session middleware; `on_refused(request)` renders the 403 answer."""

    def __init__(self, app: ASGIApp, on_refused):
        self.app = app
        self.on_refused = on_refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_BODY:
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        request = Request(scope, replay)
        expected = request.session.get("csrf")
        sent = request.headers.get(HEADER)
        if not sent and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            sent = form.get(FIELD)
            await form.close()
        if not expected or not isinstance(sent, str) or not hmac.compare_digest(expected, sent):
            response = await self.on_refused(request)
            await response(scope, receive, send)
            return
        replayed = False
        await self.app(scope, replay, send)
