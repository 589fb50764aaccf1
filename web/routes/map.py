"""Ideas with a location on a map: a project's, or every open project's of the city. The map (Leaflet,
js/map.js) is drawn from the list of ideas beside it, which is its text alternative and what a browser
without JavaScript shows. Tiles come from WEB_TILE_URL; without one the pins stand on a plain background."""
from __future__ import annotations

import asyncio
import os

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.gateway import api
from web.pages import load_city, render
from web.settings import get_settings

MAPPED_METHODS = ("ideation", "budgeting")  # the projects whose ideas can carry a location
SCAN_PAGES = 3       # pages of 100 newest ideas read per project: the API has no filter on having a location
MAX_PINS = 500


async def located_ideas(client, slug: str, project: dict) -> list[dict]:
    """The project's newest ideas that have a location (within the pages read)."""
    found, cursor = [], None
    for _ in range(SCAN_PAGES):
        page = await client.get(f"/cities/{slug}/projects/{project['id']}/ideas",
                                params={"sort": "new", "limit": 100, "cursor": cursor})
        found += [{**i, "project": project} for i in page["items"] if i.get("location")]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return found


def _coordinate(value: float, positive: str, negative: str) -> str:
    return f"{abs(value):.4f}° {positive if value >= 0 else negative}"


async def _page(request: Request, city: dict, projects: list[dict], project: dict | None) -> Response:
    client = api(request)
    shown = [project] if project else projects
    found = await asyncio.gather(*(located_ideas(client, city["slug"], p) for p in shown))
    ideas = [i for group in found for i in group][:MAX_PINS]
    for idea in ideas:
        lat, lng = idea["location"]["lat"], idea["location"]["lng"]
        idea["where"] = f"{_coordinate(lat, 'N', 'S')}, {_coordinate(lng, 'E', 'W')}"
    settings = get_settings()
    return render(request, "map/page.html", {
        "ideas": ideas, "project": project, "projects": projects, "tile_url": settings.tile_url,
        "tile_attribution": os.environ.get("WEB_TILE_ATTRIBUTION", ""),
    })


async def city_map(request: Request) -> Response:
    city = await load_city(request)
    listed = await api(request).get(f"/cities/{city['slug']}/projects", params={"status": "active", "limit": 100})
    projects = [p for p in listed["items"] if p.get("method") in MAPPED_METHODS]
    chosen = request.query_params.get("project")
    project = next((p for p in projects if p["id"] == chosen), None)
    return await _page(request, city, projects, project)


async def project_map(request: Request) -> Response:
    city = await load_city(request)
    project = await api(request).get(f"/cities/{city['slug']}/projects/{request.path_params['project']}")
    if project.get("method") not in MAPPED_METHODS:
        raise HTTPException(404)
    return await _page(request, city, [], project)


routes = [
    Route("/{city}/map", city_map, methods=["GET"], name="map"),
    Route("/{city}/projects/{project}/map", project_map, methods=["GET"], name="project_map"),
]
