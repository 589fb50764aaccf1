"""The input manager: a project's ideas in a table with filters, bulk status changes, an idea's status
workflow with the city's feedback in each of its languages, and the moderation queue."""
from __future__ import annotations

import asyncio
from datetime import date

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.gateway import ApiError, api
from web.i18n import gettext as _
from web.i18n import ngettext
from web.pages import LABELS, flash, redirect, render, url
from web.routes.admin.common import form_locales, gather, guarded, multilingual, sections, staff
from web.routes.admin.figures import DIMENSIONS

STATUSES = ("proposed", "under_review", "accepted", "rejected", "implemented")
NEXT = {"proposed": ("under_review",), "under_review": ("accepted", "rejected"), "accepted": ("implemented",),
        "rejected": (), "implemented": ()}
FILTERS = ("status", "topic", "topic_id", "flagged", "from", "to", *DIMENSIONS)
PAGE = 50
CONCURRENT_CHANGES = 8  # status changes in flight at once for a bulk change


def _filters(request: Request) -> dict:
    q = request.query_params
    f = {k: q.get(k, "").strip() for k in FILTERS}
    if f["status"] and f["status"] not in STATUSES:
        raise HTTPException(400)
    for k in ("from", "to"):
        if f[k]:
            try:
                date.fromisoformat(f[k])
            except ValueError:
                raise HTTPException(400)
    if f["flagged"] not in ("", "true", "false"):
        raise HTTPException(400)
    return {k: v for k, v in f.items() if v}


async def ideas_page(request: Request, slug: str, pid: str, filters: dict, cursor: str | None) -> dict:
    """One page of the project's ideas for officials: the input manager's route, or (on a platform
    without it) the public ideas list with the filters it knows, the others applied to the page."""
    c = api(request)
    base = f"/cities/{slug}/projects/{pid}"
    try:
        page = await c.get(base + "/inputs", params={**filters, "limit": PAGE, "cursor": cursor})
        return {**page, "full_filters": True}
    except ApiError as exc:
        if exc.status not in (404, 405):
            raise
    page = await c.get(base + "/ideas", params={"status": filters.get("status"), "topic": filters.get("topic"),
                                                "sort": "new", "limit": PAGE, "cursor": cursor})
    items = page.get("items", [])
    if filters.get("flagged"):
        want = filters["flagged"] == "true"
        items = [i for i in items if bool(i.get("flags")) == want]
    if filters.get("from"):
        items = [i for i in items if (i.get("created_at") or "")[:10] >= filters["from"]]
    if filters.get("to"):
        items = [i for i in items if (i.get("created_at") or "")[:10] <= filters["to"]]
    return {"items": items, "next_cursor": page.get("next_cursor"), "full_filters": False}


@guarded
async def manager(request: Request) -> Response:
    city, me = await staff(request, "moderator")
    pid = request.path_params["project"]
    filters = _filters(request)
    cursor = request.query_params.get("cursor")
    # the topics answer lists every idea of every topic: too heavy for this page; the insights link here
    # with a topic's id instead
    project, page = await gather(api(request).get(f"/cities/{city['slug']}/projects/{pid}"),
                                 ideas_page(request, city["slug"], pid, filters, cursor))
    here = url(request, "admin-inputs", city=city["slug"], project=pid, query=filters)
    return render(request, "admin/inputs.html", {
        "sections": sections(request), "project": project, "pid": pid, "filters": filters,
        "items": page.get("items", []), "full_filters": page.get("full_filters"),
        "statuses": STATUSES, "form_locales": form_locales(city),
        "is_admin": me.get("role") == "admin", "back": here,
        "filters_without_topic": {k: v for k, v in filters.items() if k != "topic_id"},
        "next_url": url(request, "admin-inputs", city=city["slug"], project=pid,
                        query={**filters, "cursor": page["next_cursor"]}) if page.get("next_cursor") else None,
        "first_url": here if cursor else None,
    })


async def change_status(request: Request, slug: str, idea_id: str, status: str, feedback: dict | None):
    body = {"status": status}
    if feedback:
        body["feedback"] = feedback
    return await api(request).post(f"/cities/{slug}/ideas/{idea_id}/status", json=body)


