"""What every page shares: the city it belongs to, the chosen language, the signed-in citizen, and
`render()`, which gives each template that context.

A city route starts with `city = await load_city(request)`; it fetches the city (cached), picks the
language (the session's choice among the city's locales, else the browser's, else the city's first)
and makes `_()` and `|tr` speak it. Then `return render(request, "area/page.html", {...})`.
"""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from urllib.parse import urlencode

from babel.dates import format_date, format_datetime, format_timedelta
from babel.numbers import format_currency, format_decimal
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import NoMatchFound
from starlette.templating import Jinja2Templates

from web import i18n
from web.csrf import csrf_field, csrf_token
from web.gateway import gateway
from web.i18n import lazy_gettext as _l
from web.session import current_user
from web.settings import WEB_ROOT, get_settings

env = Environment(loader=FileSystemLoader(str(WEB_ROOT / "templates")), autoescape=select_autoescape(),
                  extensions=["jinja2.ext.i18n"], auto_reload=not get_settings().production)
templates = Jinja2Templates(env=env)
# Jinja's newstyle gettext formats `%(name)s` itself (escaping the values): give it the raw catalogue.
env.install_gettext_callables(lambda m: i18n.translations().gettext(m),
                              lambda s, p, n: i18n.translations().ngettext(s, p, n), newstyle=True,
                              pgettext=lambda c, m: i18n.translations().pgettext(c, m))
env.policies["ext.i18n.trimmed"] = True

# Labels of the API's enumerations, translated.
LABELS = {
    "method": {"ideation": _l("Ideas"), "poll": _l("Poll"), "budgeting": _l("Participatory budget")},
    "project_status": {"draft": _l("Draft"), "active": _l("Open"), "closed": _l("Closed")},
    "idea_status": {"proposed": _l("Proposed"), "under_review": _l("Under review"), "accepted": _l("Accepted"),
                    "rejected": _l("Rejected"), "implemented": _l("Implemented")},
    "sort": {"new": _l("Newest"), "popular": _l("Most popular"), "trending": _l("Trending"),
             "controversial": _l("Most debated")},
    "flag_reason": {"spam": _l("Spam"), "offensive": _l("Offensive"), "off_topic": _l("Off topic")},
    "period": {"all": _l("All time"), "month": _l("This month"), "week": _l("This week")},
    "role": {"citizen": _l("Citizen"), "moderator": _l("Moderator"), "admin": _l("City administrator")},
}

# The main navigation of a city's site: (route name, label, who sees it: "all" | "user" | "anonymous" |
# "moderator" | "admin"). An entry shows only once its route exists, so an area adds itself by naming
# its route as here.
NAV = [
    ("home", _l("Projects"), "all"),
    ("leaderboard", _l("Leaderboard"), "all"),
    ("map", _l("Map"), "all"),
    ("notifications", _l("Notifications"), "user"),
    ("me", _l("My page"), "user"),
    ("admin", _l("City workspace"), "moderator"),
]

_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
DEFAULT_PRIMARY = "#0b5cad"


async def load_city(request: Request, slug: str | None = None) -> dict:
    """The page's city (404 page when unknown); sets the request's language."""
    slug = slug or request.path_params["city"]
    city = await gateway(request).city(slug)
    offered = [loc for loc in city.get("locales") or [] if loc] or [i18n.DEFAULT_LOCALE]
    locale = i18n.choose_locale(offered, request.session.get("locale"), request.headers.get("accept-language"))
    request.state.city = city
    request.state.locale = locale
    i18n.set_locale(locale)
    return city


def page_locale(request: Request) -> str:
    """The language of a page outside any city (the list of cities, an error before the city is known)."""
    locale = getattr(request.state, "locale", None)
    if locale:
        return locale
    locale = i18n.choose_locale(list(i18n.INTERFACE_LOCALES), request.session.get("locale") if "session" in
                                request.scope else None, request.headers.get("accept-language"))
    request.state.locale = locale
    i18n.set_locale(locale)
    return locale


def url(request: Request, name: str, /, query: dict | None = None, **params) -> str:
    """The path of a named route (relative, so it is right behind any proxy), with an optional query."""
    path = str(request.app.url_path_for(name, **{k: str(v) for k, v in params.items()}))
    query = {k: v for k, v in (query or {}).items() if v not in (None, "", [])}
    return path + ("?" + urlencode(query, doseq=True) if query else "")


def has_route(request: Request, name: str, **params) -> bool:
    try:
        request.app.url_path_for(name, **params)
        return True
    except NoMatchFound:
        return False


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-history-restore-request") != "true"


