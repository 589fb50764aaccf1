"""What every page of the officials' workspace shares: the role check, the sub-navigation, downloads.

Every page starts with `city, me = await staff(request, "moderator" | "admin")`. The role is read fresh
from the API (`GET /users/me`), so a promotion or demotion takes effect on the next page; someone
without the role gets the 403 page before any data is fetched, and the API refuses its admin routes to
them anyway.
"""
from __future__ import annotations

import asyncio

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from urllib.parse import quote

from web import i18n
from web.charts import Chart
from web.gateway import ApiError, api
from web.i18n import lazy_gettext as _l
from web.pages import load_city, redirect
from web.session import current_user

RANK = {"citizen": 0, "moderator": 1, "admin": 2}

# The workspace's own navigation: (route name, label, role needed).
SECTIONS = [
    ("admin", _l("Projects"), "moderator"),
    ("admin-moderation", _l("Moderation"), "moderator"),
    ("admin-gamification", _l("Points and badges"), "admin"),
    ("admin-integrations", _l("Integrations"), "admin"),
    ("admin-users", _l("Users"), "admin"),
]


class NotSignedIn(Exception):
    def __init__(self, response: Response):
        self.response = response


async def staff(request: Request, need: str = "moderator") -> tuple[dict, dict]:
    """(city, my fresh profile) when the signed-in user has at least the role ``need``; else the 403 page
    (or the log-in page for someone not signed in)."""
    city = await load_city(request)
    if current_user(request) is None:
        raise HTTPException(401)
    me = await api(request).get(f"/cities/{city['slug']}/users/me")
    role = me.get("role") or "citizen"
    auth = request.session.get("auth") or {}
    if auth.get("user") and auth["user"].get("role") != role:  # keep the navigation in step with the API
        auth["user"]["role"] = role
        request.session["auth"] = auth
    if RANK.get(role, 0) < RANK[need]:
        raise HTTPException(403)
    request.state.role = role
    return city, me


def login_redirect(request: Request) -> Response:
    city = request.path_params.get("city")
    target = request.url.path + (("?" + request.url.query) if request.url.query else "")
    return redirect(f"/{city}/login?next={quote(target)}", request)


def guarded(handler):
    """Send someone who is not signed in to the log-in page and back."""
    async def wrapper(request: Request) -> Response:
        try:
            return await handler(request)
        except HTTPException as exc:
            if exc.status_code == 401:
                return login_redirect(request)
            raise
    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    return wrapper


def sections(request: Request) -> list[dict]:
    role = getattr(request.state, "role", "citizen")
    city = request.path_params["city"]
    out = []
    for name, label, need in SECTIONS:
        if RANK.get(role, 0) < RANK[need]:
            continue
        path = str(request.app.url_path_for(name, city=city))
        current = request.url.path == path or (name != "admin" and request.url.path.startswith(path))
        out.append({"url": path, "label": str(label), "current": current})
    return out


def tr():
    return i18n.translations()


async def gather(*calls):
    """Several API calls at once; the first error is raised after all have finished."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results


async def optional(call, default=None):
    """An API call whose failure (409 not configured yet, 404) leaves a gap rather than an error page."""
    try:
        return await call
    except ApiError as exc:
        if exc.status in (404, 409):
            return default
        raise


def download(chart: Chart, fmt: str) -> Response:
    if fmt == "svg":
        body, media = chart.svg_document(), "image/svg+xml"
    elif fmt == "png":
        body, media = chart.png(), "image/png"
    elif fmt == "csv":
        body, media = ("\ufeff" + chart.csv()).encode(), "text/csv; charset=utf-8"
    else:
        raise HTTPException(404)
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{chart.name}.{fmt}"'})


def form_locales(city: dict) -> list[str]:
    return [loc for loc in city.get("locales") or [] if loc] or [i18n.DEFAULT_LOCALE]


def multilingual(form, prefix: str, locales: list[str]) -> dict:
    """`{locale: text}` from the fields `<prefix>_<locale>`, leaving out the empty ones."""
    out = {}
    for loc in locales:
        value = (form.get(f"{prefix}_{loc}") or "").strip()
        if value:
            out[loc] = value
    return out
