"""A participatory budget: its items and costs, the citizen's ballot under the budget's rules (approval,
knapsack, cumulative) saved as a draft as they go and submitted once, and the results once voting closed:
what is funded and which of the citizen's own choices are."""
from __future__ import annotations

import asyncio
from decimal import Decimal, InvalidOperation

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.gateway import ApiError, api
from web.i18n import _
from web.pages import flash, is_htmx, load_city, redirect, render, url
from web.routes.auth import require_login
from web.routes.listing import every_item
from web.session import current_user


async def _optional(call) -> dict | None:
    """The answer, or None where the API says there is none (404) or none yet (409)."""
    try:
        return await call
    except ApiError as exc:
        if exc.status in (404, 409):
            return None
        raise


async def _nothing():
    return None


def _number(value) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def selection_of(budget: dict, ballot: dict | None) -> dict[str, int]:
    """The citizen's choices as {item_id: weight}: 1 per chosen item, or the points given."""
    if not ballot:
        return {}
    if (budget.get("ballot") or {}).get("type") == "cumulative":
        return {k: int(v) for k, v in (ballot.get("points") or {}).items() if int(v) > 0}
    return {i: 1 for i in ballot.get("item_ids") or []}


def ballot_body(budget: dict, form) -> tuple[dict, dict[str, str]]:
    """The API's ballot ({item_ids} or {points}) from the form, and the fields that are not numbers."""
    if (budget.get("ballot") or {}).get("type") == "cumulative":
        points, errors = {}, {}
        for key in form.keys():
            if key.startswith("points."):
                raw = str(form.get(key) or "").strip()
                if not raw:
                    continue
                try:
                    value = int(raw)
                except ValueError:
                    errors[key] = _("Give a whole number of points.")
                    continue
                if value:
                    points[key[len("points."):]] = value
        return {"points": points}, errors
    return {"item_ids": [str(v) for v in form.getlist("item") if v]}, {}


def summary(budget: dict, items: list[dict], chosen: dict[str, int]) -> dict:
    """What the ballot's bar shows: money spent against the total (knapsack), points given against the
    points to spread (cumulative) or items chosen against the most allowed (approval)."""
    rules = budget.get("ballot") or {}
    kind = rules.get("type", "approval")
    cost_of = {i["id"]: _number(i["cost"]) for i in items}
    count = sum(1 for i in chosen if i in cost_of and chosen[i] > 0)
    out = {"kind": kind, "count": count, "min_items": rules.get("min_items") or 0, "max_items": rules.get("max_items")}
    if kind == "knapsack":
        total = _number(budget.get("total"))
        used = sum((cost_of[i] for i in chosen if i in cost_of), Decimal(0))
        share = rules.get("min_spend_share")
        out.update(used=used, limit=total, left=total - used, over=used > total,
                   floor=(total * _number(share)) if share not in (None, "", 0, "0") else None)
    elif kind == "cumulative":
        limit = int(rules.get("points") or 0)
        used = sum(v for i, v in chosen.items() if i in cost_of)
        out.update(used=used, limit=limit, left=limit - used, over=used > limit, floor=None)
    else:
        limit = rules.get("max_items")
        out.update(used=count, limit=limit, left=(limit - count) if limit else None,
                   over=bool(limit) and count > limit, floor=None)
    out["under_min"] = count < out["min_items"] if kind != "knapsack" else (
        out["floor"] is not None and out["used"] < out["floor"])
    out["percent"] = int(min(100, 100 * out["used"] / out["limit"])) if out["limit"] else 0
    return out


async def _load(request: Request, city: dict) -> dict:
    slug, pid = city["slug"], request.path_params["project"]
    client = api(request)
    base = f"/cities/{slug}/projects/{pid}"
    project, budget, items = await asyncio.gather(
        client.get(base), _optional(client.get(base + "/budget")),
        _optional(every_item(client, base + "/budget/items")))
    if project.get("method") != "budgeting":
        raise HTTPException(404)
    signed_in = current_user(request) is not None
    closed = bool(budget) and budget.get("phase") == "closed"
    ballot, results = await asyncio.gather(
        _optional(client.get(base + "/ballot")) if signed_in and budget else _nothing(),
        _optional(client.get(base + "/budget/results")) if closed else _nothing())
    return {"project": project, "budget": budget, "items": items or [], "ballot": ballot, "results": results,
            "base": base}