def safe_next(request: Request, target: str | None, default: str) -> str:
    """A return address inside this site (never another host)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def redirect(target: str, request: Request | None = None, status: int = 303) -> Response:
    """A redirect that htmx follows as a full page load (HX-Redirect) and a browser as a 303."""
    if request is not None and is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=status)


def primary_colour(city: dict | None) -> str:
    branding = (city or {}).get("branding") or {}
    colour = branding.get("primary_color") or branding.get("primary_colour") or ""
    return colour if _COLOUR.match(colour) else DEFAULT_PRIMARY


def nav_items(request: Request) -> list[dict]:
    city = getattr(request.state, "city", None)
    if not city:
        return []
    user = current_user(request, city["slug"])
    role = (user or {}).get("role")
    items = []
    for name, label, who in NAV:
        if who == "user" and not user or who == "anonymous" and user:
            continue
        if who == "moderator" and role not in ("moderator", "admin") or who == "admin" and role != "admin":
            continue
        if not has_route(request, name, city=city["slug"]):
            continue
        path = url(request, name, city=city["slug"])
        current = request.url.path == path or (name != "home" and request.url.path.startswith(path + "/"))
        items.append({"name": name, "label": label, "url": path, "current": current})
    return items


def render(request: Request, template: str, context: dict | None = None, status: int = 200,
           headers: dict | None = None) -> HTMLResponse:
    city = getattr(request.state, "city", None)
    locale = getattr(request.state, "locale", None) or page_locale(request)
    user = current_user(request, city["slug"]) if city else None
    fallbacks = tuple((city or {}).get("locales") or ())
    ctx = {
        "request": request,
        "city": city,
        "user": user,
        "locale": locale,
        "locales": list(fallbacks) or [i18n.DEFAULT_LOCALE],
        "html_lang": locale,
        "csrf_token": lambda: csrf_token(request),
        "csrf_field": lambda: csrf_field(request),
        "url": lambda name, query=None, **params: url(request, name, query=query, **params),
        "has_route": lambda name, **params: has_route(request, name, **params),
        "nav": nav_items(request),
        "htmx": is_htmx(request),
        "here": request.url.path + (("?" + request.url.query) if request.url.query else ""),
        "labels": LABELS,
        "settings": get_settings(),
        "primary_colour": primary_colour(city),
        "language_name": i18n.language_name,
        "fallbacks": fallbacks,
        "flashes": take_flashes(request),
        **(context or {}),
    }
    return templates.TemplateResponse(request, template, ctx, status_code=status, headers=headers)


# -- filters ---------------------------------------------------------------------------------------
@pass_context
def _tr(ctx, value) -> str:
    return i18n.localized(value, ctx.get("locale"), ctx.get("fallbacks") or ())


def _parse_time(value) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


@pass_context
def _date(ctx, value, format: str = "medium") -> str:
    moment = _parse_time(value)
    return format_date(moment, format=format, locale=ctx.get("locale") or "en") if moment else ""


@pass_context
def _datetime(ctx, value, format: str = "medium") -> str:
    moment = _parse_time(value)
    return format_datetime(moment, format=format, locale=ctx.get("locale") or "en") if moment else ""


@pass_context
def _ago(ctx, value) -> str:
    moment = _parse_time(value)
    if not moment:
        return ""
    delta = moment - datetime.now(timezone.utc)
    return format_timedelta(delta, add_direction=True, locale=ctx.get("locale") or "en")


@pass_context
def _number(ctx, value) -> str:
    return format_decimal(value or 0, locale=ctx.get("locale") or "en")


@pass_context
def _money(ctx, value, currency: str = "EUR") -> str:
    return format_currency(value or 0, currency or "EUR", locale=ctx.get("locale") or "en",
                           format_type="standard", currency_digits=False, decimal_quantization=False)


@pass_context
def _label(ctx, value, kind: str) -> str:
    label = LABELS.get(kind, {}).get(value)
    return str(label) if label is not None else (value or "")


def _excerpt(value: str | None, length: int = 180) -> str:
    text = " ".join((value or "").split())
    return text if len(text) <= length else text[: length - 1].rsplit(" ", 1)[0] + "…"


def _isotime(value) -> str:
    moment = _parse_time(value)
    return moment.isoformat() if moment else ""


def _pairs(values) -> list[tuple[str, str]]:
    """Slugs as (value, label) options: `green_spaces` shows as "green spaces"."""
    return [(str(v), str(v).replace("_", " ")) for v in values or ()]


env.filters.update(pairs=_pairs, tr=_tr, date=_date, datetime=_datetime, ago=_ago, number=_number, money=_money, label=_label,
                   excerpt=_excerpt, isotime=_isotime)
_ASSET_VERSIONS: dict[str, str] = {}


def asset(path: str) -> str:
    """/static/<path> with a version that changes with the file, so browsers may cache it."""
    version = _ASSET_VERSIONS.get(path)
    if version is None:
        file = WEB_ROOT / "static" / path
        version = _ASSET_VERSIONS[path] = hashlib.sha1(file.read_bytes()).hexdigest()[:10] if file.exists() else "0"
    return f"/static/{path}?v={version}"


env.globals.update(Markup=Markup, asset=asset)


# -- one-off messages shown on the next page ------------------------------------------------------
def flash(request: Request, message: str, kind: str = "info") -> None:
    """A message for the next page rendered (after a redirect): kind is info, success or error."""
    request.session.setdefault("flash", [])
    request.session["flash"] = [*request.session["flash"], {"text": str(message), "kind": kind}]


def take_flashes(request: Request) -> list[dict]:
    if "session" not in request.scope:
        return []
    return request.session.pop("flash", None) or []
