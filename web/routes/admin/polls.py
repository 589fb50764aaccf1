"""Polls: build a poll's questions in the city's languages and see its results split by group as charts."""
from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web import i18n
from web.gateway import ApiError, api
from web.i18n import gettext as _
from web.pages import flash, redirect, render, url
from web.routes.admin import figures
from web.routes.admin.common import download, form_locales, gather, guarded, multilingual, sections, staff


def _by(request: Request) -> str | None:
    by = request.query_params.get("by") or None
    if by and by not in figures.DIMENSIONS:
        raise HTTPException(404)
    return by


async def _poll(request: Request, city: dict, pid: str, by: str | None):
    c = api(request)
    base = f"/cities/{city['slug']}/projects/{pid}"
    return await gather(c.get(base), c.get(base + "/poll/questions", params={"limit": 100}),
                        c.get(base + "/poll/results", params={"by": by}))


def _charts(request: Request, city: dict, results: dict) -> list:
    t, locale = i18n.translations(), request.state.locale
    fallbacks = tuple(city.get("locales") or ())
    return [figures.poll_chart(q, results, t, locale, lambda v: i18n.localized(v, locale, fallbacks))
            for q in results.get("questions", [])]


async def _page(request: Request, city: dict, pid: str, errors=None, message=None, status=200) -> Response:
    by = _by(request)
    project, questions, results = await _poll(request, city, pid, by)
    t = i18n.translations()
    return render(request, "admin/poll.html", {
        "sections": sections(request), "project": project, "pid": pid, "questions": questions.get("items", []),
        "results": results, "charts": _charts(request, city, results), "by": by,
        "dimensions": [(d, figures.dimension_name(d, t)) for d in figures.DIMENSIONS],
        "form_locales": form_locales(city), "errors": errors or {}, "message": message,
        "chart_urls": lambda q: {fmt: url(request, "admin-poll-chart", city=city["slug"], project=pid, question=q,
                                          fmt=fmt, query={"by": by}) for fmt in ("svg", "png", "csv")},
    }, status=status)


@guarded
async def poll_page(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    return await _page(request, city, request.path_params["project"])


@guarded
async def add_question(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    pid = request.path_params["project"]
    form = await request.form()
    locales = form_locales(city)
    lines = {loc: [x.strip() for x in (form.get(f"options_{loc}") or "").splitlines() if x.strip()] for loc in locales}
    count = max((len(v) for v in lines.values()), default=0)
    options = [{"text": {loc: lines[loc][k] for loc in locales if k < len(lines[loc])}} for k in range(count)]
    body = {"text": multilingual(form, "text", locales), "kind": form.get("kind") or "single", "options": options}
    if form.get("max_choices"):
        try:
            body["max_choices"] = int(form["max_choices"])
        except ValueError:
            return await _page(request, city, pid, {"max_choices": _("Give a whole number.")},
                               _("Check the highlighted fields."), 422)
    try:
        await api(request).post(f"/cities/{city['slug']}/projects/{pid}/poll/questions", json=body)
    except ApiError as exc:
        if exc.status in (409, 422):
            return await _page(request, city, pid, exc.field_errors(), exc.message, exc.status)
        raise
    flash(request, _("The question is added."), "success")
    return redirect(url(request, "admin-poll", city=city["slug"], project=pid), request)


@guarded
async def poll_chart(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    pid = request.path_params["project"]
    _p, _q, results = await _poll(request, city, pid, _by(request))
    chart = next((c for c in _charts(request, city, results)
                  if c.name == f"poll-{request.path_params['question']}"), None)
    if chart is None:
        raise HTTPException(404)
    return download(chart, request.path_params["fmt"])


routes = [
    Route("/{city}/admin/projects/{project}/poll", poll_page, name="admin-poll"),
    Route("/{city}/admin/projects/{project}/poll/questions", add_question, methods=["POST"], name="admin-poll-question"),
    Route("/{city}/admin/projects/{project}/poll/charts/{question}.{fmt}", poll_chart, name="admin-poll-chart"),
]
