"""The city's settings for officials: points and badge rules with the most engaged citizens of a period,
integrations (webhooks with their deliveries, exports) and the users with their roles."""
from __future__ import annotations

from datetime import date, timedelta

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.gateway import ApiError, api
from web.i18n import gettext as _
from web.pages import flash, redirect, render, url
from web.routes.admin.common import gather, guarded, sections, staff

ROLES = ("citizen", "moderator", "admin")
EVENTS = ("idea.created", "idea.status_changed", "comment.created", "ideas.*", "budgeting.results_published",
          "budgeting.*", "voting.poll_answered", "*")


# -- gamification ----------------------------------------------------------------------------------
def _period(request: Request) -> dict:
    q = request.query_params
    try:
        to = date.fromisoformat(q["to"]) if q.get("to") else date.today() + timedelta(days=1)
        start = date.fromisoformat(q["from"]) if q.get("from") else to - timedelta(days=30)
    except ValueError:
        raise HTTPException(400)
    return {"from": start.isoformat(), "to": to.isoformat()}


async def _gamification(request: Request, city: dict, errors=None, message=None, status=200) -> Response:
    period = _period(request)
    c = api(request)
    rules, engaged = await gather(c.get(f"/cities/{city['slug']}/gamification/rules"),
                                  c.get(f"/cities/{city['slug']}/gamification/engaged", params={**period, "limit": 50}))
    return render(request, "admin/gamification.html", {
        "sections": sections(request), "rules": rules, "engaged": engaged.get("items", []), "period": period,
        "errors": errors or {}, "message": message,
        "csv_url": url(request, "admin-engaged-csv", city=city["slug"], query=period)}, status=status)


