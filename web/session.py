"""The citizen's session: a signed (itsdangerous), httpOnly, SameSite=Lax cookie.

It carries the access token and the citizen's basics for one city, the CSRF token and the chosen
language. JavaScript never sees it (httpOnly); it is Secure over TLS or with WEB_SECURE_COOKIES=1.
"""
from __future__ import annotations

import time

from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

COOKIE = "agora_session"
MAX_AGE = 14 * 24 * 3600


class Sessions:
    """Starlette's signed-cookie sessions, with the Secure flag when the request came over TLS."""

    def __init__(self, app: ASGIApp, secret_key: str, always_secure: bool = False):
        options = dict(secret_key=secret_key, session_cookie=COOKIE, max_age=MAX_AGE, same_site="lax")
        self.secure = SessionMiddleware(app, https_only=True, **options)
        self.plain = self.secure if always_secure else SessionMiddleware(app, https_only=False, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        tls = scope.get("scheme") in ("https", "wss")
        await (self.secure if tls else self.plain)(scope, receive, send)


def _city_of(request: Request) -> str | None:
    return request.path_params.get("city")


def current_user(request: Request, city: str | None = None) -> dict | None:
    """{id, display_name, role} of the citizen signed in on this city, else None."""
    auth = request.session.get("auth")
    city = city or _city_of(request)
    if not auth or auth.get("city") != city:
        return None
    if auth.get("expires_at", 0) <= time.time():
        request.session.pop("auth", None)
        return None
    return auth["user"]


def access_token(request: Request, city: str | None = None) -> str | None:
    if current_user(request, city) is None:
        return None
    return request.session["auth"]["token"]


def sign_in(request: Request, city: str, token: str, expires_in: int, user: dict) -> None:
    request.session["auth"] = {
        "city": city,
        "token": token,
        "expires_at": int(time.time()) + int(expires_in or 3600) - 30,
        "user": {"id": user.get("id") or user.get("user_id"), "display_name": user.get("display_name"),
                 "role": user.get("role") or "citizen"},
    }
    # a new identity gets a new CSRF token, so a token seen before signing in is worth nothing after
    request.session.pop("csrf", None)


def sign_out(request: Request) -> None:
    request.session.pop("auth", None)
    request.session.pop("pending", None)
    request.session.pop("csrf", None)


def remember_pending(request: Request, action: dict) -> None:
    """An action an anonymous citizen asked for (a vote), carried out right after they sign in."""
    request.session["pending"] = action


def take_pending(request: Request) -> dict | None:
    return request.session.pop("pending", None)
