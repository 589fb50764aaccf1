"""The list of cities, a city's home page, its theme and the language switch."""
from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from web.gateway import api, gateway
from web.pages import load_city, primary_colour, redirect, render, safe_next, url
from web.settings import get_settings

LEADERS = 5


async def cities(request: Request) -> Response:
    settings = get_settings()
    if settings.default_city:
        return RedirectResponse(f"/{settings.default_city}/", status_code=302)
    found = await asyncio.gather(*(gateway(request).city(slug) for slug in settings.cities), return_exceptions=True)
    return render(request, "home/cities.html", {"cities": [c for c in found if isinstance(c, dict)]})


async def city_home(request: Request) -> Response:
    city = await load_city(request)
    slug = city["slug"]
    client = api(request)
    projects, leaders = await asyncio.gather(
        client.get(f"/cities/{slug}/projects", params={"status": "active", "limit": 100}),
        client.get(f"/cities/{slug}/leaderboard", params={"period": "all", "limit": LEADERS}),
    )
    return render(request, "home/city.html", {"projects": projects["items"], "leaders": leaders["items"]})


async def theme(request: Request) -> Response:
    """The city's branding as CSS custom properties: one change re-colours the whole site."""
    city = await gateway(request).city(request.path_params["city"])
    branding = city.get("branding") or {}
    css = f":root {{ --primary: {primary_colour(city)}; }}\n"
    if branding.get("logo_url"):
        css += ":root { --has-logo: 1; }\n"
    return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=60"})


async def language(request: Request) -> Response:
    """Remember the chosen language (a link, so it works without JavaScript) and go back."""
    city = await load_city(request)
    chosen = request.path_params["locale"]
    if chosen in (city.get("locales") or []):
        request.session["locale"] = chosen
    return redirect(safe_next(request, request.query_params.get("next"), url(request, "home", city=city["slug"])))


async def healthz(request: Request) -> Response:
    return Response("ok", media_type="text/plain")


async def city_root(request: Request) -> Response:
    return RedirectResponse(f"/{request.path_params['city']}/", status_code=308)


routes = [
    Route("/", cities, name="cities"),
    Route("/healthz", healthz),
    Route("/{city}/", city_home, name="home"),
    Route("/{city}", city_root),
    Route("/{city}/theme.css", theme, name="theme"),
    Route("/{city}/language/{locale}", language, name="language"),
]
