"""Insights for a project, the page officials come for: its topics as a picture, the topic x group
heatmap with its lifts and significance, the strongest differences as sentences, participation over
time and by group. Every chart has its table and SVG, PNG and CSV downloads."""
from __future__ import annotations

import csv
import io
import math
from datetime import date, timedelta

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web import charts as chartlib
from web import insights
from web.gateway import ApiError, api
from web.pages import render, url
from web.routes.admin import figures
from web.routes.admin.common import download, gather, guarded, optional, sections, staff, tr

REPRESENTATIVES = 3     # ideas shown under each topic
TOPICS_WITH_IDEAS = 12  # topics whose representative ideas are shown
CELL_PAGE = 50


def _period(request: Request) -> dict:
    """The dashboard's period from the query (default: the last 90 days)."""
    q = request.query_params
    try:
        to = date.fromisoformat(q["to"]) if q.get("to") else date.today()
        start = date.fromisoformat(q["from"]) if q.get("from") else to - timedelta(days=89)
    except ValueError:
        raise HTTPException(400)
    return {"from": start.isoformat(), "to": to.isoformat()}


def _dimension(request: Request) -> str:
    d = request.query_params.get("dimension") or "age_group"
    if d not in figures.DIMENSIONS:
        raise HTTPException(404)
    return d


async def _data(request: Request, city: dict, pid: str, period: dict) -> dict:
    c = api(request)
    base = f"/cities/{city['slug']}/projects/{pid}"
    project, topics, dashboard, *heatmaps = await gather(
        c.get(base), c.get(base + "/topics"),
        c.get(f"/cities/{city['slug']}/dashboard", params={"project_id": pid, **period}),
        *[c.get(base + "/heatmap", params={"dimension": d}) for d in figures.DIMENSIONS])
    for h in heatmaps:  # the overall test: the API gives it; if an older one does not, compute it
        if "chi2" not in h:
            h.update(insights.overall_test(h.get("cells", [])), computed_here=True)
    return {"project": project, "topics": topics, "dashboard": dashboard,
            "heatmaps": dict(zip(figures.DIMENSIONS, heatmaps))}


def _links(request: Request, city: dict, pid: str):
    def topic(t: dict) -> str:
        return url(request, "admin-topic", city=city["slug"], project=pid, topic=t["id"])

    def cell(dimension: str):
        return lambda c: url(request, "admin-cell", city=city["slug"], project=pid,
                             query={"dimension": dimension, "topic_id": c["topic_id"], "group": c["group"]})
    return topic, cell


def _charts(request: Request, city: dict, pid: str, data: dict, dimension: str, linked: bool = True) -> dict:
    """The page's charts; a downloaded file stands alone, so its pictures carry no links."""
    t, locale = tr(), request.state.locale
    topic_href, cell_href = _links(request, city, pid)
    if not linked:
        topic_href, cell_href = (lambda _t: None), (lambda _d: lambda _c: None)
    out = {"participation": figures.participation_chart(data["dashboard"], t, locale)}
    if data["topics"].get("topics"):
        out["topics"] = figures.topics_chart(data["topics"], t, locale, topic_href)
    h = data["heatmaps"][dimension]
    if h.get("cells"):
        out[f"heatmap-{dimension}"] = figures.heatmap_chart(h, t, locale, cell_href(dimension))
    for d in figures.DIMENSIONS:
        out[f"participants-{d}"] = figures.participants_chart(data["dashboard"], d, t, locale)
    return out


async def _representatives(request: Request, city: dict, topics: list[dict]) -> dict[str, dict]:
    """Titles of the ideas closest to each topic's centre (the topics answer lists them first)."""
    ids = [i for t in topics[:TOPICS_WITH_IDEAS] for i in t.get("idea_ids", [])[:REPRESENTATIVES]]
    c = api(request)
    found = await gather(*[optional(c.get(f"/cities/{city['slug']}/ideas/{i}")) for i in ids])
    return {i: idea for i, idea in zip(ids, found) if idea}


