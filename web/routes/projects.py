"""A project's page: its description and its ideas (sort, filters, search, paging, votes)."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.gateway import api
from web.pages import load_city, render


async def project_page(request: Request) -> Response:
    city = await load_city(request)
    project = await api(request).get(f"/cities/{city['slug']}/projects/{request.path_params['project']}")
    return render(request, "project/page.html", {"project": project})


routes = [
    Route("/{city}/projects/{project}", project_page, name="project"),
]
