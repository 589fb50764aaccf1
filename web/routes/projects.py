"""A project's page: its description and its ideas as cards, with sort, topic and status filters,
full-text search and paging; htmx swaps the list in place when a filter changes."""
from __future__ import annotations


from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.gateway import api
from web.pages import LABELS, is_htmx, load_city, render, url
from web.votes import own_votes

PAGE_SIZE = 12
SORTS = tuple(LABELS["sort"])
STATUSES = tuple(LABELS["idea_status"])


def idea_filters(request: Request, project: dict) -> dict:
    """The list's query from the address, keeping only values the API accepts."""
    q = request.query_params
    sort = q.get("sort") if q.get("sort") in SORTS else "new"
    topic = q.get("topic") if q.get("topic") in (project.get("topics") or []) else ""
    status = q.get("status") if q.get("status") in STATUSES else ""
    text = " ".join(q.get("q", "").split())[:200]
    return {"sort": sort, "topic": topic, "status": status, "q": text}


async def project_page(request: Request) -> Response:
    city = await load_city(request)
    slug, project_id = city["slug"], request.path_params["project"]
    client = api(request)
    project = await client.get(f"/cities/{slug}/projects/{project_id}")
    filters = idea_filters(request, project)
    cursor = request.query_params.get("cursor") or None
    ideas = {"items": [], "next_cursor": None}
    if project["method"] in ("ideation", "budgeting"):
        ideas = await client.get(f"/cities/{slug}/projects/{project_id}/ideas",
                                 params={**filters, "limit": PAGE_SIZE, "cursor": cursor})
    votes = await own_votes(client, slug, "idea", [i["id"] for i in ideas["items"]])
    base = url(request, "project", city=slug, project=project_id)
    context = {
        "project": project,
        "ideas": ideas["items"],
        "votes": votes,
        "filters": filters,
        "filtered": any(filters[k] for k in ("topic", "status", "q")),
        "next_url": url(request, "project", city=slug, project=project_id,
                        query={**filters, "cursor": ideas.get("next_cursor")}) if ideas.get("next_cursor") else None,
        "first_url": url(request, "project", city=slug, project=project_id, query=filters) if cursor else None,
        "base_url": base,
        "sorts": [(s, LABELS["sort"][s]) for s in SORTS],
        "statuses": [(s, LABELS["idea_status"][s]) for s in STATUSES],
        "takes_ideas": project["method"] in ("ideation", "budgeting") and project["status"] == "active",
    }
    if is_htmx(request) and request.headers.get("hx-target") == "ideas":
        return render(request, "project/_ideas.html", context)
    return render(request, "project/page.html", context)


routes = [
    Route("/{city}/projects/{project}", project_page, name="project"),
]