def _results_view(data: dict) -> dict:
    """The results joined with the items, and the citizen's own submitted choices that are funded."""
    results, items, ballot = data["results"], data["items"], data["ballot"]
    if not results:
        return {}
    row_of = {r["item_id"]: r for r in results.get("items") or []}
    rows = [{**i, **row_of.get(i["id"], {"votes": 0, "selected": False})} for i in items]
    rows.sort(key=lambda r: (not r["selected"], -(r.get("points") or r.get("votes") or 0)))
    counted = bool(ballot) and ballot.get("status") == "submitted"
    own = set(selection_of(data["budget"], ballot)) if counted else set()
    own_rows = [r for r in rows if r["id"] in own]
    total = _number(results.get("total"))
    spent = _number(results.get("spent"))
    return {"rows": rows, "funded": [r for r in rows if r["selected"]], "spent": spent, "total": total,
            "percent": int(100 * spent / total) if total else 0, "ballots": results.get("ballots", 0),
            "own": own, "own_rows": own_rows, "own_funded": [r for r in own_rows if r["selected"]],
            "counted": counted}


async def _page(request: Request, city: dict, data: dict | None = None, chosen: dict | None = None,
                errors: dict | None = None, message: str | None = None, status: int = 200) -> Response:
    data = data or await _load(request, city)
    budget = data["budget"]
    if chosen is None:
        chosen = selection_of(budget or {}, data["ballot"])
    return render(request, "budget/page.html", {
        **data, "chosen": chosen, "sum": summary(budget, data["items"], chosen) if budget else None,
        "mine": selection_of(budget or {}, data["ballot"]),
        "submitted": bool(data["ballot"]) and data["ballot"].get("status") == "submitted",
        "outcome": _results_view(data), "errors": errors or {}, "message": message,
    }, status=status)


async def budget_page(request: Request) -> Response:
    city = await load_city(request)
    return await _page(request, city)


async def ballot(request: Request) -> Response:
    """POST from the form (`action` save or submit), or PUT from htmx as the citizen goes (a draft)."""
    city = await load_city(request)
    slug, pid = city["slug"], request.path_params["project"]
    base = f"/cities/{slug}/projects/{pid}"
    client = api(request)
    budget, items = await asyncio.gather(client.get(base + "/budget"), every_item(client, base + "/budget/items"))
    form = await request.form()
    body, local_errors = ballot_body(budget, form)
    chosen = {k: v for k, v in (body.get("points") or {i: 1 for i in body.get("item_ids", [])}).items()}
    submit = request.method == "POST" and form.get("action") == "submit"
    here = url(request, "budget", city=slug, project=pid)
    if current_user(request) is None:
        return require_login(request, slug, next_path=here + "#ballot", pending={
            "method": "PUT", "path": base + "/ballot", "json": body, "done": _("Your draft ballot is saved.")})
    partial = request.method == "PUT" and is_htmx(request)
    message, errors, status, saved = None, dict(local_errors), 200, None
    if local_errors:
        message, status = _("Please correct the points below."), 422
    else:
        try:
            if submit:
                await client.post(base + "/ballot/submit", json=body)
            else:
                saved = await client.put(base + "/ballot", json=body)
        except ApiError as exc:
            if exc.status not in (409, 422):
                raise
            message, errors, status = exc.message, exc.field_errors(), exc.status
    if partial:
        # htmx swaps only successful answers: a refusal comes as 200 with the refusal in the fragment
        return render(request, "budget/_status.html", {
            "budget": budget, "sum": summary(budget, items, chosen), "status_message": message, "errors": errors,
            "saved": saved, "project": {"id": pid}})
    if status == 200:
        flash(request, _("Your ballot is submitted. Thank you for taking part.") if submit
              else _("Your draft ballot is saved. Submit it when you are ready."), "success")
        return redirect(here + ("#top" if submit else "#ballot"), request)
    data = await _load(request, city)
    return await _page(request, city, data, chosen=chosen, errors=errors, message=message, status=status)


routes = [
    Route("/{city}/projects/{project}/budget", budget_page, methods=["GET"], name="budget"),
    Route("/{city}/projects/{project}/budget/ballot", ballot, methods=["POST", "PUT"], name="ballot"),
]
