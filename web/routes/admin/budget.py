"""Participatory budgets: the budget, ballot rules and phases; items, also from accepted ideas; pabulib
import (with the API's line-numbered errors) and export; the results of the rules side by side."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web import charts, i18n, insights
from web.gateway import ApiError, api
from web.i18n import gettext as _
from web.pages import flash, redirect, render, url
from web.routes.admin import figures
from web.routes.admin.common import form_locales, gather, guarded, multilingual, optional, sections, staff

BALLOTS = ("approval", "knapsack", "cumulative")
PHASES = ("collecting", "voting", "closed")
RULE_NAMES = {"greedy": "Greedy", "mes": "Method of Equal Shares", "phragmen": "Phragmén"}


def _base(city: dict, pid: str) -> str:
    return f"/cities/{city['slug']}/projects/{pid}"


async def _all_items(request: Request, city: dict, pid: str) -> list[dict]:
    items, cursor = [], None
    while True:
        page = await api(request).get(_base(city, pid) + "/budget/items", params={"limit": 100, "cursor": cursor})
        items += page.get("items", [])
        cursor = page.get("next_cursor")
        if not cursor:
            return items


async def _accepted_ideas(request: Request, city: dict) -> list[dict]:
    """The city's accepted ideas (of every project that takes ideas): the candidates for budget items."""
    c = api(request)
    projects = await c.get(f"/cities/{city['slug']}/projects", params={"limit": 100})
    pids = [p["id"] for p in projects.get("items", []) if p.get("method") in ("ideation", "budgeting")]
    pages = await gather(*[c.get(f"/cities/{city['slug']}/projects/{p}/ideas", params={"status": "accepted", "limit": 100})
                           for p in pids])
    return [i for page in pages for i in page.get("items", [])]


async def _page(request: Request, city: dict, pid: str, errors: dict | None = None, message: str | None = None,
                import_errors: list | None = None, status: int = 200) -> Response:
    c = api(request)
    project, budget = await gather(c.get(_base(city, pid)), optional(c.get(_base(city, pid) + "/budget")))
    items, accepted = [], []
    if budget:
        items, accepted = await gather(_all_items(request, city, pid), _accepted_ideas(request, city))
        used = {i.get("idea_id") for i in items}
        accepted = [i for i in accepted if i["id"] not in used]
    return render(request, "admin/budget.html", {
        "sections": sections(request), "project": project, "pid": pid, "budget": budget, "items": items,
        "accepted": accepted, "ballots": BALLOTS, "phases": PHASES, "rules": figures.RULES, "rule_names": RULE_NAMES,
        "form_locales": form_locales(city), "errors": errors or {}, "message": message,
        "import_errors": import_errors or [], "next_phases": _next_phases((budget or {}).get("phase"))},
        status=status)


def _next_phases(phase: str | None) -> list[str]:
    return {"collecting": ["voting", "closed"], "voting": ["closed"]}.get(phase or "", [])