@guarded
async def gamification(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    return await _gamification(request, city)


@guarded
async def save_rules(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    form = await request.form()
    points, errors = {}, {}
    for key, value in form.items():
        if key.startswith("points."):
            try:
                points[key.removeprefix("points.")] = int(value)
            except ValueError:
                errors[key] = _("Give a whole number.")
    body: dict = {"points": points}
    if form.get("daily_cap_per_pair"):
        try:
            body["daily_cap_per_pair"] = int(form["daily_cap_per_pair"])
        except ValueError:
            errors["daily_cap_per_pair"] = _("Give a whole number.")
    if errors:
        return await _gamification(request, city, errors, _("Check the highlighted fields."), 422)
    try:
        await api(request).patch(f"/cities/{city['slug']}/gamification/rules", json=body)
    except ApiError as exc:
        if exc.status == 422:
            return await _gamification(request, city, exc.field_errors(), exc.message, 422)
        raise
    flash(request, _("The rules are saved."), "success")
    return redirect(url(request, "admin-gamification", city=city["slug"]), request)


@guarded
async def engaged_csv(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    period = _period(request)
    response = await api(request).get(f"/cities/{city['slug']}/gamification/engaged",
                                      params={**period, "format": "csv", "limit": 10000}, raw=True)
    return Response(response.content, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="engaged-{city["slug"]}-{period["from"]}-{period["to"]}.csv"'})


# -- integrations ----------------------------------------------------------------------------------
CREATED_SECRET = "webhook_created"


async def _integrations(request: Request, city: dict, created: dict | None = None, errors=None, message=None,
                        status=200) -> Response:
    c = api(request)
    hooks, projects = await gather(c.get(f"/cities/{city['slug']}/webhooks", params={"limit": 100}),
                                   c.get(f"/cities/{city['slug']}/projects", params={"limit": 100}))
    return render(request, "admin/integrations.html", {
        "sections": sections(request), "hooks": hooks.get("items", []), "projects": projects.get("items", []),
        "events": EVENTS, "created": created, "errors": errors or {}, "message": message}, status=status)


@guarded
async def integrations(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    # the secret of a webhook just created, carried once by the session through the redirect
    created = request.session.pop(CREATED_SECRET, None)
    response = await _integrations(request, city, created)
    if created:
        response.headers["Cache-Control"] = "no-store"
    return response


@guarded
async def create_webhook(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    form = await request.form()
    events = form.getlist("events") or ["*"]
    try:
        created = await api(request).post(f"/cities/{city['slug']}/webhooks",
                                          json={"url": (form.get("url") or "").strip(), "events": events})
    except ApiError as exc:
        if exc.status in (409, 422):
            return await _integrations(request, city, None, exc.field_errors(), exc.message, exc.status)
        raise
    # redirected, so that reloading the page shows the list and does not create the webhook again; the
    # signing secret goes to that one page only: the site does not keep it and never shows it again
    request.session[CREATED_SECRET] = {"secret": created.get("secret")}
    return redirect(url(request, "admin-integrations", city=city["slug"]), request)


@guarded
async def webhook_page(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    wid = request.path_params["webhook"]
    c = api(request)
    hook, deliveries = await gather(c.get(f"/cities/{city['slug']}/webhooks/{wid}"),
                                    c.get(f"/cities/{city['slug']}/webhooks/{wid}/deliveries",
                                          params={"limit": 50, "cursor": request.query_params.get("cursor")}))
    return render(request, "admin/webhook.html", {
        "sections": sections(request), "hook": hook, "deliveries": deliveries.get("items", []),
        "next_url": url(request, "admin-webhook", city=city["slug"], webhook=wid,
                        query={"cursor": deliveries["next_cursor"]}) if deliveries.get("next_cursor") else None})


@guarded
async def delete_webhook(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    await api(request).delete(f"/cities/{city['slug']}/webhooks/{request.path_params['webhook']}")
    flash(request, _("The webhook is deleted."), "success")
    return redirect(url(request, "admin-integrations", city=city["slug"]), request)


@guarded
async def export(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    pid, fmt = request.path_params["project"], request.path_params["fmt"]
    if fmt not in ("csv", "xlsx"):
        raise HTTPException(404)
    response = await api(request).get(f"/cities/{city['slug']}/projects/{pid}/export.{fmt}", raw=True)
    media = response.headers.get("content-type", "application/octet-stream")
    return Response(response.content, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="ideas-{pid}.{fmt}"'})


# -- users -----------------------------------------------------------------------------------------
async def _users(request: Request, city: dict, message=None, status=200) -> Response:
    listing, available = None, True
    try:
        listing = await api(request).get(f"/cities/{city['slug']}/users",
                                         params={"limit": 100, "cursor": request.query_params.get("cursor")})
    except ApiError as exc:
        if exc.status not in (404, 405):
            raise
        available = False
    return render(request, "admin/users.html", {
        "sections": sections(request), "users": (listing or {}).get("items", []), "roles": ROLES,
        "available": available, "message": message,
        "next_url": url(request, "admin-users", city=city["slug"], query={"cursor": listing["next_cursor"]})
        if listing and listing.get("next_cursor") else None}, status=status)


@guarded
async def users(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    return await _users(request, city)


@guarded
async def set_role(request: Request) -> Response:
    city, me = await staff(request, "admin")
    form = await request.form()
    user_id = (form.get("user_id") or "").strip()
    role = form.get("role")
    if role not in ROLES or not user_id:
        raise HTTPException(400)
    try:
        await api(request).put(f"/cities/{city['slug']}/users/{user_id}/role", json={"role": role})
    except ApiError as exc:
        if exc.status in (404, 409, 422):
            return await _users(request, city, exc.message, exc.status)
        raise
    flash(request, _("The role is changed; it takes effect at once."), "success")
    return redirect(url(request, "admin-users", city=city["slug"]), request)


routes = [
    Route("/{city}/admin/gamification", gamification, name="admin-gamification"),
    Route("/{city}/admin/gamification/rules", save_rules, methods=["POST"], name="admin-rules"),
    Route("/{city}/admin/gamification/engaged.csv", engaged_csv, name="admin-engaged-csv"),
    Route("/{city}/admin/integrations", integrations, name="admin-integrations"),
    Route("/{city}/admin/integrations/webhooks", create_webhook, methods=["POST"], name="admin-webhook-new"),
    Route("/{city}/admin/integrations/webhooks/{webhook}", webhook_page, name="admin-webhook"),
    Route("/{city}/admin/integrations/webhooks/{webhook}/delete", delete_webhook, methods=["POST"],
          name="admin-webhook-delete"),
    Route("/{city}/admin/projects/{project}/export.{fmt}", export, name="admin-export"),
    Route("/{city}/admin/users", users, name="admin-users"),
    Route("/{city}/admin/users/role", set_role, methods=["POST"], name="admin-role"),
]
