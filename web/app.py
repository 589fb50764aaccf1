"""The web site's composition: areas' routes, static files, sessions, CSRF, security headers, errors.

Each area is a module `web/routes/<area>.py` (or a package) exposing `routes`; add one to AREAS.
"""
from __future__ import annotations

import contextlib
import itertools
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web import errors, i18n
from web.csrf import CSRFMiddleware
from web.gateway import ApiError, Gateway
from web.routes import devmail
from web.routes import admin, auth, budget, home, ideas, leaderboard, map as ideas_map, me, polls, projects
from web.session import Sessions
from web.settings import WEB_ROOT, get_settings

# The areas, in matching order (specific paths before a city's catch-all pages).
AREAS = [auth, ideas, projects, polls, budget, me, leaderboard, ideas_map, admin, home]

# Front-end libraries from web/node_modules (npm ci), served as /vendor/<name>/...
VENDOR = {
    "htmx": "htmx.org/dist",
    "leaflet": "leaflet/dist",
}


class SecurityHeaders:
    """A Content-Security-Policy without inline scripts, and the usual hardening headers."""

    def __init__(self, app: ASGIApp, tile_url: str = ""):
        self.app = app
        img = ["'self'", "data:"]
        if tile_url:
            parts = urlsplit(tile_url)  # {s}.tile.example.org -> *.tile.example.org
            img.append(f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}")
        self.csp = "; ".join([
            "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src " + " ".join(img),
            "connect-src 'self'", "font-src 'self'", "object-src 'none'", "base-uri 'self'",
            "form-action 'self'", "frame-ancestors 'none'",
        ])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                headers += [
                    (b"content-security-policy", self.csp.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                    (b"permissions-policy", b"geolocation=(self), camera=(), microphone=()"),
                ]
                if not any(k == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                headers.append((b"vary", b"Cookie, HX-Request"))
            await send(message)

        await self.app(scope, receive, with_headers)


class StaticCache(StaticFiles):
    """Static files, cached by browsers for an hour."""

    async def get_response(self, path, scope):
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=3600"
        return response


def create_app() -> Starlette:
    settings = get_settings()
    i18n.load()

    @contextlib.asynccontextmanager
    async def lifespan(app):
        app.state.gateway = Gateway(settings)
        yield
        await app.state.gateway.aclose()

    static = [Mount("/static", app=StaticCache(directory=str(WEB_ROOT / "static")), name="static")]
    for name, folder in VENDOR.items():
        path = settings.node_modules / folder
        static.append(Mount(f"/vendor/{name}", app=StaticCache(directory=str(path), check_dir=False), name=f"vendor-{name}"))
    routes = static + list(itertools.chain.from_iterable(area.routes for area in AREAS))
    routes = (devmail.routes if devmail.enabled() else []) + routes  # development only: the caught e-mail
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(SecurityHeaders, tile_url=settings.tile_url),
            Middleware(Sessions, secret_key=settings.secret_key, always_secure=settings.secure_cookies),
            Middleware(CSRFMiddleware, on_refused=errors.csrf_refused),
        ],
        exception_handlers={ApiError: errors.api_error, HTTPException: errors.http_error,
                            Exception: errors.server_error},
    )
    return app


app = create_app()