@guarded
async def budget_page(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    return await _page(request, city, request.path_params["project"])


def _number(value: str | None, name: str, errors: dict, integer: bool = False):
    if value is None or not str(value).strip():
        return None
    try:
        n = Decimal(str(value).replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        errors[name] = _("Give a number.")
        return None
    return int(n) if integer or n == n.to_integral_value() else float(n)


@guarded
async def save_budget(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    pid = request.path_params["project"]
    form = await request.form()
    errors: dict = {}
    ballot = {"type": form.get("ballot_type") or "approval"}
    for key in ("min_items", "max_items", "points"):
        v = _number(form.get(key), key, errors, integer=True)
        if v is not None:
            ballot[key] = v
    share = _number(form.get("min_spend_share"), "min_spend_share", errors)
    if share is not None:
        ballot["min_spend_share"] = share
    body = {"total": _number(form.get("total"), "total", errors), "currency": (form.get("currency") or "EUR").upper(),
            "ballot": ballot, "rule": form.get("rule") or "mes"}
    if form.get("phase"):
        body["phase"] = form.get("phase")
    if errors:
        return await _page(request, city, pid, errors, _("Check the highlighted fields."), status=422)
    body = {k: v for k, v in body.items() if v is not None}
    try:
        await api(request).put(_base(city, pid) + "/budget", json=body)
    except ApiError as exc:
        if exc.status in (409, 422):
            return await _page(request, city, pid, exc.field_errors(), exc.message, status=exc.status)
        raise
    flash(request, _("The budget is saved."), "success")
    return redirect(url(request, "admin-budget", city=city["slug"], project=pid), request)


@guarded
async def change_phase(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    pid = request.path_params["project"]
    form = await request.form()
    phase = form.get("phase")
    if phase not in PHASES:
        raise HTTPException(400)
    try:
        await api(request).put(_base(city, pid) + "/budget", json={"phase": phase})
    except ApiError as exc:
        if exc.status in (409, 422):
            return await _page(request, city, pid, {}, exc.message, status=exc.status)
        raise
    flash(request, _("Voting is open.") if phase == "voting" else _("The budget is closed and its results are published."),
          "success")
    return redirect(url(request, "admin-budget", city=city["slug"], project=pid), request)


@guarded
async def add_item(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    pid = request.path_params["project"]
    form = await request.form()
    errors: dict = {}
    locales = form_locales(city)
    title = multilingual(form, "title", locales)
    idea_id = form.get("idea_id") or None
    if idea_id and not title:
        idea = await api(request).get(f"/cities/{city['slug']}/ideas/{idea_id}")
        title = {locales[0]: idea["title"]}
    body = {"title": title, "cost": _number(form.get("cost"), "cost", errors)}
    if idea_id:
        body["idea_id"] = idea_id
    if errors:
        return await _page(request, city, pid, errors, _("Check the highlighted fields."), status=422)
    try:
        await api(request).post(_base(city, pid) + "/budget/items", json=body)
    except ApiError as exc:
        if exc.status in (409, 422):
            return await _page(request, city, pid, exc.field_errors(), exc.message, status=exc.status)
        raise
    flash(request, _("The item is added."), "success")
    return redirect(url(request, "admin-budget", city=city["slug"], project=pid), request)


@guarded
async def remove_item(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    pid = request.path_params["project"]
    await api(request).delete(_base(city, pid) + f"/budget/items/{request.path_params['item']}")
    flash(request, _("The item is removed."), "success")
    return redirect(url(request, "admin-budget", city=city["slug"], project=pid), request)


@guarded
async def import_pabulib(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    pid = request.path_params["project"]
    form = await request.form()
    upload = form.get("file")
    text = ""
    if upload is not None and hasattr(upload, "read"):
        text = (await upload.read()).decode("utf-8", errors="replace")
    if not text.strip():
        text = form.get("text") or ""
    try:
        answer = await api(request).post(_base(city, pid) + "/budget/import", content=text.encode(),
                                         headers={"Content-Type": "text/plain; charset=utf-8"})
    except ApiError as exc:
        if exc.status in (409, 413, 422):
            return await _page(request, city, pid, {}, exc.message, import_errors=exc.details, status=exc.status)
        raise
    flash(request, _("Imported %(items)s items and %(ballots)s ballots; the budget is closed with its results.",
                     items=len(answer.get("items", {})), ballots=answer.get("ballots", 0)), "success")
    return redirect(url(request, "admin-budget-results", city=city["slug"], project=pid), request)


@guarded
async def export_pabulib(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    pid = request.path_params["project"]
    response = await api(request).get(_base(city, pid) + "/budget/export", raw=True)
    return Response(response.content, media_type="text/plain; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="budget-{pid}.pb"'})


def _dimension(request: Request) -> str | None:
    by = request.query_params.get("by") or None
    if by and by not in figures.DIMENSIONS:
        raise HTTPException(404)
    return by


async def _results(request: Request, city: dict, pid: str, by: str | None):
    c = api(request)
    base = _base(city, pid)
    project, budget, items, pb, *answers = await gather(
        c.get(base), c.get(base + "/budget"), _all_items(request, city, pid),
        optional(c.get(base + "/budget/export", raw=True)),
        *[c.get(base + "/budget/results", params={"rule": r, "by": by}) for r in figures.RULES])
    results = dict(zip(figures.RULES, answers))
    outcomes = figures.compare_rules(results, items, pb.text if pb is not None else None)
    return project, budget, items, results, outcomes


def _results_chart(outcomes, budget, tr, locale) -> charts.Chart:
    fmt = figures.number_format(locale)
    return charts.bar_chart(
        "budget-rules", tr.gettext("Voters with at least one funded item, per rule"),
        tr.gettext("For each rule, how many voters see at least one of the items they chose funded."),
        [(RULE_NAMES[o.rule], o.satisfied or 0) for o in outcomes],
        columns=[tr.gettext("Rule"), tr.gettext("Voters")], fmt=fmt)


@guarded
async def results_page(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    pid = request.path_params["project"]
    by = _dimension(request)
    project, budget, items, results, outcomes = await _results(request, city, pid, by)
    t = i18n.translations()
    groups = []
    if by:
        names = [g["group"] for g in results[figures.RULES[0]].get("groups", [])]
        for name in names:
            row = {"group": name, "label": insights.group_name(by, name, t), "rules": {}}
            for rule in figures.RULES:
                g = next((x for x in results[rule].get("groups", []) if x["group"] == name), None)
                row["voters"] = g["voters"] if g else 0
                row["rules"][rule] = g
            groups.append(row)
    return render(request, "admin/budget_results.html", {
        "sections": sections(request), "project": project, "pid": pid, "budget": budget, "items": items,
        "results": results, "outcomes": outcomes, "rules": figures.RULES, "rule_names": RULE_NAMES, "by": by,
        "dimensions": [(d, figures.dimension_name(d, t)) for d in figures.DIMENSIONS], "groups": groups,
        "chart": _results_chart(outcomes, budget, t, request.state.locale),
        "votes": {r["item_id"]: r.get("votes", 0) for r in results[figures.RULES[0]].get("items", [])},
    })


routes = [
    Route("/{city}/admin/projects/{project}/budget", budget_page, name="admin-budget"),
    Route("/{city}/admin/projects/{project}/budget/settings", save_budget, methods=["POST"], name="admin-budget-save"),
    Route("/{city}/admin/projects/{project}/budget/phase", change_phase, methods=["POST"], name="admin-budget-phase"),
    Route("/{city}/admin/projects/{project}/budget/items", add_item, methods=["POST"], name="admin-budget-item"),
    Route("/{city}/admin/projects/{project}/budget/items/{item}/remove", remove_item, methods=["POST"],
          name="admin-budget-item-remove"),
    Route("/{city}/admin/projects/{project}/budget/import", import_pabulib, methods=["POST"], name="admin-budget-import"),
    Route("/{city}/admin/projects/{project}/budget/export.pb", export_pabulib, name="admin-budget-export"),
    Route("/{city}/admin/projects/{project}/budget/results", results_page, name="admin-budget-results"),
]