@guarded
async def bulk_status(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    pid = request.path_params["project"]
    form = await request.form()
    ids = [i for i in form.getlist("idea_id") if i]
    status = form.get("status") or ""
    back = form.get("back") or url(request, "admin-inputs", city=city["slug"], project=pid)
    if not back.startswith(f"/{city['slug']}/admin/"):
        back = url(request, "admin-inputs", city=city["slug"], project=pid)
    if status not in STATUSES or not ids:
        flash(request, _("Choose one or more ideas and a status."), "error")
        return redirect(back, request)
    feedback = multilingual(form, "feedback", form_locales(city)) or None
    limit = asyncio.Semaphore(CONCURRENT_CHANGES)

    async def one(idea_id):
        async with limit:
            return await change_status(request, city["slug"], idea_id, status, feedback)

    results = await asyncio.gather(*[one(i) for i in ids], return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    for r in failed:
        if not isinstance(r, ApiError) or r.status in (401, 403, 503):
            raise r
    done = len(ids) - len(failed)
    label = str(LABELS["idea_status"][status])
    if done:
        flash(request, ngettext("%(num)s idea is now “%(status)s”.", "%(num)s ideas are now “%(status)s”.", done,
                                status=label), "success")
    if failed:
        reasons = sorted({r.message for r in failed})
        flash(request, ngettext("%(num)s idea could not change: %(reasons)s", "%(num)s ideas could not change: %(reasons)s",
                                len(failed), reasons=" ".join(reasons)), "error")
    return redirect(back, request)


@guarded
async def idea_page(request: Request) -> Response:
    city, me = await staff(request, "moderator")
    iid = request.path_params["idea"]
    idea = await api(request).get(f"/cities/{city['slug']}/ideas/{iid}")
    return render(request, "admin/idea.html", {
        "sections": sections(request), "idea": idea, "next_statuses": NEXT.get(idea.get("status"), ()),
        "form_locales": form_locales(city), "is_admin": me.get("role") == "admin", "errors": {}, "message": None})


@guarded
async def idea_status(request: Request) -> Response:
    city, me = await staff(request, "admin")
    iid = request.path_params["idea"]
    form = await request.form()
    feedback = multilingual(form, "feedback", form_locales(city)) or None
    try:
        await change_status(request, city["slug"], iid, form.get("status") or "", feedback)
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        idea = await api(request).get(f"/cities/{city['slug']}/ideas/{iid}")
        return render(request, "admin/idea.html", {
            "sections": sections(request), "idea": idea, "next_statuses": NEXT.get(idea.get("status"), ()),
            "form_locales": form_locales(city), "is_admin": True, "errors": exc.field_errors(),
            "message": exc.message, "feedback": feedback or {}}, status=exc.status)
    flash(request, _("The status is changed and the author is told."), "success")
    return redirect(url(request, "admin-idea", city=city["slug"], idea=iid), request)


# -- moderation ------------------------------------------------------------------------------------
@guarded
async def moderation(request: Request) -> Response:
    city, _me = await staff(request, "moderator")
    cursor = request.query_params.get("cursor")
    queue = await api(request).get(f"/cities/{city['slug']}/moderation/flags", params={"limit": 50, "cursor": cursor})
    here = url(request, "admin-moderation", city=city["slug"])
    return render(request, "admin/moderation.html", {
        "sections": sections(request), "items": queue.get("items", []),
        "next_url": url(request, "admin-moderation", city=city["slug"], query={"cursor": queue["next_cursor"]})
        if queue.get("next_cursor") else None, "first_url": here if cursor else None})


@guarded
async def moderate(request: Request) -> Response:
    city, _me = await staff(request, "moderator")
    kind, target = request.path_params["kind"], request.path_params["target"]
    if kind not in ("idea", "comment"):
        raise HTTPException(404)
    form = await request.form()
    decision = form.get("decision")
    if decision not in ("restore", "remove"):
        raise HTTPException(400)
    await api(request).post(f"/cities/{city['slug']}/moderation/{kind}/{target}", json={"decision": decision})
    flash(request, _("Restored: the content is visible again.") if decision == "restore"
          else _("Removed: the content is no longer shown."), "success")
    back = form.get("back") or ""
    if not back.startswith(f"/{city['slug']}/admin/"):
        back = url(request, "admin-moderation", city=city["slug"])
    return redirect(back, request)


routes = [
    Route("/{city}/admin/projects/{project}/inputs", manager, name="admin-inputs"),
    Route("/{city}/admin/projects/{project}/inputs/status", bulk_status, methods=["POST"], name="admin-bulk-status"),
    Route("/{city}/admin/ideas/{idea}", idea_page, name="admin-idea"),
    Route("/{city}/admin/ideas/{idea}/status", idea_status, methods=["POST"], name="admin-idea-status"),
    Route("/{city}/admin/moderation", moderation, name="admin-moderation"),
    Route("/{city}/admin/moderation/{kind}/{target}", moderate, methods=["POST"], name="admin-moderate"),
]
