"""The workspace's home and projects: the city's projects with their participation at a glance, a
project's own page, and creating or editing a project in the city's languages side by side."""
from __future__ import annotations

from datetime import date, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.gateway import ApiError, api
from web.pages import flash, redirect, render, url
from web.routes.admin.common import form_locales, gather, guarded, multilingual, optional, sections, staff
from web.i18n import gettext as _

METHODS = ("ideation", "poll", "budgeting")
STATUSES = ("draft", "active", "closed")


@guarded
async def overview(request: Request) -> Response:
    city, me = await staff(request, "moderator")
    c = api(request)
    today = date.today()
    projects, dashboard = await gather(
        c.get(f"/cities/{city['slug']}/projects", params={"limit": 100}),
        optional(c.get(f"/cities/{city['slug']}/dashboard",
                       params={"from": (today - timedelta(days=29)).isoformat(), "to": today.isoformat()}))
        if me.get("role") == "admin" else _none())
    return render(request, "admin/overview.html", {
        "sections": sections(request), "projects": projects.get("items", []), "dashboard": dashboard,
        "is_admin": me.get("role") == "admin"})


async def _none():
    return None


@guarded
async def project_page(request: Request) -> Response:
    city, me = await staff(request, "moderator")
    pid = request.path_params["project"]
    c = api(request)
    today = date.today()
    is_admin = me.get("role") == "admin"
    project, dashboard = await gather(
        c.get(f"/cities/{city['slug']}/projects/{pid}"),
        optional(c.get(f"/cities/{city['slug']}/dashboard", params={
            "project_id": pid, "from": (today - timedelta(days=365)).isoformat(), "to": today.isoformat()}))
        if is_admin else _none())
    return render(request, "admin/project.html", {"sections": sections(request), "project": project, "pid": pid,
                                                  "dashboard": dashboard, "is_admin": is_admin})


def _form_values(form, locales: list[str]) -> dict:
    topics = [t.strip().lower() for t in (form.get("topics") or "").replace("\n", ",").split(",") if t.strip()]
    body = {
        "title": multilingual(form, "title", locales),
        "description": multilingual(form, "description", locales),
        "method": form.get("method") or "ideation",
        "status": form.get("status") or "active",
        "topics": topics,
        "allow_down_votes": form.get("allow_down_votes") == "on",
    }
    return body


def _project_form(request: Request, city: dict, project: dict | None, errors: dict | None = None,
                  message: str | None = None, status: int = 200) -> Response:
    return render(request, "admin/project_form.html", {
        "sections": sections(request), "project": project or {}, "form_locales": form_locales(city),
        "methods": METHODS, "statuses": STATUSES, "errors": errors or {}, "message": message,
        "editing": bool(project and project.get("id"))}, status=status)


@guarded
async def new_project(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    if request.method == "GET":
        return _project_form(request, city, {"method": "ideation", "status": "active", "allow_down_votes": True})
    form = await request.form()
    body = _form_values(form, form_locales(city))
    try:
        created = await api(request).post(f"/cities/{city['slug']}/projects", json=body)
    except ApiError as exc:
        if exc.status in (409, 422):
            return _project_form(request, city, body, exc.field_errors(), exc.message, status=exc.status)
        raise
    flash(request, _("The project is created."), "success")
    return redirect(url(request, "admin-project", city=city["slug"], project=created["id"]), request)


@guarded
async def edit_project(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    pid = request.path_params["project"]
    c = api(request)
    if request.method == "GET":
        project = await c.get(f"/cities/{city['slug']}/projects/{pid}")
        return _project_form(request, city, project)
    form = await request.form()
    body = _form_values(form, form_locales(city))
    if not body["description"]:
        body.pop("description")
    try:
        await c.patch(f"/cities/{city['slug']}/projects/{pid}", json=body)
    except ApiError as exc:
        if exc.status in (409, 422):
            return _project_form(request, city, {**body, "id": pid}, exc.field_errors(), exc.message, status=exc.status)
        raise
    flash(request, _("The project is saved."), "success")
    return redirect(url(request, "admin-project", city=city["slug"], project=pid), request)


routes = [
    Route("/{city}/admin", overview, name="admin"),
    Route("/{city}/admin/projects/new", new_project, methods=["GET", "POST"], name="admin-project-new"),
    Route("/{city}/admin/projects/{project}", project_page, name="admin-project"),
    Route("/{city}/admin/projects/{project}/edit", edit_project, methods=["GET", "POST"], name="admin-project-edit"),
]