@guarded
async def insights_page(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    pid = request.path_params["project"]
    dimension, period = _dimension(request), _period(request)
    data = await _data(request, city, pid, period)
    charts = _charts(request, city, pid, data, dimension)
    topics = sorted(data["topics"].get("topics", []), key=lambda x: -x.get("size", 0))
    ideas = await _representatives(request, city, topics)
    t, locale = tr(), request.state.locale
    found = {d: insights.findings(data["heatmaps"][d]) for d in figures.DIMENSIONS}
    sentences = [(f, insights.sentence(f, t, locale), insights.sentence(f, t, locale, html=False))
                 for d in figures.DIMENSIONS for f in found[d]]
    sentences.sort(key=lambda s: (-abs(_log(s[0].ratio)), s[0].p_value))
    heat = data["heatmaps"][dimension]
    return render(request, "admin/insights.html", {
        "sections": sections(request), "project": data["project"], "pid": pid, "topics": topics,
        "topic_status": data["topics"], "representatives": ideas, "charts": charts, "dimension": dimension,
        "dimensions": [(d, figures.dimension_name(d, t)) for d in figures.DIMENSIONS], "heatmap": heat,
        "heat_groups": [(g, insights.group_name(dimension, g, t)) for g in heat.get("groups", [])],
        "heat_cells": {(c["topic_id"], c["group"]): c for c in heat.get("cells", [])},
        "sentences": sentences[:10], "plain": "\n".join(s[2] for s in sentences[:10]),
        "dashboard": data["dashboard"], "period": period, "p_text": lambda p: insights.p_text(p, locale),
        "chart_urls": lambda name: {fmt: url(request, "admin-chart", city=city["slug"], project=pid, chart=name,
                                             fmt=fmt, query=period) for fmt in ("svg", "png", "csv")},
        "lift_step": chartlib.lift_step, "mark": chartlib.significance_mark,
    })


def _log(x: float) -> float:
    return 99.0 if math.isinf(x) else (math.log(x) if x > 0 else -98.0)


@guarded
async def chart_download(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    pid, name, fmt = request.path_params["project"], request.path_params["chart"], request.path_params["fmt"]
    dimension = name.split("-", 1)[1] if name.startswith("heatmap-") else "age_group"
    if dimension not in figures.DIMENSIONS:
        raise HTTPException(404)
    data = await _data(request, city, pid, _period(request))
    chart = _charts(request, city, pid, data, dimension, linked=False).get(name)
    if chart is None:
        raise HTTPException(404)
    return download(chart, fmt)


async def _ideas_of_cell(request: Request, city: dict, pid: str, topic_id: int, dimension: str, group: str,
                         cursor: str | None) -> tuple[list[dict], str | None]:
    """The ideas of one heatmap cell: the input manager's route when the platform has it, else the
    project's export (which carries every idea's topic and author groups)."""
    c = api(request)
    base = f"/cities/{city['slug']}/projects/{pid}"
    try:
        page = await c.get(base + "/inputs", params={"topic_id": topic_id, dimension: group, "limit": CELL_PAGE,
                                                     "cursor": cursor})
        return page.get("items", []), page.get("next_cursor")
    except ApiError as exc:
        if exc.status not in (404, 405):
            raise
    response = await c.get(base + "/export.csv", raw=True)
    rows = csv.DictReader(io.StringIO(response.text.lstrip("\ufeff")))
    column = f"author_{dimension}"
    items = [{"id": r["idea_id"], "title": r["title"].removeprefix("'"), "status": r["status"],
              "up_votes": int(r["up_votes"] or 0), "down_votes": int(r["down_votes"] or 0),
              "created_at": r["created_at"]}
             for r in rows if r["topic_id"] == str(topic_id) and r[column] == group]
    return items, None


@guarded
async def cell_page(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    pid = request.path_params["project"]
    q = request.query_params
    dimension = _dimension(request)
    try:
        topic_id = int(q.get("topic_id", ""))
    except ValueError:
        raise HTTPException(404)
    group = q.get("group") or ""
    project, heat = await gather(api(request).get(f"/cities/{city['slug']}/projects/{pid}"),
                                 api(request).get(f"/cities/{city['slug']}/projects/{pid}/heatmap",
                                                  params={"dimension": dimension}))
    cell = next((c for c in heat.get("cells", []) if c["topic_id"] == topic_id and str(c["group"]) == group), None)
    if cell is None:
        raise HTTPException(404)
    label = next((t.get("label") for t in heat.get("topics", []) if t.get("id") == topic_id), str(topic_id))
    items, next_cursor = await _ideas_of_cell(request, city, pid, topic_id, dimension, group, q.get("cursor"))
    t = tr()
    return render(request, "admin/cell.html", {
        "sections": sections(request), "project": project, "pid": pid, "cell": cell, "topic_label": label,
        "dimension_name": figures.dimension_name(dimension, t), "group_name": insights.group_name(dimension, group, t),
        "items": items, "next_url": url(request, "admin-cell", city=city["slug"], project=pid,
                                        query={**dict(q), "cursor": next_cursor}) if next_cursor else None,
        "p_text": lambda p: insights.p_text(p, request.state.locale),
    })


@guarded
async def topic_page(request: Request) -> Response:
    city, _me = await staff(request, "admin")
    pid = request.path_params["project"]
    c = api(request)
    project, topics = await gather(c.get(f"/cities/{city['slug']}/projects/{pid}"),
                                   c.get(f"/cities/{city['slug']}/projects/{pid}/topics"))
    topic = next((x for x in topics.get("topics", []) if str(x["id"]) == request.path_params["topic"]), None)
    if topic is None:
        raise HTTPException(404)
    try:
        start = max(0, int(request.query_params.get("start", "0")))
    except ValueError:
        start = 0
    ids = topic.get("idea_ids", [])[start:start + CELL_PAGE]
    found = await gather(*[optional(c.get(f"/cities/{city['slug']}/ideas/{i}")) for i in ids])
    more = start + CELL_PAGE < len(topic.get("idea_ids", []))
    return render(request, "admin/topic.html", {
        "sections": sections(request), "project": project, "pid": pid, "topic": topic,
        "items": [i for i in found if i],
        "next_url": url(request, "admin-topic", city=city["slug"], project=pid, topic=topic["id"],
                        query={"start": start + CELL_PAGE}) if more else None,
    })


routes = [
    Route("/{city}/admin/projects/{project}/insights", insights_page, name="admin-insights"),
    Route("/{city}/admin/projects/{project}/insights/cell", cell_page, name="admin-cell"),
    Route("/{city}/admin/projects/{project}/insights/topics/{topic}", topic_page, name="admin-topic"),
    Route("/{city}/admin/projects/{project}/insights/{chart}.{fmt}", chart_download, name="admin-chart"),
]
