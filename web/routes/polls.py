"""A poll: its questions, the answer form, and the results once the citizen has answered (or the poll closed)."""
from __future__ import annotations

import asyncio

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.gateway import ApiError, api
from web.i18n import _
from web.pages import flash, load_city, redirect, render, url
from web.routes.auth import require_login
from web.routes.listing import every_item
from web.session import current_user


async def _nothing():
    return None


async def _own_response(client, path: str) -> dict | None:
    try:
        return (await client.get(path))["answers"]
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise


def bars(question: dict) -> list[dict]:
    """Each option of a question's results with its count and its share of the question's respondents
    (a percentage, rounded: the width of its bar and the number written beside it)."""
    respondents = question.get("respondents") or 0
    return [{**o, "percent": round(100 * o["count"] / respondents) if respondents else 0}
            for o in question.get("options") or []]


async def _show(request: Request, city: dict, errors: dict | None = None, chosen: dict | None = None,
                message: str | None = None, status: int = 200) -> Response:
    slug, pid = city["slug"], request.path_params["project"]
    client = api(request)
    base = f"/cities/{slug}/projects/{pid}"
    signed_in = current_user(request) is not None
    project, questions, results, mine = await asyncio.gather(
        client.get(base), every_item(client, base + "/poll/questions"), client.get(base + "/poll/results"),
        _own_response(client, base + "/poll/response") if signed_in else _nothing())
    if project.get("method") != "poll":
        raise HTTPException(404)
    results_of = {q["id"]: bars(q) for q in results.get("questions") or []}
    respondents_of = {q["id"]: q.get("respondents", 0) for q in results.get("questions") or []}
    return render(request, "polls/page.html", {
        "project": project, "questions": questions, "results": results, "results_of": results_of,
        "respondents_of": respondents_of, "mine": mine or {}, "answered": mine is not None,
        "show_results": mine is not None or project.get("status") == "closed",
        "open": project.get("status") == "active", "errors": errors or {}, "chosen": chosen or mine or {},
        "message": message,
    }, status=status)


async def poll_page(request: Request) -> Response:
    city = await load_city(request)
    return await _show(request, city)


async def answer(request: Request) -> Response:
    city = await load_city(request)
    slug, pid = city["slug"], request.path_params["project"]
    form = await request.form()
    answers = {}
    for key in form.keys():
        if key.startswith("q."):
            chosen = [str(v) for v in form.getlist(key) if v]
            if chosen:
                answers[key[2:]] = chosen
    here = url(request, "poll", city=slug, project=pid)
    path = f"/cities/{slug}/projects/{pid}/poll/response"
    if current_user(request) is None:
        return require_login(request, slug, next_path=here + "#results", pending={
            "method": "PUT", "path": path, "json": {"answers": answers}, "done": _("Your answers are saved.")})
    if not answers:
        return await _show(request, city, errors={"answers": _("Choose an answer to at least one question.")},
                           message=_("Please answer the questions below."), status=422)
    try:
        await api(request).put(path, json={"answers": answers})
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        return await _show(request, city, errors=exc.field_errors(), chosen=answers, message=exc.message,
                           status=exc.status)
    flash(request, _("Thank you: your answers are saved. Here are the results so far."), "success")
    return redirect(here + "#results", request)


routes = [
    Route("/{city}/projects/{project}/poll", poll_page, methods=["GET"], name="poll"),
    Route("/{city}/projects/{project}/poll", answer, methods=["POST"]),
]
